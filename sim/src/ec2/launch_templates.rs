//! Launch templates (DRS launches recovery instances from one per source server):
//! DescribeLaunchTemplateVersions, CreateLaunchTemplateVersion (ClientToken idempotent),
//! ModifyLaunchTemplate (default version).

use super::model::{LaunchTemplate, LaunchTemplateVersion};
use super::partition::with_partition;
use super::template_data;
use super::wire::{invalid_param, max_results, next_token, reply, token_for};
use crate::clock::iso;
use crate::ctx::Ctx;
use crate::protocol::form::Form;
use crate::protocol::xml::{el, opt};
use crate::protocol::{ApiError, Reply};
use crate::world::Partition;

fn find<'a>(p: &'a mut Partition, form: &Form) -> Result<&'a mut LaunchTemplate, ApiError> {
    if let Some(id) = form.get("LaunchTemplateId") {
        return p.ec2.launch_templates.get_mut(id).ok_or_else(|| {
            ApiError::new(
                400,
                "InvalidLaunchTemplateId.NotFound",
                format!("The specified launch template, with template ID {id}, does not exist."),
            )
        });
    }
    if let Some(name) = form.get("LaunchTemplateName") {
        return p.ec2.launch_templates.values_mut().find(|t| t.name == name).ok_or_else(|| {
            ApiError::new(
                400,
                "InvalidLaunchTemplateName.NotFoundException",
                format!("The specified launch template, with template name {name}, does not exist."),
            )
        });
    }
    Err(ApiError::new(400, "MissingParameter", "The request must contain the parameter LaunchTemplateId or LaunchTemplateName"))
}

/// `1`, `$Latest` or `$Default` to a version number of `t`.
fn resolve(t: &LaunchTemplate, v: &str) -> Result<u64, ApiError> {
    let n = match v {
        "$Latest" => t.latest(),
        "$Default" => t.default_version,
        n => n.parse().map_err(|_| invalid_param(format!("Version '{n}' is not valid")))?,
    };
    if t.versions.iter().any(|x| x.number == n) {
        Ok(n)
    } else {
        Err(ApiError::new(
            400,
            "InvalidLaunchTemplateId.VersionNotFound",
            format!("Could not find launch template version {v} for template {}", t.id),
        ))
    }
}

fn version_xml(t: &LaunchTemplate, v: &LaunchTemplateVersion) -> String {
    format!(
        "{}{}{}{}{}<createdBy>arn:aws:iam::000000000000:role/drs</createdBy><defaultVersion>{}</defaultVersion>{}",
        el("launchTemplateId", &t.id),
        el("launchTemplateName", &t.name),
        el("versionNumber", &v.number.to_string()),
        opt("versionDescription", v.description.as_deref()),
        el("createTime", &iso(v.created)),
        v.number == t.default_version,
        template_data::to_xml(&v.data)
    )
}

pub fn describe_versions(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let page = max_results(form, 1, 200)?;
    with_partition(ctx, |p| {
        let t = find(p, form)?;
        let asked = form.list("LaunchTemplateVersion");
        let mut numbers: Vec<u64> = if asked.is_empty() {
            t.versions.iter().map(|v| v.number).collect()
        } else {
            asked.iter().map(|v| resolve(t, v)).collect::<Result<_, _>>()?
        };
        let bound = |k: &str| {
            form.get(k).map(|v| v.parse::<u64>().map_err(|_| invalid_param(format!("{k} '{v}' is not valid")))).transpose()
        };
        let (min, max) = (bound("MinVersion")?, bound("MaxVersion")?);
        numbers.retain(|n| min.is_none_or(|m| *n >= m) && max.is_none_or(|m| *n <= m));
        numbers.sort_unstable_by(|a, b| b.cmp(a));
        numbers.dedup();
        let start = next_token(form, numbers.len())?;
        let end = page.map_or(numbers.len(), |n| (start + n).min(numbers.len()));
        let items: String = numbers[start..end]
            .iter()
            .filter_map(|n| t.versions.iter().find(|v| v.number == *n))
            .map(|v| format!("<item>{}</item>", version_xml(t, v)))
            .collect();
        let token = if end < numbers.len() { el("nextToken", &token_for(end)) } else { String::new() };
        Ok(reply(
            ctx,
            "DescribeLaunchTemplateVersions",
            &format!("<launchTemplateVersionSet>{items}</launchTemplateVersionSet>{token}"),
        ))
    })
}

pub fn create_version(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let data = form.subtree("LaunchTemplateData");
    if data.is_empty() && form.get("SourceVersion").is_none() {
        return Err(ApiError::new(400, "MissingParameter", "The request must contain the parameter LaunchTemplateData"));
    }
    let token = form.get("ClientToken").map(str::to_owned);
    let fingerprint = format!("{:?}", (&data, form.get("SourceVersion"), form.get("VersionDescription")));
    let now = ctx.now();
    with_partition(ctx, |p| {
        let t = find(p, form)?;
        // The same ClientToken answers with the version it created the first time; with
        // other parameters it is a mismatch, as in EC2.
        if let Some((n, seen)) = token.as_ref().and_then(|tok| t.client_tokens.get(tok)).cloned() {
            if seen != fingerprint {
                return Err(ApiError::new(
                    400,
                    "IdempotentParameterMismatch",
                    "The client token you have provided is associated with a resource that has different parameters.",
                ));
            }
            let v = t.versions.iter().find(|v| v.number == n).cloned().unwrap_or_else(|| t.versions[0].clone());
            return Ok(reply(
                ctx,
                "CreateLaunchTemplateVersion",
                &format!("<launchTemplateVersion>{}</launchTemplateVersion>", version_xml(t, &v)),
            ));
        }
        let mut merged = match form.get("SourceVersion") {
            Some(src) => {
                let n = resolve(t, src)?;
                t.versions.iter().find(|v| v.number == n).map(|v| v.data.clone()).unwrap_or_default()
            }
            None => Default::default(),
        };
        merged.extend(data);
        let number = t.latest() + 1;
        let v = LaunchTemplateVersion {
            number,
            description: form.get("VersionDescription").map(str::to_owned),
            data: merged,
            created: now,
        };
        t.versions.push(v.clone());
        if let Some(tok) = token {
            t.client_tokens.insert(tok, (number, fingerprint));
        }
        Ok(reply(
            ctx,
            "CreateLaunchTemplateVersion",
            &format!("<launchTemplateVersion>{}</launchTemplateVersion>", version_xml(t, &v)),
        ))
    })
}

pub fn modify(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let default = form
        .get("SetDefaultVersion")
        .ok_or_else(|| ApiError::new(400, "MissingParameter", "The request must contain the parameter SetDefaultVersion"))?
        .to_owned();
    with_partition(ctx, |p| {
        let t = find(p, form)?;
        t.default_version = resolve(t, &default)?;
        let inner = format!(
            "<launchTemplate>{}{}{}<createdBy>arn:aws:iam::000000000000:role/drs</createdBy>{}{}</launchTemplate>",
            el("launchTemplateId", &t.id),
            el("launchTemplateName", &t.name),
            el("createTime", &iso(t.created)),
            el("defaultVersionNumber", &t.default_version.to_string()),
            el("latestVersionNumber", &t.latest().to_string())
        );
        Ok(reply(ctx, "ModifyLaunchTemplate", &inner))
    })
}

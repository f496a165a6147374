//! DescribeInstances: instance IDs, filters (incl. `tag:<key>`), MaxResults/NextToken.

use super::model::Instance;
use super::{invalid_param, max_results, next_token, reply, token_for, with_partition};
use crate::clock::iso;
use crate::protocol::form::Form;
use crate::protocol::xml::{el, escape, opt, tag_set};
use crate::protocol::{ApiError, Reply};
use crate::server::Ctx;

struct Filter {
    name: String,
    values: Vec<String>,
}

impl Filter {
    fn matches(&self, i: &Instance) -> Result<bool, ApiError> {
        let any = |have: &str| self.values.iter().any(|v| wildcard(v, have));
        Ok(match self.name.as_str() {
            "instance-id" => any(&i.id),
            "instance-state-name" => any(&i.state),
            "instance-state-code" => any(&i.state_code().to_string()),
            "image-id" => any(&i.image_id),
            "tag-value" => i.tags.values().any(|v| any(v)),
            "instance-type" => any(&i.instance_type),
            "availability-zone" => any(&i.az),
            "private-ip-address" => i.private_ip.as_deref().is_some_and(any),
            "tag-key" => i.tags.keys().any(|k| any(k)),
            n if n.starts_with("tag:") => i.tags.get(&n[4..]).is_some_and(|v| any(v)),
            other => return Err(invalid_param(format!("The filter '{other}' is invalid"))),
        })
    }
}

/// EC2 filter values take `*` and `?` wildcards.
fn wildcard(pattern: &str, s: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == s;
    }
    fn go(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(&pattern.chars().collect::<Vec<_>>(), &s.chars().collect::<Vec<_>>())
}

pub fn describe(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let ids = form.list("InstanceId");
    let filters: Vec<Filter> = form
        .indexed("Filter")
        .into_iter()
        .map(|n| Filter {
            name: form.get(&format!("Filter.{n}.Name")).unwrap_or_default().to_owned(),
            values: form.list(&format!("Filter.{n}.Value")),
        })
        .collect();
    let page = max_results(form, 5, 1000)?;
    if page.is_some() && !ids.is_empty() {
        return Err(ApiError::new(
            400,
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        ));
    }
    for id in &ids {
        if !crate::drs::input::is_instance_id(id) {
            return Err(ApiError::new(400, "InvalidInstanceID.Malformed", format!("Invalid id: \"{id}\"")));
        }
    }
    with_partition(ctx, |p| {
        let missing: Vec<&String> = ids.iter().filter(|id| !p.ec2.instances.contains_key(*id)).collect();
        if !missing.is_empty() {
            let list = missing.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
            return Err(ApiError::new(400, "InvalidInstanceID.NotFound", format!("The instance IDs {list} do not exist")));
        }
        let mut matching = Vec::new();
        for i in p.ec2.instances.values() {
            if !ids.is_empty() && !ids.contains(&i.id) {
                continue;
            }
            let mut keep = true;
            for f in &filters {
                keep &= f.matches(i)?;
            }
            if keep {
                matching.push(i);
            }
        }
        let start = next_token(form, matching.len())?;
        let end = page.map_or(matching.len(), |n| (start + n).min(matching.len()));
        let reservations: String = matching[start..end].iter().map(|i| reservation(ctx, i)).collect();
        let token = if end < matching.len() { el("nextToken", &token_for(end)) } else { String::new() };
        Ok(reply(ctx, "DescribeInstances", &format!("<reservationSet>{reservations}</reservationSet>{token}")))
    })
}

fn reservation(ctx: &Ctx, i: &Instance) -> String {
    format!(
        "<item>{}{}<groupSet/><instancesSet><item>{}{}<instanceState><code>{}</code><name>{}</name></instanceState>{}{}{}<placement>{}<tenancy>default</tenancy></placement>{}<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName><virtualizationType>hvm</virtualizationType>{}</item></instancesSet></item>",
        el("reservationId", &format!("r-{}", crate::ids::stable_hex(&i.id, 17))),
        el("ownerId", ctx.account()),
        el("instanceId", &i.id),
        el("imageId", &i.image_id),
        i.state_code(),
        escape(&i.state),
        el("privateDnsName", &i.private_ip.as_ref().map(|ip| format!("ip-{}.ec2.internal", ip.replace('.', "-"))).unwrap_or_default()),
        el("instanceType", &i.instance_type),
        el("launchTime", &iso(i.launch_time)),
        el("availabilityZone", &i.az),
        opt("privateIpAddress", i.private_ip.as_deref()),
        tag_set("tagSet", &i.tags),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_match_like_ec2() {
        assert!(super::wildcard("web-*", "web-01"));
        assert!(super::wildcard("w?b", "web"));
        assert!(!super::wildcard("app-*", "web-01"));
    }
}

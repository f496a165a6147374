//! EC2's authorization requests. Describe calls act on `*`; CreateTags and DeleteTags on
//! each resource named (by its id's prefix), with the resource's tags as
//! `aws:ResourceTag/*` and the request's as `aws:RequestTag/*` and `aws:TagKeys` (a direct
//! CreateTags has no `ec2:CreateAction`: that key is set only when a create action tags what
//! it makes); launch template writes on the template (named by id or name); TerminateInstances
//! on each instance.

use super::Call;
use crate::fleet::Tags;
use crate::iam::context::{AuthRequest, Context};
use crate::world::Partition;

pub fn requests(call: &Call) -> Vec<AuthRequest> {
    let Some(form) = call.form.filter(|_| !call.operation.starts_with("Describe")) else { return call.on_everything() };
    let action = format!("ec2:{}", call.operation);
    let part = call.world.partition(call.account(), call.region);
    let p = part.lock();
    let on = |id: &str, c: Context| AuthRequest::new(&action, arn(call, id), c.resource_tags(&tags_of(&p, id)));
    match call.operation {
        "CreateTags" => {
            let tags = form_tags(form);
            form.list("ResourceId").iter().map(|id| on(id, Context::default().request_tags(&tags))).collect()
        }
        "DeleteTags" => {
            let keys: Vec<String> =
                form.indexed("Tag").iter().filter_map(|n| form.get(&format!("Tag.{n}.Key")).map(str::to_owned)).collect();
            form.list("ResourceId").iter().map(|id| on(id, Context::default().with_all("aws:TagKeys", &keys))).collect()
        }
        "CreateLaunchTemplateVersion" | "ModifyLaunchTemplate" => {
            let by_name = form
                .get("LaunchTemplateName")
                .and_then(|n| p.ec2.launch_templates.values().find(|t| t.name == n).map(|t| t.id.clone()).or(Some(n.to_owned())));
            let id = form.get("LaunchTemplateId").map(str::to_owned).or(by_name).unwrap_or_default();
            vec![on(&id, Context::default())]
        }
        "TerminateInstances" => form.list("InstanceId").iter().map(|id| on(id, Context::default())).collect(),
        _ => call.on_everything(),
    }
}

/// `Tag.N.Key` / `Tag.N.Value` of the form.
fn form_tags(form: &crate::protocol::form::Form) -> Tags {
    form.indexed("Tag")
        .into_iter()
        .filter_map(|n| {
            let key = form.get(&format!("Tag.{n}.Key"))?;
            Some((key.to_owned(), form.get(&format!("Tag.{n}.Value")).unwrap_or_default().to_owned()))
        })
        .collect()
}

/// The tags of an instance or launch template of the partition; none for others.
fn tags_of(p: &Partition, id: &str) -> Tags {
    if let Some(i) = p.ec2.instances.get(id) {
        return i.tags.clone();
    }
    p.ec2.launch_templates.get(id).map(|t| t.tags.clone()).unwrap_or_default()
}

/// The ARN of an EC2 resource by its id's prefix.
pub fn arn(call: &Call, id: &str) -> String {
    resource_arn(call.region, call.account(), id)
}

pub fn resource_arn(region: &str, account: &str, id: &str) -> String {
    let kind = match id.split_once('-').map(|(prefix, _)| prefix) {
        Some("i") => "instance",
        Some("lt") => "launch-template",
        Some("vol") => "volume",
        // Snapshots and images are regional and have no account in their ARN.
        Some("snap") => return format!("arn:aws:ec2:{region}::snapshot/{id}"),
        Some("sg") => "security-group",
        Some("eni") => "network-interface",
        Some("subnet") => "subnet",
        Some("ami") => return format!("arn:aws:ec2:{region}::image/{id}"),
        _ => "resource",
    };
    format!("arn:aws:ec2:{region}:{account}:{kind}/{id}")
}

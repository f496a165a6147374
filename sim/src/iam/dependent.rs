//! What DRS asks of its caller's permissions. DRS launches and terminates with the caller's
//! authority for the actions the Service Authorization Reference lists as dependent on
//! StartRecovery, TerminateRecoveryInstances, ReverseReplication and UpdateLaunchConfiguration:
//! a role that may call StartRecovery but not, say, RunInstances cannot launch. The simulator
//! does not run those EC2 calls; it asks each of them of the caller's policy, on the resources
//! its model of a launch touches, with the keys AWS would set:
//! - what DRS creates (the point-in-time snapshot, the volume from it, the conversion launch
//!   template, the recovery instance) is tagged `AWSElasticDisasterRecoveryManaged` on create:
//!   the create action carries it as `aws:RequestTag/*` and `aws:TagKeys`, and the CreateTags
//!   of that creation carries `ec2:CreateAction`;
//! - RunInstances launches from the source server's launch template: every resource of the
//!   launch carries `ec2:LaunchTemplate`, the template itself its own tags;
//! - what DRS then changes, stops or deletes carries the managed tag as `aws:ResourceTag/*`;
//! - the recovery instance's role is passed to EC2 (`iam:PassedToService`).
//!
//! The ids of what a launch would create are derived from the server's id: they name
//! resources for the policy, not resources the simulator keeps. A denial refuses the DRS call
//! up front (AWS may instead fail the launch in the job, with the same missing permission).

use super::context::{AuthRequest, Context};
use super::requests::Call;
use crate::ec2::model::Instance;
use crate::fleet::Tags;
use crate::ids::stable_hex;
use crate::world::Partition;
use serde_json::Value;

pub const MANAGED: &str = "AWSElasticDisasterRecoveryManaged";
const MANAGED_VALUE: &str = "drs.amazonaws.com";
/// The role DRS gives recovery instances.
const RECOVERY_INSTANCE_ROLE: &str = "service-role/AWSElasticDisasterRecoveryRecoveryInstanceRole";

/// The EC2 reads a launch makes, on `*` (EC2's Describe actions have no resource-level
/// permissions).
const LAUNCH_READS: [&str; 13] = [
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSnapshots",
    "ec2:DescribeSubnets",
    "ec2:DescribeVolumes",
];

/// The dependent requests of a DRS call, for the resources it names that exist (a server or
/// instance that does not exist launches nothing: the operation refuses it).
pub fn requests(call: &Call) -> Vec<AuthRequest> {
    if call.service != "drs" {
        return vec![];
    }
    let body = call.json();
    let part = call.world.partition(call.account(), call.region);
    let p = part.lock();
    let at = Place { region: call.region, account: call.account() };
    match call.operation {
        "StartRecovery" => body["sourceServers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["sourceServerID"].as_str())
            .filter_map(|id| launch(&at, &p, id))
            .flatten()
            .collect(),
        "TerminateRecoveryInstances" => body["recoveryInstanceIDs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|id| p.ec2.instances.get(id))
            .flat_map(|i| terminate(&at, i))
            .collect(),
        "ReverseReplication" => {
            ["drs:DescribeSourceServers", "drs:DescribeReplicationConfigurationTemplates", "ec2:DescribeInstances"]
                .iter()
                .map(|a| AuthRequest::new(*a, "*", Context::default()))
                .collect()
        }
        "UpdateLaunchConfiguration" => vec![AuthRequest::new("ec2:DescribeInstances", "*", Context::default())],
        _ => vec![],
    }
}

/// Where the call acts: resources are ARNs of this account and region.
struct Place<'a> {
    region: &'a str,
    account: &'a str,
}

impl Place<'_> {
    fn ec2(&self, id: &str) -> String {
        super::requests::ec2_arn(self.region, self.account, id)
    }
}

fn managed() -> Tags {
    Tags::from([(MANAGED.to_owned(), MANAGED_VALUE.to_owned())])
}

/// A create action's resource: the managed tag set on create.
fn created() -> Context {
    Context::default().request_tags(&managed())
}

/// The CreateTags of a creation: `ec2:CreateAction` names the create action.
fn tag_on_create(at: &Place, id: &str, create_action: &str) -> AuthRequest {
    AuthRequest::new("ec2:CreateTags", at.ec2(id), created().with("ec2:CreateAction", create_action))
}

/// An existing DRS-managed resource.
fn existing(tags: &Tags) -> Context {
    Context::default().resource_tags(tags)
}

/// The requests of one server's launch; None when the server does not exist.
fn launch(at: &Place, p: &Partition, server_id: &str) -> Option<Vec<AuthRequest>> {
    let server = p.drs.servers.get(server_id)?;
    let template_id = server.launch_config.get("ec2LaunchTemplateID").and_then(Value::as_str).unwrap_or_default();
    let template_tags = p.ec2.launch_templates.get(template_id).map(|t| t.tags.clone()).unwrap_or_default();
    let id = |prefix: &str, what: &str| format!("{prefix}-{}", stable_hex(&format!("{server_id}/{what}"), 17));
    let (staging, snapshot, volume) = (id("vol", "staging"), id("snap", "pit"), id("vol", "recovered"));
    let (conversion_template, instance, nic) = (id("lt", "conversion"), id("i", "recovery"), id("eni", "recovery"));
    let security_group = id("sg", "replication");
    let subnet = server.replication_config.get("stagingAreaSubnetId").and_then(Value::as_str).unwrap_or("subnet-0");
    let template_arn = at.ec2(template_id);
    let drs_server = format!("arn:aws:drs:{}:{}:source-server/{server_id}", at.region, at.account);
    let ec2 = |action: &str, id: &str, c: Context| AuthRequest::new(action, at.ec2(id), c);

    let mut out = vec![
        AuthRequest::new("drs:CreateRecoveryInstanceForDrs", &drs_server, existing(&server.tags)),
        AuthRequest::new("drs:ListTagsForResource", &drs_server, existing(&server.tags)),
    ];
    out.extend(LAUNCH_READS.iter().map(|a| AuthRequest::new(*a, "*", Context::default())));
    // The point-in-time snapshot of the staging volume, and a volume from it.
    out.push(ec2("ec2:CreateSnapshot", &staging, existing(&managed())));
    out.push(ec2("ec2:CreateSnapshot", &snapshot, created()));
    out.push(tag_on_create(at, &snapshot, "CreateSnapshot"));
    out.push(ec2("ec2:CreateVolume", &snapshot, existing(&managed())));
    out.push(ec2("ec2:CreateVolume", &volume, created()));
    out.push(tag_on_create(at, &volume, "CreateVolume"));
    // The conversion server's template, and the server's own template brought up to date.
    out.push(ec2("ec2:CreateLaunchTemplate", &conversion_template, created()));
    out.push(tag_on_create(at, &conversion_template, "CreateLaunchTemplate"));
    for a in ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplateVersions"] {
        out.push(ec2(a, template_id, existing(&template_tags)));
    }
    // The launch from the server's template: each resource carries ec2:LaunchTemplate.
    let from_template = |c: Context| c.with("ec2:LaunchTemplate", &template_arn);
    out.push(ec2("ec2:RunInstances", template_id, from_template(existing(&template_tags))));
    for made in [&instance, &volume, &nic] {
        out.push(ec2("ec2:RunInstances", made, from_template(created())));
    }
    for used in [subnet, &security_group] {
        out.push(ec2("ec2:RunInstances", used, from_template(Context::default())));
    }
    out.push(ec2("ec2:RunInstances", "ami-0drs00000000000000", from_template(Context::default())));
    out.push(tag_on_create(at, &instance, "RunInstances"));
    let role = format!("arn:aws:iam::{}:role/{RECOVERY_INSTANCE_ROLE}", at.account);
    out.push(AuthRequest::new("iam:PassRole", role, Context::default().with("iam:PassedToService", "ec2.amazonaws.com")));
    // What DRS changes afterwards: its own instance, volume, snapshot and security group.
    for a in ["ec2:AttachVolume", "ec2:DetachVolume"] {
        out.push(ec2(a, &instance, existing(&managed())));
        out.push(ec2(a, &volume, existing(&managed())));
    }
    for a in ["ec2:ModifyInstanceAttribute", "ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances"] {
        out.push(ec2(a, &instance, existing(&managed())));
    }
    out.push(ec2("ec2:DeleteVolume", &volume, existing(&managed())));
    out.push(ec2("ec2:DeleteSnapshot", &snapshot, existing(&managed())));
    for a in ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress"] {
        out.push(ec2(a, &security_group, existing(&managed())));
    }
    Some(out)
}

/// The requests of terminating one recovery instance: its EC2 instance and its volume.
fn terminate(at: &Place, instance: &Instance) -> Vec<AuthRequest> {
    let volume = format!("vol-{}", stable_hex(&format!("{}/root", instance.id), 17));
    let mut out: Vec<AuthRequest> = ["drs:DescribeSourceServers", "ec2:DescribeInstances", "ec2:DescribeVolumes"]
        .iter()
        .map(|a| AuthRequest::new(*a, "*", Context::default()))
        .collect();
    out.push(AuthRequest::new("ec2:TerminateInstances", at.ec2(&instance.id), existing(&instance.tags)));
    out.push(AuthRequest::new("ec2:DeleteVolume", at.ec2(&volume), existing(&managed())));
    out
}

/// The actions this model asks of the caller for each DRS call: the Service Authorization
/// Reference's dependent actions (tests compare the templates with them).
pub fn actions_of(operation: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = match operation {
        "StartRecovery" => {
            let mut a = vec![
                "drs:CreateRecoveryInstanceForDrs",
                "drs:ListTagsForResource",
                "ec2:AttachVolume",
                "ec2:AuthorizeSecurityGroupEgress",
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:CreateLaunchTemplate",
                "ec2:CreateLaunchTemplateVersion",
                "ec2:CreateSnapshot",
                "ec2:CreateTags",
                "ec2:CreateVolume",
                "ec2:DeleteLaunchTemplateVersions",
                "ec2:DeleteSnapshot",
                "ec2:DeleteVolume",
                "ec2:DetachVolume",
                "ec2:ModifyInstanceAttribute",
                "ec2:ModifyLaunchTemplate",
                "ec2:RevokeSecurityGroupEgress",
                "ec2:RunInstances",
                "ec2:StartInstances",
                "ec2:StopInstances",
                "ec2:TerminateInstances",
                "iam:PassRole",
            ];
            a.extend(LAUNCH_READS);
            a
        }
        "TerminateRecoveryInstances" => vec![
            "drs:DescribeSourceServers",
            "ec2:DeleteVolume",
            "ec2:DescribeInstances",
            "ec2:DescribeVolumes",
            "ec2:TerminateInstances",
        ],
        "ReverseReplication" => {
            vec!["drs:DescribeReplicationConfigurationTemplates", "drs:DescribeSourceServers", "ec2:DescribeInstances"]
        }
        "UpdateLaunchConfiguration" => vec!["ec2:DescribeInstances"],
        _ => vec![],
    };
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctx::Request;
    use crate::identity::Principal;
    use crate::world::World;
    use std::collections::BTreeSet;

    fn asked(world: &World, account: &str, region: &str, operation: &str, body: Value) -> Vec<AuthRequest> {
        let principal = Principal { account: account.into(), role_name: "r".into(), session: None };
        let request = Request {
            method: http::Method::POST,
            path: format!("/{operation}"),
            query: String::new(),
            headers: Default::default(),
            body: body.to_string().into(),
        };
        let call = Call { world, principal: &principal, service: "drs", operation, region, request: &request, form: None };
        requests(&call)
    }

    fn actions(r: &[AuthRequest]) -> BTreeSet<&str> {
        r.iter().map(|r| r.action.as_str()).collect()
    }

    #[test]
    fn the_model_asks_exactly_the_dependent_actions_it_declares() {
        let world = World::new(crate::Fleet::demo());
        let (account, region) = ("200000000001", "us-east-1");
        let server = world.partition(account, region).lock().drs.servers.keys().next().cloned().unwrap();
        let instance = world.partition(account, "us-west-2").lock().ec2.instances.keys().next().cloned().unwrap();
        let cases = [
            ("StartRecovery", region, serde_json::json!({"sourceServers": [{"sourceServerID": server}]})),
            ("TerminateRecoveryInstances", "us-west-2", serde_json::json!({"recoveryInstanceIDs": [instance]})),
            ("ReverseReplication", region, serde_json::json!({"recoveryInstanceID": instance})),
            ("UpdateLaunchConfiguration", region, serde_json::json!({"sourceServerID": server})),
        ];
        for (op, region, body) in cases {
            let r = asked(&world, account, region, op, body);
            assert_eq!(actions(&r), actions_of(op).into_iter().collect(), "{op}");
        }
        // A server or instance that does not exist launches or terminates nothing.
        let none = serde_json::json!({"sourceServers": [{"sourceServerID": "s-00000000000000000"}]});
        assert!(asked(&world, account, region, "StartRecovery", none).is_empty());
        assert!(asked(&world, account, region, "DescribeJobs", serde_json::json!({})).is_empty());
    }

    #[test]
    fn what_a_launch_creates_is_tagged_on_create_and_changed_only_once_managed() {
        let world = World::new(crate::Fleet::demo());
        let (account, region) = ("200000000001", "us-east-1");
        let server = world.partition(account, region).lock().drs.servers.keys().next().cloned().unwrap();
        let r =
            asked(&world, account, region, "StartRecovery", serde_json::json!({"sourceServers": [{"sourceServerID": server}]}));
        let tag_key = format!("aws:RequestTag/{MANAGED}");
        let on_create: Vec<&AuthRequest> = r.iter().filter(|r| r.action == "ec2:CreateTags").collect();
        assert_eq!(on_create.len(), 4);
        for t in on_create {
            assert!(!t.context.get("ec2:CreateAction").is_empty() && !t.context.get(&tag_key).is_empty(), "{t:?}");
        }
        let managed_key = format!("aws:ResourceTag/{MANAGED}");
        for a in ["ec2:TerminateInstances", "ec2:DeleteVolume", "ec2:AttachVolume", "ec2:AuthorizeSecurityGroupIngress"] {
            assert!(r.iter().filter(|r| r.action == a).all(|r| !r.context.get(&managed_key).is_empty()), "{a}");
        }
        let run: Vec<&AuthRequest> = r.iter().filter(|r| r.action == "ec2:RunInstances").collect();
        assert!(run.iter().all(|r| r.context.get("ec2:LaunchTemplate").len() == 1), "{run:?}");
        let pass = r.iter().find(|r| r.action == "iam:PassRole").unwrap();
        assert_eq!(pass.context.get("iam:PassedToService"), ["ec2.amazonaws.com"]);
    }
}

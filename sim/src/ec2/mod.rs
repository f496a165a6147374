//! EC2 (ec2Query): form-encoded requests, XML replies.

pub mod addresses;
pub mod instances;
pub mod launch_templates;
pub mod model;
pub mod network;
pub mod network_interfaces;
pub mod partition;
pub mod tags;
pub mod template_data;
pub mod terminate;
pub mod wire;

use crate::ctx::Ctx;
use crate::protocol::form::Form;
use crate::protocol::{ApiError, Reply};

pub fn handle(ctx: &Ctx, op: &str, form: &Form) -> Result<Reply, ApiError> {
    // DryRun reaches here only when the caller is authorized: EC2 then answers 412 and
    // changes nothing.
    if form.get("DryRun").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(ApiError::new(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."));
    }
    match op {
        "DescribeInstances" => instances::describe(ctx, form),
        "CreateTags" => tags::create(ctx, form),
        "DeleteTags" => tags::delete(ctx, form),
        "DescribeLaunchTemplateVersions" => launch_templates::describe_versions(ctx, form),
        "CreateLaunchTemplateVersion" => launch_templates::create_version(ctx, form),
        "ModifyLaunchTemplate" => launch_templates::modify(ctx, form),
        "TerminateInstances" => terminate::terminate(ctx, form),
        "DescribeSubnets" => network::describe_subnets(ctx, form),
        "DescribeSecurityGroups" => network::describe_security_groups(ctx, form),
        "DescribeNetworkInterfaces" => network_interfaces::describe(ctx, form),
        "CreateNetworkInterface" => network_interfaces::create(ctx, form),
        "DeleteNetworkInterface" => network_interfaces::delete(ctx, form),
        other => Err(ApiError::new(400, "InvalidAction", format!("The action {other} is not valid for this web service."))),
    }
}

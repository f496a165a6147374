//! EC2 (ec2Query): form-encoded requests, XML replies.

pub mod instances;
pub mod launch_templates;
pub mod model;
pub mod tags;
pub mod template_data;

use crate::protocol::form::Form;
use crate::protocol::{xml_reply, ApiError, Reply};
use crate::server::Ctx;
use crate::world::Partition;

pub const NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

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
        other => Err(ApiError::new(400, "InvalidAction", format!("The action {other} is not valid for this web service."))),
    }
}

pub fn with_partition<T>(ctx: &Ctx, f: impl FnOnce(&mut Partition) -> Result<T, ApiError>) -> Result<T, ApiError> {
    let part = ctx.world.partition(ctx.account(), &ctx.region);
    let mut p = part.lock();
    crate::drs::progress::advance(&mut p, ctx.now());
    f(&mut p)
}

/// `<{op}Response xmlns=...><requestId>..</requestId>{inner}</{op}Response>`.
pub fn reply(ctx: &Ctx, op: &str, inner: &str) -> Reply {
    xml_reply(
        200,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"{NS}\"><requestId>{}</requestId>{inner}</{op}Response>",
            ctx.request_id
        ),
    )
}

pub fn invalid_param(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidParameterValue", message)
}

/// MaxResults within `[min, max]`, or None when absent.
pub fn max_results(form: &Form, min: usize, max: usize) -> Result<Option<usize>, ApiError> {
    match form.get("MaxResults") {
        None => Ok(None),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(invalid_param(format!(
                "Value ( {v} ) for parameter maxResults is invalid. Expecting a value between {min} and {max}."
            ))),
        },
    }
}

/// The offset a NextToken we issued stands for.
pub fn next_token(form: &Form, total: usize) -> Result<usize, ApiError> {
    match form.get("NextToken") {
        None | Some("") => Ok(0),
        Some(t) => t
            .strip_prefix("ec2p")
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .filter(|o| *o <= total)
            .ok_or_else(|| invalid_param(format!("The token '{t}' is invalid"))),
    }
}

pub fn token_for(offset: usize) -> String {
    format!("ec2p{offset:x}")
}

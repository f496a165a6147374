//! TagResource, UntagResource and ListTagsForResource on `/tags/{resourceArn}` for source
//! servers, jobs, recovery instances, recovery plans and their executions.

use super::input;
use super::partition::with_partition;
use crate::ctx::{Ctx, Request};
use crate::fleet::Tags;
use crate::protocol::{json_reply, ApiError, Reply};
use crate::world::Partition;
use serde_json::{json, Value};

const MAX_TAGS: usize = 50;

fn not_found(arn: &str) -> ApiError {
    ApiError::new(404, "ResourceNotFoundException", format!("Resource {arn} not found")).with("resourceId", arn)
}

fn tags_of<'a>(p: &'a mut Partition, arn: &str) -> Option<&'a mut Tags> {
    let (kind, id) = arn.rsplit_once(':')?.1.split_once('/')?;
    match kind {
        "source-server" => p.drs.servers.get_mut(id).map(|s| &mut s.tags),
        "job" => p.drs.jobs.iter_mut().find(|j| j.id == id).map(|j| &mut j.tags),
        "recovery-instance" => p.drs.recovery_instances.get_mut(id).map(|r| &mut r.tags),
        "recovery-plan" => p.drs.plans.plans.iter_mut().find(|x| x.arn == arn).map(|x| &mut x.tags),
        "recovery-plan-execution" => p.drs.plans.executions.iter_mut().find(|x| x.arn == arn).map(|x| &mut x.tags),
        _ => None,
    }
}

pub fn handle(ctx: &Ctx, op: &str, req: &Request, body: &Value) -> Result<Reply, ApiError> {
    let arn = percent_encoding::percent_decode_str(&req.path["/tags/".len()..]).decode_utf8_lossy().to_string();
    // arn:aws:drs:<region>:<account>:<kind>/<id>: only the caller's own partition is visible.
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[2] != "drs" {
        return Err(input::invalid("resourceArn", "is not a DRS resource ARN"));
    }
    if parts[3] != ctx.region || parts[4] != ctx.account() {
        return Err(not_found(&arn));
    }
    let new_tags = if op == "TagResource" { input::tags(body, "tags")? } else { Tags::new() };
    if op == "TagResource" && new_tags.is_empty() {
        return Err(input::invalid("tags", "is required"));
    }
    if new_tags.keys().any(|k| k.to_ascii_lowercase().starts_with("aws:")) {
        return Err(input::invalid("tags", "keys starting with aws: are reserved"));
    }
    let keys: Vec<String> =
        form_urlencoded::parse(req.query.as_bytes()).filter(|(k, _)| k == "tagKeys").map(|(_, v)| v.into_owned()).collect();
    if op == "UntagResource" && keys.is_empty() {
        return Err(input::invalid("tagKeys", "is required"));
    }
    with_partition(ctx, |p| {
        let tags = tags_of(p, &arn).ok_or_else(|| not_found(&arn))?;
        match op {
            "TagResource" => {
                // AWS's limit on user tags per resource.
                let after = tags.len() + new_tags.keys().filter(|k| !tags.contains_key(*k)).count();
                if after > MAX_TAGS {
                    return Err(input::invalid(
                        "tags",
                        &format!("a resource has at most {MAX_TAGS} tags; this would make {after}"),
                    ));
                }
                tags.extend(new_tags)
            }
            "UntagResource" => tags.retain(|k, _| !keys.contains(k)),
            _ => return Ok(json_reply(200, &json!({ "tags": tags }))),
        }
        Ok(json_reply(200, &json!({})))
    })
}

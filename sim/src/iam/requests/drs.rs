//! DRS's authorization requests. Describe calls act on `*`; the calls naming source servers,
//! recovery instances or a job act on each one's ARN with its tags as `aws:ResourceTag/*`;
//! the tag calls act on the ARN in their path, TagResource with its tags as
//! `aws:RequestTag/*` and `aws:TagKeys`, UntagResource with its keys as `aws:TagKeys`.
//! Recovery plans (the Service Authorization Reference's `recovery-plan` and
//! `recovery-plan-execution` resource types): ListRecoveryPlans acts on `*`; CreateRecoveryPlan
//! on `*` with its tags as `aws:RequestTag/*`, and, when it tags the plan, `drs:TagResource` on
//! the plan it makes with `drs:CreateAction`; a plan's and its steps' operations act on the
//! plan (a step's ARN is written under its plan's); an execution's and its steps' on the
//! execution; StartRecoveryPlanExecution on the plan, with the execution's tags as
//! `aws:RequestTag/*`; ListRecoveryPlanExecutions on the plan it filters by, else `*`.

use super::Call;
use crate::fleet::Tags;
use crate::iam::context::{AuthRequest, Context};
use crate::world::Partition;
use serde_json::Value;

/// The calls on `*` (their resources are not read, nor the partition locked).
const ON_EVERYTHING: [&str; 4] = ["DescribeSourceServers", "DescribeJobs", "DescribeRecoveryInstances", "ListRecoveryPlans"];

pub fn requests(call: &Call) -> Vec<AuthRequest> {
    if ON_EVERYTHING.contains(&call.operation) {
        return call.on_everything();
    }
    let body = call.json();
    let action = format!("drs:{}", call.operation);
    let part = call.world.partition(call.account(), call.region);
    let p = part.lock();
    let arn = |kind: &str, id: &str| format!("arn:aws:drs:{}:{}:{kind}/{id}", call.region, call.account());
    let ours = format!("arn:aws:drs:{}:{}:", call.region, call.account());
    let on = |arn: String, c: Context| {
        // Another partition's resource has no tags here: the operation answers it not found.
        let tags = if arn.starts_with(&ours) { tags_of(&p, &arn) } else { Tags::new() };
        AuthRequest::new(&action, arn, c.resource_tags(&tags))
    };
    let strings = |field: &str| -> Vec<String> {
        body[field].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    match call.operation {
        "StartRecovery" => body["sourceServers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["sourceServerID"].as_str())
            .map(|id| on(arn("source-server", id), Context::default()))
            .collect(),
        "TerminateRecoveryInstances" => {
            strings("recoveryInstanceIDs").iter().map(|id| on(arn("recovery-instance", id), Context::default())).collect()
        }
        "ReverseReplication" | "DisconnectRecoveryInstance" => one(&body, "recoveryInstanceID")
            .map(|id| vec![on(arn("recovery-instance", id), Context::default())])
            .unwrap_or_else(|| call.on_everything()),
        "GetLaunchConfiguration"
        | "DescribeRecoverySnapshots"
        | "UpdateLaunchConfiguration"
        | "GetReplicationConfiguration"
        | "UpdateReplicationConfiguration" => one(&body, "sourceServerID")
            .map(|id| vec![on(arn("source-server", id), Context::default())])
            .unwrap_or_else(|| call.on_everything()),
        "DescribeJobLogItems" => {
            one(&body, "jobID").map(|id| vec![on(arn("job", id), Context::default())]).unwrap_or_else(|| call.on_everything())
        }
        "CreateRecoveryPlan" => {
            let tags = tags_in(&body);
            let mut out = vec![AuthRequest::new(&action, "*", Context::default().request_tags(&tags))];
            if !tags.is_empty() {
                // The plan the call makes: its id follows from the client token.
                let id = match body["clientToken"].as_str().filter(|t| !t.is_empty()) {
                    Some(token) => crate::drs::plans::planned_id(call.account(), call.region, token),
                    None => "*".into(),
                };
                let context = Context::default().request_tags(&tags).with("drs:CreateAction", "CreateRecoveryPlan");
                out.push(AuthRequest::new("drs:TagResource", arn("recovery-plan", &id), context));
            }
            out
        }
        "GetRecoveryPlan"
        | "UpdateRecoveryPlan"
        | "DeleteRecoveryPlan"
        | "CreateRecoveryPlanStep"
        | "ListRecoveryPlanSteps"
        | "ReorderRecoveryPlanSteps" => one(&body, "recoveryPlanArn")
            .map(|a| vec![on(a.to_owned(), Context::default())])
            .unwrap_or_else(|| call.on_everything()),
        "StartRecoveryPlanExecution" => one(&body, "recoveryPlanArn")
            .map(|a| vec![on(a.to_owned(), Context::default().request_tags(&tags_in(&body)))])
            .unwrap_or_else(|| call.on_everything()),
        "ListRecoveryPlanExecutions" => one(&body, "recoveryPlanArn")
            .map(|a| vec![on(a.to_owned(), Context::default())])
            .unwrap_or_else(|| call.on_everything()),
        "GetRecoveryPlanStep" | "UpdateRecoveryPlanStep" | "DeleteRecoveryPlanStep" => one(&body, "recoveryPlanStepArn")
            .and_then(crate::drs::plans::parent_of_step)
            .map(|a| vec![on(a.to_owned(), Context::default())])
            .unwrap_or_else(|| call.on_everything()),
        "GetRecoveryPlanExecution"
        | "CancelRecoveryPlanExecution"
        | "DeleteRecoveryPlanExecution"
        | "ListRecoveryPlanExecutionSteps" => one(&body, "recoveryPlanExecutionArn")
            .map(|a| vec![on(a.to_owned(), Context::default())])
            .unwrap_or_else(|| call.on_everything()),
        "GetRecoveryPlanExecutionStep" | "UpdateRecoveryPlanExecutionStep" | "RetryRecoveryPlanExecutionStep" => {
            one(&body, "recoveryPlanExecutionStepArn")
                .and_then(crate::drs::plans::parent_of_step)
                .map(|a| vec![on(a.to_owned(), Context::default())])
                .unwrap_or_else(|| call.on_everything())
        }
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            let path = call.request.path.strip_prefix("/tags/").unwrap_or_default();
            let resource = percent_encoding::percent_decode_str(path).decode_utf8_lossy().to_string();
            vec![on(resource, tag_context(call, &body))]
        }
        _ => call.on_everything(),
    }
}

/// The `tags` map of a request body.
fn tags_in(body: &Value) -> Tags {
    body["tags"].as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect()
}

fn one<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body[field].as_str().filter(|s| !s.is_empty())
}

/// The tags a TagResource sets, or the keys an UntagResource removes.
fn tag_context(call: &Call, body: &Value) -> Context {
    match call.operation {
        "TagResource" => Context::default().request_tags(&tags_in(body)),
        "UntagResource" => {
            let keys: Vec<String> = form_urlencoded::parse(call.request.query.as_bytes())
                .filter(|(k, _)| k == "tagKeys")
                .map(|(_, v)| v.into_owned())
                .collect();
            Context::default().with_all("aws:TagKeys", &keys)
        }
        _ => Context::default(),
    }
}

/// The tags of the DRS resource an ARN names in the partition; none when it names none.
fn tags_of(p: &Partition, arn: &str) -> Tags {
    let Some((kind, id)) = arn.rsplit_once(':').and_then(|(_, r)| r.split_once('/')) else { return Tags::new() };
    let tags = match kind {
        "source-server" => p.drs.servers.get(id).map(|s| &s.tags),
        "job" => p.drs.jobs.iter().find(|j| j.id == id).map(|j| &j.tags),
        "recovery-instance" => p.drs.recovery_instances.get(id).map(|r| &r.tags),
        "recovery-plan" => p.drs.plans.plans.iter().find(|x| x.arn == arn).map(|x| &x.tags),
        "recovery-plan-execution" => p.drs.plans.executions.iter().find(|x| x.arn == arn).map(|x| &x.tags),
        _ => None,
    };
    tags.cloned().unwrap_or_default()
}

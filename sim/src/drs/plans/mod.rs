//! DRS recovery plans: twenty operations as botocore's DRS model has them. A plan lives in
//! one account x region and holds up to 20 ordered steps, each a server step (1 to 100
//! source servers of its account and region, recovered in one launch job) or a wait step (1
//! to 120 minutes). An execution copies the plan's steps and runs them one at a time on the
//! simulator's clock (`progress.rs`): a server step launches its servers as StartRecovery does
//! and ends with its job; a plan has at most one execution that has not ended. Skipping a
//! failed step, or retrying it, resumes its execution.
//!
//! What the model and AWS's documentation leave open is decided here, once: step names are
//! unique within their plan (a second one conflicts); a step's servers must be source servers
//! of the plan's account and region; a plan's 21st step is refused with
//! ServiceQuotaExceededException; a server step whose launch is refused (a server busy in
//! another job, a quota) fails with the refusal as its error; no step times out.

pub mod executions;
pub mod model;
pub mod progress;
pub mod shapes;
pub mod steps;

pub use model::PlanState;

use super::input::{self, invalid};
use crate::ctx::Ctx;
use crate::protocol::{bytes_reply, json_reply, ApiError, Reply};
use crate::world::Partition;
use model::Plan;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The most steps a plan holds (`RecoveryPlanStepOrder` is 1 to 20).
pub const MAX_STEPS: usize = 20;

/// Answers a recovery-plan operation; None for any other operation.
pub fn handle(ctx: &Ctx, op: &str, body: &Value) -> Option<Result<Reply, ApiError>> {
    if !shapes::is_plan_operation(op) {
        return None;
    }
    if let Err(e) = shapes::check(op, body) {
        return Some(Err(e));
    }
    Some(match op {
        "CreateRecoveryPlan" => create(ctx, body),
        "GetRecoveryPlan" => get(ctx, body),
        "UpdateRecoveryPlan" => update(ctx, body),
        "DeleteRecoveryPlan" => delete(ctx, body),
        "ListRecoveryPlans" => list(ctx, body),
        "CreateRecoveryPlanStep" => steps::create(ctx, body),
        "GetRecoveryPlanStep" => steps::get(ctx, body),
        "UpdateRecoveryPlanStep" => steps::update(ctx, body),
        "DeleteRecoveryPlanStep" => steps::delete(ctx, body),
        "ListRecoveryPlanSteps" => steps::list(ctx, body),
        "ReorderRecoveryPlanSteps" => steps::reorder(ctx, body),
        "StartRecoveryPlanExecution" => executions::start(ctx, body),
        "GetRecoveryPlanExecution" => executions::get(ctx, body),
        "ListRecoveryPlanExecutions" => executions::list(ctx, body),
        "CancelRecoveryPlanExecution" => executions::cancel(ctx, body),
        "DeleteRecoveryPlanExecution" => executions::delete(ctx, body),
        "GetRecoveryPlanExecutionStep" => executions::get_step(ctx, body),
        "ListRecoveryPlanExecutionSteps" => executions::list_steps(ctx, body),
        "UpdateRecoveryPlanExecutionStep" => executions::update_step(ctx, body),
        "RetryRecoveryPlanExecutionStep" => executions::retry_step(ctx, body),
        other => Err(ApiError::new(404, "UnknownOperationException", format!("operation {other} is not simulated"))),
    })
}

pub fn not_found(arn: &str, kind: &str) -> ApiError {
    ApiError::new(404, "ResourceNotFoundException", format!("{kind} {arn} not found"))
        .with("resourceId", arn)
        .with("resourceType", kind)
}

pub fn conflict(arn: &str, kind: &str, message: String) -> ApiError {
    ApiError::new(409, "ConflictException", message).with("resourceId", arn).with("resourceType", kind)
}

/// The ARN prefix of the caller's account and region: `arn:aws:drs:<region>:<account>:`.
pub fn arn_prefix(p: &Partition) -> String {
    format!("arn:aws:drs:{}:{}:", p.region, p.account)
}

/// A fresh id: `<prefix>-` and 17 alphanumerics.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", crate::ids::alnum(17))
}

/// The plan a plan ARN names (404 when none).
pub fn plan_index(p: &Partition, arn: &str) -> Result<usize, ApiError> {
    p.drs.plans.plans.iter().position(|x| x.arn == arn).ok_or_else(|| not_found(arn, "RECOVERY_PLAN"))
}

/// The ARN a step ARN is written under: its plan's (`<plan>/step/<id>`), or its execution's.
pub fn parent_of_step(step_arn: &str) -> Option<&str> {
    step_arn.rsplit_once("/step/").map(|(plan, _)| plan)
}

/// The digest of a request without its client token, its keys in order whatever order the
/// client wrote them in: a retry with the same token must ask for the same thing.
fn digest(body: &Value) -> String {
    let mut b = body.clone();
    if let Some(m) = b.as_object_mut() {
        m.remove("clientToken");
    }
    hex::encode(Sha256::digest(canonical(&b).as_bytes()))
}

fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let fields: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", Value::from(k.as_str()), canonical(&m[k.as_str()]))).collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// What an earlier call with this client token made: Ok(Some(arn)) for the same request,
/// Ok(None) for a new token (or none), a conflict for the token reused with another request.
pub fn replayed(p: &Partition, op: &str, body: &Value) -> Result<Option<String>, ApiError> {
    let Some(token) = body["clientToken"].as_str().filter(|t| !t.is_empty()) else { return Ok(None) };
    match p.drs.plans.tokens.get(&(op.to_owned(), token.to_owned())) {
        None => Ok(None),
        Some((d, arn)) if *d == digest(body) => Ok(Some(arn.clone())),
        Some((_, arn)) => Err(conflict(arn, "CLIENT_TOKEN", format!("clientToken {token} was used with another request"))),
    }
}

/// Remembers what a call with a client token made.
pub fn remember(p: &mut Partition, op: &str, body: &Value, arn: &str) {
    if let Some(token) = body["clientToken"].as_str().filter(|t| !t.is_empty()) {
        p.drs.plans.tokens.insert((op.to_owned(), token.to_owned()), (digest(body), arn.to_owned()));
    }
}

/// One page of a list as `{"<key>": [...], "nextToken": ...}`.
pub fn page_as<T>(key: &str, all: &[T], body: &Value, render: impl Fn(&T) -> Value) -> Result<Reply, ApiError> {
    let (start, size) = input::page_window(body, all.len())?;
    let end = (start + size).min(all.len());
    let mut out = json!({ key: all[start..end].iter().map(render).collect::<Vec<_>>() });
    if end < all.len() {
        out["nextToken"] = input::token_for(end).into();
    }
    let bytes = serde_json::to_vec(&out).map_err(|e| ApiError::new(500, "InternalServerException", e.to_string()))?;
    Ok(bytes_reply(200, bytes))
}

fn create(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let name = input::req_str(body, "name")?.to_owned();
    let description = input::opt_str(body, "description")?.map(str::to_owned);
    let tags = input::tags(body, "tags")?;
    if tags.keys().any(|k| k.to_ascii_lowercase().starts_with("aws:")) {
        return Err(invalid("tags", "keys starting with aws: are reserved"));
    }
    super::partition::with_partition(ctx, |p| {
        if let Some(arn) = replayed(p, "CreateRecoveryPlan", body)? {
            if let Ok(i) = plan_index(p, &arn) {
                return Ok(json_reply(201, &json!({"recoveryPlan": p.drs.plans.plans[i].to_json()})));
            }
        }
        let now = ctx.now();
        let arn = format!("{}recovery-plan/{}", arn_prefix(p), plan_id(p, body));
        let plan = Plan { arn: arn.clone(), name, description, tags, created: now, updated: now, steps: vec![] };
        let out = json!({"recoveryPlan": plan.to_json()});
        p.drs.plans.plans.push(plan);
        remember(p, "CreateRecoveryPlan", body, &arn);
        Ok(json_reply(201, &out))
    })
}

/// A new plan's id: derived from its client token (so IAM can be asked about the plan the
/// call will make, `iam/requests/drs.rs`), else fresh.
pub fn plan_id(p: &Partition, body: &Value) -> String {
    match body["clientToken"].as_str().filter(|t| !t.is_empty()) {
        Some(token) => planned_id(&p.account, &p.region, token),
        None => new_id("plan"),
    }
}

/// The id CreateRecoveryPlan gives the plan of a client token in an account and region.
pub fn planned_id(account: &str, region: &str, token: &str) -> String {
    format!("plan-{}", crate::ids::stable_alnum(&format!("{account}/{region}/recovery-plan/{token}"), 17))
}

fn get(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanArn")?;
    super::partition::with_partition(ctx, |p| {
        let i = plan_index(p, arn)?;
        Ok(json_reply(200, &json!({"recoveryPlan": p.drs.plans.plans[i].to_json()})))
    })
}

fn update(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanArn")?;
    let name = input::opt_str(body, "name")?;
    let description = input::opt_str(body, "description")?;
    super::partition::with_partition(ctx, |p| {
        let i = plan_index(p, arn)?;
        let plan = &mut p.drs.plans.plans[i];
        if let Some(n) = name {
            plan.name = n.to_owned();
        }
        if let Some(d) = description {
            plan.description = Some(d.to_owned());
        }
        plan.updated = ctx.now();
        Ok(json_reply(200, &json!({"recoveryPlan": plan.to_json()})))
    })
}

fn delete(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanArn")?;
    super::partition::with_partition(ctx, |p| {
        let i = plan_index(p, arn)?;
        if let Some(e) = p.drs.plans.executions.iter().find(|e| e.plan_arn == arn && !e.status.is_terminal()) {
            return Err(conflict(
                arn,
                "RECOVERY_PLAN",
                format!("Recovery plan {arn} has execution {} in status {}", e.arn, e.status.as_str()),
            ));
        }
        p.drs.plans.plans.remove(i);
        Ok(json_reply(200, &json!({"recoveryPlanArn": arn})))
    })
}

fn list(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    super::partition::with_partition(ctx, |p| page_as("recoveryPlans", &p.drs.plans.plans, body, Plan::summary_json))
}

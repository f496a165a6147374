//! Step Functions executions, as the approval gates of the orchestrator use them: a
//! STANDARD state machine of the caller's account and region whose one state is a
//! `.waitForTaskToken` task. StartExecution registers that task's token in the registry of
//! `registry.rs`; SendTaskSuccess makes the execution SUCCEEDED with the task's output,
//! SendTaskFailure makes it FAILED with the task's error and cause, StopExecution ABORTED.
//! State machines are not modelled: any well-formed state machine ARN of the caller's account
//! and region may be started.

use super::execution::{epoch, Execution};
use super::input::{check_error_and_cause, invalid_arn, optional_str, ours, parse_arn, required, too_long, valid_name, MAX_DATA};
use super::registry::Registry;
use crate::ctx::Ctx;
use crate::protocol::{json_reply, ApiError, Reply};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub fn handle(ctx: &Ctx, op: &str, input: &Value) -> Result<Reply, ApiError> {
    match op {
        "StartExecution" => start(ctx, input),
        "DescribeExecution" => describe(ctx, input),
        _ => stop(ctx, input),
    }
}

fn start(ctx: &Ctx, input: &Value) -> Result<Reply, ApiError> {
    let sm_arn = required(input, "stateMachineArn")?;
    let a = parse_arn(&sm_arn, "stateMachine").ok_or_else(|| invalid_arn("stateMachineArn", &sm_arn))?;
    let (sm_name, qualifier) = match a.rest.as_slice() {
        [name] => (*name, None),
        [name, q] => (*name, Some(*q)),
        _ => return Err(invalid_arn("stateMachineArn", &sm_arn)),
    };
    if sm_name.contains('/') {
        return Err(ApiError::new(
            400,
            "ValidationException",
            format!("Invalid Arn at 'stateMachineArn': 'a Distributed Map state ARN cannot be started: {sm_arn}'"),
        )
        .with("reason", "API_DOES_NOT_SUPPORT_LABELED_ARNS"));
    }
    if !valid_name(sm_name) || qualifier.is_some_and(|q| !valid_name(q)) {
        return Err(invalid_arn("stateMachineArn", &sm_arn));
    }
    let missing = ApiError::new(400, "StateMachineDoesNotExist", format!("State Machine Does Not Exist: '{sm_arn}'"));
    ours(ctx, "stateMachineArn", &a, &sm_arn, missing)?;
    let base = format!("arn:{}:states:{}:{}:stateMachine:{sm_name}", a.partition, a.region, a.account);
    let qualified = qualifier.map(|q| {
        let field = if q.chars().all(|c| c.is_ascii_digit()) { "stateMachineVersionArn" } else { "stateMachineAliasArn" };
        (field, sm_arn.clone())
    });

    let name = match optional_str(input, "name")? {
        Some(n) => {
            if !valid_name(n) {
                return Err(ApiError::new(400, "InvalidName", format!("Invalid Name: '{n}'")));
            }
            n.to_owned()
        }
        None => crate::ids::request_id(),
    };
    let data = optional_str(input, "input")?.unwrap_or("{}").to_owned();
    if data.len() > MAX_DATA {
        return Err(too_long("input", MAX_DATA));
    }
    if let Err(e) = serde_json::from_str::<Value>(&data) {
        return Err(ApiError::new(400, "InvalidExecutionInput", format!("Invalid State Machine Execution Input: '{e}'")));
    }
    if optional_str(input, "traceHeader")?.is_some_and(|t| t.len() > 256 || !t.is_ascii()) {
        return Err(too_long("traceHeader", 256));
    }

    let arn = format!("arn:{}:states:{}:{}:execution:{sm_name}:{name}", a.partition, a.region, a.account);
    let now = ctx.now();
    let mut registry = ctx.world.tokens.inner.lock();
    // Idempotent while RUNNING with the same input; a closed one, or another input, conflicts.
    if let Some(e) = registry.execution(&arn, now) {
        if e.status == "RUNNING" && e.input == data {
            return Ok(json_reply(200, &json!({"executionArn": e.arn, "startDate": epoch(e.start)})));
        }
        return Err(ApiError::new(400, "ExecutionAlreadyExists", format!("Execution Already Exists: '{arn}'")));
    }
    let token = format!("AQC{}", crate::ids::secret(180));
    registry.insert(token.clone(), None, None, now, Some(arn.clone()));
    registry.executions.push(Execution {
        arn: arn.clone(),
        state_machine_arn: base,
        qualified,
        name,
        account: a.account.to_owned(),
        region: a.region.to_owned(),
        input: data,
        status: "RUNNING",
        start: now,
        stop: None,
        output: None,
        error: None,
        cause: None,
        token,
    });
    Ok(json_reply(200, &json!({"executionArn": arn, "startDate": epoch(now)})))
}

/// The execution an `executionArn` names, if it is the caller's.
fn lookup<'r>(ctx: &Ctx, registry: &'r mut Registry, input: &Value, now: DateTime<Utc>) -> Result<&'r mut Execution, ApiError> {
    let arn = required(input, "executionArn")?;
    let a = parse_arn(&arn, "execution").ok_or_else(|| invalid_arn("executionArn", &arn))?;
    if a.rest.len() != 2 || !a.rest.iter().all(|p| valid_name(p)) {
        return Err(invalid_arn("executionArn", &arn));
    }
    let missing = || ApiError::new(400, "ExecutionDoesNotExist", format!("Execution Does Not Exist: '{arn}'"));
    ours(ctx, "executionArn", &a, &arn, missing())?;
    registry.execution(&arn, now).ok_or_else(missing)
}

fn describe(ctx: &Ctx, input: &Value) -> Result<Reply, ApiError> {
    let data = match optional_str(input, "includedData")? {
        None | Some("ALL_DATA") => true,
        Some("METADATA_ONLY") => false,
        Some(other) => {
            return Err(ApiError::new(
                400,
                "ValidationException",
                format!("1 validation error detected: Value '{other}' at 'includedData' failed to satisfy constraint: Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]"),
            ))
        }
    };
    let now = ctx.now();
    let mut registry = ctx.world.tokens.inner.lock();
    let e = lookup(ctx, &mut registry, input, now)?;
    Ok(json_reply(200, &e.describe(data)))
}

/// Stops a RUNNING execution: ABORTED, with the caller's error and cause, and its task
/// ended. A closed execution is left as it is and its stop date answered.
fn stop(ctx: &Ctx, input: &Value) -> Result<Reply, ApiError> {
    check_error_and_cause(input)?;
    let error = optional_str(input, "error")?.map(str::to_owned);
    let cause = optional_str(input, "cause")?.map(str::to_owned);
    let now = ctx.now();
    let mut registry = ctx.world.tokens.inner.lock();
    let e = lookup(ctx, &mut registry, input, now)?;
    if e.status != "RUNNING" {
        return Ok(json_reply(200, &json!({"stopDate": epoch(e.stop.unwrap_or(now))})));
    }
    e.status = "ABORTED";
    e.stop = Some(now);
    e.error = error;
    e.cause = cause;
    let token = e.token.clone();
    if let Some(t) = registry.tokens.get_mut(&token) {
        t.end("ABORTED", now);
    }
    Ok(json_reply(200, &json!({"stopDate": epoch(now)})))
}

//! Step Functions executions, as the approval gates of the orchestrator use them: a
//! STANDARD state machine of the caller's account and region whose one state is a
//! `.waitForTaskToken` task. StartExecution registers that task's token in the registry of
//! `sfn.rs`; SendTaskSuccess makes the execution SUCCEEDED with the task's output,
//! SendTaskFailure makes it FAILED with the task's error and cause, StopExecution ABORTED.
//! State machines are not modelled: any well-formed state machine ARN of the caller's account
//! and region may be started.

use super::TokenState;
use crate::protocol::{json_reply, ApiError, Reply};
use crate::server::Ctx;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// Execution input and output are at most 256 KiB (SensitiveData in the model).
const MAX_DATA: usize = 262_144;
/// ARNs are at most 256 characters (Arn in the model).
const MAX_ARN: usize = 256;

#[derive(Debug, Clone)]
pub struct Execution {
    pub arn: String,
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    /// `stateMachineVersionArn` or `stateMachineAliasArn` when started through a qualified ARN.
    pub qualified: Option<(&'static str, String)>,
    pub name: String,
    pub account: String,
    pub region: String,
    /// The input as StartExecution sent it (`{}` when it sent none).
    pub input: String,
    /// RUNNING, SUCCEEDED, FAILED or ABORTED.
    pub status: &'static str,
    pub start: DateTime<Utc>,
    pub stop: Option<DateTime<Utc>>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The task token of the execution's waitForTaskToken state.
    pub token: String,
}

/// awsJson1_0 timestamps are epoch seconds, as a number (fractional: milliseconds).
fn epoch(t: DateTime<Utc>) -> Value {
    json!(t.timestamp_millis() as f64 / 1000.0)
}

impl Execution {
    pub fn input_json(&self) -> Value {
        serde_json::from_str(&self.input).unwrap_or_else(|_| self.input.clone().into())
    }

    /// The DescribeExecution shape; `data` false for `includedData: METADATA_ONLY`.
    fn describe(&self, data: bool) -> Value {
        let mut v = json!({
            "executionArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": epoch(self.start),
            "inputDetails": {"included": data},
        });
        if let Some((field, arn)) = &self.qualified {
            v[*field] = arn.clone().into();
        }
        if let Some(t) = self.stop {
            v["stopDate"] = epoch(t);
        }
        if data {
            v["input"] = self.input.clone().into();
        }
        if let Some(o) = &self.output {
            v["outputDetails"] = json!({"included": data});
            if data {
                v["output"] = o.clone().into();
            }
        }
        if let Some(e) = &self.error {
            v["error"] = e.clone().into();
        }
        if let Some(c) = &self.cause {
            v["cause"] = c.clone().into();
        }
        v
    }

    /// What `/_sim/executions` shows: ISO dates, input and output as JSON, the full token.
    pub fn control_view(&self, token: Option<&TokenState>) -> Value {
        let iso = crate::clock::iso;
        let mut v = json!({
            "executionArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "accountId": self.account,
            "region": self.region,
            "status": self.status,
            "startDate": iso(self.start),
            "input": self.input_json(),
            "taskToken": self.token,
            "taskStatus": token.map(|t| t.status).unwrap_or("UNKNOWN"),
        });
        if let Some(t) = self.stop {
            v["stopDate"] = iso(t).into();
        }
        if let Some(o) = &self.output {
            v["output"] = serde_json::from_str(o).unwrap_or_else(|_| o.clone().into());
        }
        if let Some(e) = &self.error {
            v["error"] = e.clone().into();
        }
        if let Some(c) = &self.cause {
            v["cause"] = c.clone().into();
        }
        v
    }
}

/// A name of a state machine, alias or execution: 1 to 80 characters, none of them white
/// space, brackets, wildcards, the listed specials or control characters.
pub fn valid_name(name: &str) -> bool {
    let bad = |c: char| {
        c.is_whitespace()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || matches!(c as u32, 0x00..=0x1F | 0x7F..=0x9F | 0xFFFE..=0xFFFF)
    };
    (1..=80).contains(&name.chars().count()) && !name.chars().any(bad)
}

fn invalid_arn(arn: &str) -> ApiError {
    ApiError::new(400, "InvalidArn", format!("Invalid Arn: '{arn}'"))
}

fn required(input: &Value, field: &str) -> Result<String, ApiError> {
    match input.get(field) {
        None | Some(Value::Null) => Err(ApiError::new(
            400,
            "ValidationException",
            format!("1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"),
        )
        .with("reason", "MISSING_REQUIRED_PARAMETER")),
        Some(Value::String(s)) => {
            if s.is_empty() || s.chars().count() > MAX_ARN {
                return Err(too_long(field, MAX_ARN).with("reason", "fieldValidationFailed"));
            }
            Ok(s.clone())
        }
        Some(_) => Err(ApiError::new(400, "SerializationException", format!("'{field}' must be a string"))),
    }
}

fn too_long(field: &str, max: usize) -> ApiError {
    ApiError::new(
        400,
        "ValidationException",
        format!("1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"),
    )
}

fn optional_str<'a>(input: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::new(400, "SerializationException", format!("'{field}' must be a string"))),
    }
}

/// `error` (SensitiveError, at most 256) and `cause` (SensitiveCause, at most 32,768).
pub fn check_error_and_cause(input: &Value) -> Result<(), ApiError> {
    for (field, max) in [("error", 256), ("cause", 32768)] {
        if input.get(field).and_then(Value::as_str).is_some_and(|v| v.chars().count() > max) {
            return Err(too_long(field, max));
        }
    }
    Ok(())
}

/// The parts of an ARN `arn:<partition>:states:<region>:<account>:<kind>:<rest...>`.
struct Arn<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    rest: Vec<&'a str>,
}

fn parse_arn<'a>(arn: &'a str, kind: &str) -> Option<Arn<'a>> {
    let parts: Vec<&str> = arn.split(':').collect();
    let [prefix, partition, service, region, account, k, rest @ ..] = parts.as_slice() else { return None };
    let region_ok = !region.is_empty() && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ok = *prefix == "arn"
        && partition.starts_with("aws")
        && *service == "states"
        && region_ok
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && *k == kind;
    ok.then(|| Arn { partition, region, account, rest: rest.to_vec() })
}

/// Checks that an ARN's region and account are the caller's.
fn ours(ctx: &Ctx, a: &Arn, arn: &str, missing: ApiError) -> Result<(), ApiError> {
    if a.region != ctx.region {
        return Err(ApiError::new(
            400,
            "InvalidArn",
            format!("Invalid Arn: 'Region {} does not match the region of the request: {arn}'", a.region),
        ));
    }
    if a.account != ctx.account() {
        return Err(missing);
    }
    Ok(())
}

pub fn handle(ctx: &Ctx, op: &str, input: &Value) -> Result<Reply, ApiError> {
    match op {
        "StartExecution" => start(ctx, input),
        "DescribeExecution" => describe(ctx, input),
        _ => stop(ctx, input),
    }
}

fn start(ctx: &Ctx, input: &Value) -> Result<Reply, ApiError> {
    let sm_arn = required(input, "stateMachineArn")?;
    let a = parse_arn(&sm_arn, "stateMachine").ok_or_else(|| invalid_arn(&sm_arn))?;
    let (sm_name, qualifier) = match a.rest.as_slice() {
        [name] => (*name, None),
        [name, q] => (*name, Some(*q)),
        _ => return Err(invalid_arn(&sm_arn)),
    };
    if sm_name.contains('/') {
        return Err(ApiError::new(
            400,
            "ValidationException",
            format!("Invalid Arn: 'a Distributed Map state ARN cannot be started: {sm_arn}'"),
        )
        .with("reason", "API_DOES_NOT_SUPPORT_LABELED_ARNS"));
    }
    if !valid_name(sm_name) || qualifier.is_some_and(|q| !valid_name(q)) {
        return Err(invalid_arn(&sm_arn));
    }
    let missing = ApiError::new(400, "StateMachineDoesNotExist", format!("State Machine Does Not Exist: '{sm_arn}'"));
    ours(ctx, &a, &sm_arn, missing)?;
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
fn lookup<'r>(
    ctx: &Ctx,
    registry: &'r mut super::Registry,
    input: &Value,
    now: DateTime<Utc>,
) -> Result<&'r mut Execution, ApiError> {
    let arn = required(input, "executionArn")?;
    let a = parse_arn(&arn, "execution").ok_or_else(|| invalid_arn(&arn))?;
    if a.rest.len() != 2 || !a.rest.iter().all(|p| valid_name(p)) {
        return Err(invalid_arn(&arn));
    }
    let missing = || ApiError::new(400, "ExecutionDoesNotExist", format!("Execution Does Not Exist: '{arn}'"));
    ours(ctx, &a, &arn, missing())?;
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

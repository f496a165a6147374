//! SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: end (or beat) a PENDING task
//! token, and close the execution that waits on it.

use super::input::check_error_and_cause;
use crate::ctx::Ctx;
use crate::protocol::{json_reply, ApiError, Reply};
use serde_json::{json, Value};

/// Answers a SendTask* operation `op` with its parsed `input`.
pub fn handle(ctx: &Ctx, op: &str, input: &Value) -> Result<Reply, ApiError> {
    let token = input.get("taskToken").and_then(Value::as_str).unwrap_or_default();
    if token.is_empty() || token.len() > 2048 {
        return Err(ApiError::new(400, "InvalidToken", "Invalid Token: 'taskToken' must be 1 to 2048 characters"));
    }
    // SendTaskFailure's error and cause are bounded in the model (SensitiveError, SensitiveCause).
    check_error_and_cause(input)?;
    let now = ctx.now();
    let mut registry = ctx.world.tokens.inner.lock();
    let state = registry
        .tokens
        .get_mut(token)
        .ok_or_else(|| ApiError::new(400, "InvalidToken", "Invalid Token: 'taskToken' is not a token this service issued"))?;
    state.expire(now);
    match state.status {
        "PENDING" => {}
        "TIMED_OUT" => return Err(ApiError::new(400, "TaskTimedOut", "Task Timed Out")),
        _ => return Err(ApiError::new(400, "TaskDoesNotExist", "Task does not exist: it already ended")),
    }
    match op {
        "SendTaskSuccess" => {
            let raw = input.get("output").and_then(Value::as_str).unwrap_or_default();
            let output: Value = serde_json::from_str(raw)
                .map_err(|e| ApiError::new(400, "InvalidOutput", format!("Invalid Output: not JSON: {e}")))?;
            if raw.len() > 256 * 1024 {
                return Err(ApiError::new(400, "InvalidOutput", "Invalid Output: larger than 256 KiB"));
            }
            state.end("SUCCEEDED", now);
            state.output = Some(output);
            state.raw_output = Some(raw.to_owned());
        }
        "SendTaskFailure" => {
            let field = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_owned);
            state.end("FAILED", now);
            state.error = field("error");
            state.cause = field("cause");
        }
        _ => {
            state.heartbeats += 1;
            state.last_beat = now;
        }
    }
    if let Some(arn) = state.execution.clone() {
        registry.execution(&arn, now);
    }
    Ok(json_reply(200, &json!({})))
}

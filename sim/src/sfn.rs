//! Step Functions (awsJson1_0): SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat
//! against a registry of task tokens that tests mint through `/_sim/tokens`.

use crate::calls::mask;
use crate::protocol::{json_reply, ApiError, Reply};
use crate::server::Ctx;
use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenState {
    /// PENDING, SUCCEEDED, FAILED or TIMED_OUT.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub heartbeats: u64,
    #[serde(skip)]
    timeout: Option<Duration>,
    #[serde(skip)]
    heartbeat: Option<Duration>,
    #[serde(skip)]
    last_beat: DateTime<Utc>,
    #[serde(skip)]
    created: DateTime<Utc>,
}

impl TokenState {
    /// A task times out past its timeout, or past its heartbeat interval without a beat.
    fn expire(&mut self, now: DateTime<Utc>) {
        if self.status != "PENDING" {
            return;
        }
        let late = |since: DateTime<Utc>, limit: Option<Duration>| limit.is_some_and(|l| now - since > l);
        if late(self.created, self.timeout) || late(self.last_beat, self.heartbeat) {
            self.status = "TIMED_OUT";
        }
    }
}

#[derive(Default)]
pub struct TaskTokens {
    tokens: Mutex<HashMap<String, TokenState>>,
}

impl TaskTokens {
    pub fn register(&self, token: String, timeout_s: Option<u64>, heartbeat_s: Option<u64>, now: DateTime<Utc>) {
        let secs = |s: Option<u64>| s.map(|s| Duration::seconds(s as i64));
        self.tokens.lock().insert(
            token,
            TokenState {
                status: "PENDING",
                output: None,
                error: None,
                cause: None,
                heartbeats: 0,
                timeout: secs(timeout_s),
                heartbeat: secs(heartbeat_s),
                last_beat: now,
                created: now,
            },
        );
    }

    pub fn get(&self, token: &str, now: DateTime<Utc>) -> Option<TokenState> {
        let mut t = self.tokens.lock();
        let s = t.get_mut(token)?;
        s.expire(now);
        Some(s.clone())
    }

    /// Every token, masked, with its state.
    pub fn list(&self, now: DateTime<Utc>) -> Vec<Value> {
        let mut t = self.tokens.lock();
        t.iter_mut()
            .map(|(k, s)| {
                s.expire(now);
                json!({"taskToken": mask(k), "state": s})
            })
            .collect()
    }
}

pub fn handle(ctx: &Ctx, op: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let input: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, "SerializationException", format!("the request body is not JSON: {e}")))?;
    let token = input.get("taskToken").and_then(Value::as_str).unwrap_or_default();
    if token.is_empty() || token.len() > 2048 {
        return Err(ApiError::new(400, "InvalidToken", "Invalid Token: 'taskToken' must be 1 to 2048 characters"));
    }
    // SendTaskFailure's error and cause are bounded in the model (SensitiveError, SensitiveCause).
    for (field, max) in [("error", 256), ("cause", 32768)] {
        if input.get(field).and_then(Value::as_str).is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::new(
                400,
                "ValidationException",
                format!("1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"),
            ));
        }
    }
    let now = ctx.now();
    let mut tokens = ctx.world.tokens.tokens.lock();
    let state =
        tokens.get_mut(token).ok_or_else(|| ApiError::new(400, "InvalidToken", "Invalid Token: the token is not known"))?;
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
            state.status = "SUCCEEDED";
            state.output = Some(output);
        }
        "SendTaskFailure" => {
            let field = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_owned);
            state.status = "FAILED";
            state.error = field("error");
            state.cause = field("cause");
        }
        "SendTaskHeartbeat" => {
            state.heartbeats += 1;
            state.last_beat = now;
        }
        other => {
            return Err(ApiError::new(
                400,
                "UnknownOperationException",
                format!("operation {other} is not served by this endpoint"),
            ))
        }
    }
    Ok(json_reply(200, &json!({})))
}

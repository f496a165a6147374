//! The registry of Step Functions task tokens (minted through `/_sim/tokens` or by
//! StartExecution) and of the executions that wait on them, behind one lock so that a
//! token's end and its execution's end are one change.

use super::execution::Execution;
use crate::calls::mask;
use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenState {
    /// PENDING, SUCCEEDED, FAILED, TIMED_OUT, or ABORTED (its execution was stopped).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub heartbeats: u64,
    #[serde(skip)]
    pub(super) timeout: Option<Duration>,
    #[serde(skip)]
    pub(super) heartbeat: Option<Duration>,
    #[serde(skip)]
    pub(super) last_beat: DateTime<Utc>,
    #[serde(skip)]
    pub(super) created: DateTime<Utc>,
    /// When the task ended (success, failure, time-out or abort).
    #[serde(skip)]
    pub(super) ended: Option<DateTime<Utc>>,
    /// The output as SendTaskSuccess sent it (an execution's output keeps its text).
    #[serde(skip)]
    pub(super) raw_output: Option<String>,
    /// The execution whose waitForTaskToken state this token belongs to.
    #[serde(skip)]
    pub(super) execution: Option<String>,
    /// Registration order, for stable listings.
    #[serde(skip)]
    pub(super) seq: u64,
}

impl TokenState {
    /// A task times out past its timeout, or past its heartbeat interval without a beat.
    pub(super) fn expire(&mut self, now: DateTime<Utc>) {
        if self.status != "PENDING" {
            return;
        }
        let deadline = |since: DateTime<Utc>, limit: Option<Duration>| limit.map(|l| since + l).filter(|d| now > *d);
        if let Some(at) =
            [deadline(self.created, self.timeout), deadline(self.last_beat, self.heartbeat)].into_iter().flatten().min()
        {
            self.status = "TIMED_OUT";
            self.ended = Some(at);
        }
    }

    pub(super) fn end(&mut self, status: &'static str, now: DateTime<Utc>) {
        self.status = status;
        self.ended = Some(now);
    }
}

/// Task tokens and the executions that wait on them, behind one lock so that a token's end
/// and its execution's end are one change.
#[derive(Default)]
pub struct Registry {
    pub(super) tokens: HashMap<String, TokenState>,
    /// In start order.
    pub(super) executions: Vec<Execution>,
    seq: u64,
}

impl Registry {
    pub(super) fn insert(
        &mut self,
        token: String,
        timeout_s: Option<u64>,
        heartbeat_s: Option<u64>,
        now: DateTime<Utc>,
        execution: Option<String>,
    ) {
        let secs = |s: Option<u64>| s.map(|s| Duration::seconds(s as i64));
        self.seq += 1;
        self.tokens.insert(
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
                ended: None,
                raw_output: None,
                execution,
                seq: self.seq,
            },
        );
    }

    /// The execution of `arn`, settled on its token first.
    pub(super) fn execution(&mut self, arn: &str, now: DateTime<Utc>) -> Option<&mut Execution> {
        let i = self.executions.iter().position(|e| e.arn == arn)?;
        self.settle(i, now);
        Some(&mut self.executions[i])
    }

    /// Closes a RUNNING execution whose task ended: SUCCEEDED with the task's output,
    /// FAILED with its error and cause, or FAILED with `States.Timeout` (an uncaught task
    /// time-out fails the execution; TIMED_OUT is the execution's own TimeoutSeconds).
    fn settle(&mut self, i: usize, now: DateTime<Utc>) {
        let e = &mut self.executions[i];
        if e.status != "RUNNING" {
            return;
        }
        let Some(t) = self.tokens.get_mut(&e.token) else { return };
        t.expire(now);
        match t.status {
            "SUCCEEDED" => {
                e.status = "SUCCEEDED";
                e.output = t.raw_output.clone();
            }
            "FAILED" => {
                e.status = "FAILED";
                e.error = t.error.clone();
                e.cause = t.cause.clone();
            }
            "TIMED_OUT" => {
                e.status = "FAILED";
                e.error = Some("States.Timeout".into());
            }
            _ => return,
        }
        e.stop = t.ended.or(Some(now));
    }

    fn settle_all(&mut self, now: DateTime<Utc>) {
        for i in 0..self.executions.len() {
            self.settle(i, now);
        }
    }
}

#[derive(Default)]
pub struct TaskTokens {
    pub(super) inner: Mutex<Registry>,
}

impl TaskTokens {
    pub fn register(&self, token: String, timeout_s: Option<u64>, heartbeat_s: Option<u64>, now: DateTime<Utc>) {
        self.inner.lock().insert(token, timeout_s, heartbeat_s, now, None);
    }

    /// One token's state, with its execution's ARN and input when it belongs to one.
    pub fn view(&self, token: &str, now: DateTime<Utc>) -> Option<Value> {
        let mut r = self.inner.lock();
        r.tokens.get_mut(token)?.expire(now);
        r.settle_all(now);
        let s = r.tokens.get(token)?;
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(e) = s.execution.as_ref().and_then(|arn| r.executions.iter().find(|e| &e.arn == arn)) {
            v["executionArn"] = e.arn.clone().into();
            v["input"] = e.input_json();
        }
        Some(v)
    }

    /// Every token, masked, with its state (and its execution's ARN and input when it
    /// belongs to one), in registration order.
    pub fn list(&self, now: DateTime<Utc>) -> Vec<Value> {
        let mut r = self.inner.lock();
        r.tokens.values_mut().for_each(|s| s.expire(now));
        r.settle_all(now);
        let r = &*r;
        let mut tokens: Vec<(&String, &TokenState)> = r.tokens.iter().collect();
        tokens.sort_by_key(|(_, s)| s.seq);
        tokens
            .into_iter()
            .map(|(k, s)| {
                let mut v = json!({"taskToken": mask(k), "state": s});
                if let Some(e) = s.execution.as_ref().and_then(|arn| r.executions.iter().find(|e| &e.arn == arn)) {
                    v["executionArn"] = e.arn.clone().into();
                    v["input"] = e.input_json();
                }
                v
            })
            .collect()
    }

    /// Every execution with its full task token (the control endpoint only), in start order.
    pub fn executions(&self, now: DateTime<Utc>) -> Vec<Value> {
        let mut r = self.inner.lock();
        r.settle_all(now);
        r.executions.iter().map(|e| e.control_view(r.tokens.get(&e.token).map(|t| t.status))).collect()
    }

    /// One execution by ARN, as `executions` shows it.
    pub fn execution(&self, arn: &str, now: DateTime<Utc>) -> Option<Value> {
        let mut r = self.inner.lock();
        r.execution(arn, now)?;
        let e = r.executions.iter().find(|e| e.arn == arn)?;
        Some(e.control_view(r.tokens.get(&e.token).map(|t| t.status)))
    }
}

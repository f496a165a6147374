//! Plays the platform's module state machine locally: the phase call, then its status
//! check after each wait until it answers `true` or fails, handing the phase's payload back
//! as `lifecycle_output.Payload` and the parent's task token along, exactly as the platform's
//! Step Functions loop does. The CLI's `drill` and the end-to-end tests run phases with it;
//! how to wait (sleep, or move a simulator's clock) is the caller's.

use crate::aws::Clients;
use crate::lifecycle::{handle_detailed, LifecycleError};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub type WaitFn<'a> = &'a (dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Sync);

pub struct Driver<'a> {
    pub clients: &'a Clients,
    /// The platform's Wait state between status checks (15 to 120 s there).
    pub poll: Duration,
    /// A guard against a module that never ends; the module's own timeout comes first.
    pub max_checks: usize,
}

#[derive(Debug)]
pub struct PhaseRun {
    /// What the phase call returned (the lifecycle payload).
    pub payload: Value,
    pub checks: usize,
    /// The last detail the module gave (wave progress, counts).
    pub detail: Option<Value>,
    /// The metric documents the last check gave (a run that ended).
    pub metrics: Vec<Value>,
}

/// The platform's module event for one resource. Without a parent's token the event is a
/// local run's, and carries a fresh `RunId`: each call of this function is its own run (the
/// module refuses a token-less activate that names no run).
pub fn event(state_payload: &Value, phase: &str, token: Option<&str>) -> Value {
    let mut e = json!({"StatePayload": state_payload, "LifeCyclePhase": phase});
    match token {
        Some(t) => e["TaskToken"] = t.into(),
        None => e["RunId"] = local_run_id().into(),
    }
    e
}

/// Unique per call within a process, and across processes by the clock and the process id.
fn local_run_id() -> String {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("local-{nanos:x}-{:x}-{n}", std::process::id())
}

impl Driver<'_> {
    /// Runs `phase` and its status checks to the end. `on_detail` sees each call's detail.
    pub async fn run(
        &self,
        state_payload: &Value,
        phase: &str,
        token: Option<&str>,
        wait: WaitFn<'_>,
        mut on_detail: impl FnMut(&Value),
    ) -> Result<PhaseRun, LifecycleError> {
        let call = event(state_payload, phase, token);
        // On the heap: the lifecycle's future is large, and a caller's thread may be small.
        let first = Box::pin(handle_detailed(self.clients, &call)).await?;
        if let Some(d) = &first.detail {
            on_detail(d);
        }
        // The checks are the same run's.
        let mut check = call;
        check["status"] = json!(true);
        check["lifecycle_output"] = json!({"Payload": first.answer});
        let mut run = PhaseRun { payload: first.answer, checks: 0, detail: first.detail, metrics: first.metrics };
        loop {
            if run.checks >= self.max_checks {
                return Err(LifecycleError {
                    code: crate::error::ErrorCode::DriverGaveUp,
                    message: format!("{phase}: still running after {} status checks", run.checks),
                    metrics: vec![],
                });
            }
            wait(self.poll).await;
            run.checks += 1;
            let h = Box::pin(handle_detailed(self.clients, &check)).await?;
            if let Some(d) = &h.detail {
                on_detail(d);
                run.detail = Some(d.clone());
            }
            if h.answer == Value::Bool(true) {
                run.metrics = h.metrics;
                return Ok(run);
            }
        }
    }
}

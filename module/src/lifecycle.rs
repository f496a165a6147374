//! The platform's lifecycle entry points. An event names a phase (and, with `status`, its
//! status check); the answer is the phase's payload, or `true`/`false` from a status check,
//! or a typed error. When the event carries a task token, the module reports to the parent
//! itself: a heartbeat on each status check, SendTaskSuccess with the summary at the end,
//! SendTaskFailure on any failure, bad input included, so the parent never waits forever.

use crate::aws::Clients;
use crate::callbacks::Callbacks;
use crate::event::{ModuleEvent, Phase};
use crate::preflight::preflight;
use serde_json::{json, Value};

/// A failure as the platform sees it: the Lambda error type and message, and the
/// SendTaskFailure error and cause.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct LifecycleError {
    pub code: &'static str,
    pub message: String,
}

fn fail(code: &'static str, message: impl Into<String>) -> LifecycleError {
    LifecycleError { code, message: message.into() }
}

/// Runs one event; reports to the parent's task token when there is one.
pub async fn handle(clients: &Clients, raw: &Value) -> Result<Value, LifecycleError> {
    let token = raw.get("TaskToken").and_then(Value::as_str).map(crate::secret::Secret::new);
    let result = run(clients, raw).await;
    if let (Some(token), Err(e)) = (token, &result) {
        let cb = Callbacks::new(clients.hub(), token);
        if let Err(cb_err) = cb.failure(e.code, &e.message).await {
            tracing::warn!(error = %cb_err, "SendTaskFailure did not reach the parent");
        }
    }
    result
}

async fn run(clients: &Clients, raw: &Value) -> Result<Value, LifecycleError> {
    let event = ModuleEvent::parse(raw).map_err(|e| fail("InvalidEvent", format!("{e:#}")))?;
    if !event.module.eq_ignore_ascii_case("DRS") {
        return Err(fail("InvalidEvent", format!("StatePayload.action: this is the DRS module, not '{}'", event.module)));
    }
    let callbacks = event.task_token.clone().map(|t| Callbacks::new(clients.hub(), t));
    match (event.phase, event.status_check) {
        (Phase::Instantiate, false) => instantiate(clients, &event).await,
        (Phase::Instantiate, true) => {
            // Preflight finished in the phase call: report its summary and end.
            let summary = event.payload.clone().unwrap_or(Value::Null);
            if let Some(cb) = &callbacks {
                cb.heartbeat().await.map_err(|e| fail("CallbackFailed", e.to_string()))?;
                cb.success(&summary).await.map_err(|e| fail("CallbackFailed", e.to_string()))?;
            }
            Ok(Value::Bool(true))
        }
        (phase, _) => Err(fail(
            "PhaseNotAvailable",
            format!(
                "{}: this build of the DRS module runs instantiate (preflight) only; {phase:?} is not available yet",
                event.operation()
            ),
        )),
    }
}

/// Preflight only: changes nothing; fails naming every blocker.
async fn instantiate(clients: &Clients, event: &ModuleEvent) -> Result<Value, LifecycleError> {
    let mut parameters = event.parameters.clone();
    // The platform's target account applies when the parameters name none.
    if let (Some(acct), Some(p)) = (&event.account_id, parameters.as_object_mut()) {
        if !p.contains_key("AccountId") && !p.contains_key("Accounts") {
            p.insert("AccountId".into(), acct.clone().into());
        }
    }
    let resource = json!({"action": "DRS", "resourceName": event.resource_name, "parameters": parameters});
    let report = preflight(clients, &resource).await.map_err(|e| fail("InvalidParameters", format!("{e:#}")))?;
    if !report.ready() {
        return Err(fail("PreflightBlocked", report.blockers.join("; ")));
    }
    let servers: usize = report.plan.resources.iter().map(|r| r.resolution.servers.len()).sum();
    let waves: Vec<Value> = report
        .plan
        .resources
        .iter()
        .flat_map(|r| r.waves.iter().map(|w| json!({"name": w.name, "servers": w.servers.len(), "jobs": w.jobs.len()})))
        .collect();
    Ok(json!({"phase": "instantiate", "resourceName": event.resource_name, "ready": true, "servers": servers,
              "waves": waves, "warnings": report.warnings}))
}

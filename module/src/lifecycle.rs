//! The platform's lifecycle entry points. An event names a phase (and, with `status`, its
//! status check); the answer is the phase's payload, or `true`/`false` from a status check,
//! or a typed error. When the event carries a task token, the module reports to the parent
//! itself: a heartbeat on each status check, SendTaskSuccess with the summary at the end,
//! SendTaskFailure on any failure, bad input included, so the parent never waits forever.

use crate::aws::Clients;
use crate::callbacks::{CallbackError, Callbacks};
use crate::error::ErrorCode;
use crate::event::{ModuleEvent, Phase};
use crate::preflight::{partitions_of, preflight};
use crate::recovery::launches::Scope;
use crate::recovery::payload::Payload;
use crate::recovery::status::Outcome;
use crate::recovery::{activate, cleanup, replicate, status, tags};
use crate::resource::{DrsResource, Mode};
use serde_json::{json, Value};

use crate::recovery::payload::PayloadError;
pub use crate::recovery::payload::MAX_PAYLOAD;

/// A failure as the platform sees it: the Lambda error type and message, and the
/// SendTaskFailure error and cause.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct LifecycleError {
    pub code: ErrorCode,
    pub message: String,
    /// EMF metric documents of a run that ended in this failure (`metrics/`).
    pub metrics: Vec<Value>,
}

fn fail(code: ErrorCode, message: impl Into<String>) -> LifecycleError {
    LifecycleError { code, message: message.into(), metrics: vec![] }
}

/// The answer to the platform, and what a local driver shows (wave progress, counts).
#[derive(Debug)]
pub struct Handled {
    pub answer: Value,
    pub detail: Option<Value>,
    /// EMF metric documents of a run that ended (`metrics/`): the Lambda logs one per line.
    pub metrics: Vec<Value>,
}

fn answer(answer: Value, detail: Option<Value>) -> Result<Handled, LifecycleError> {
    Ok(Handled { answer, detail, metrics: vec![] })
}

/// Runs one event; reports to the parent's task token when there is one.
pub async fn handle(clients: &Clients, raw: &Value) -> Result<Value, LifecycleError> {
    handle_detailed(clients, raw).await.map(|h| h.answer)
}

pub async fn handle_detailed(clients: &Clients, raw: &Value) -> Result<Handled, LifecycleError> {
    let token = raw.get("TaskToken").and_then(Value::as_str).map(crate::secret::Secret::new);
    let result = run(clients, raw).await;
    if let (Some(token), Err(e)) = (token, &result) {
        if e.code != ErrorCode::ParentGone {
            let cb = Callbacks::new(clients.hub(), token);
            if let Err(cb_err) = cb.failure(e.code.as_str(), &e.message).await {
                tracing::warn!(error = %cb_err, "SendTaskFailure did not reach the parent");
            }
        }
    }
    result
}

fn callback_error(e: CallbackError) -> LifecycleError {
    match e {
        // Nobody waits for this task any more: stop rather than run unsupervised.
        CallbackError::ParentGone(m) => fail(ErrorCode::ParentGone, m),
        CallbackError::Failed(m) => fail(ErrorCode::CallbackFailed, m),
    }
}

async fn run(clients: &Clients, raw: &Value) -> Result<Handled, LifecycleError> {
    let event = ModuleEvent::parse(raw).map_err(|e| fail(ErrorCode::InvalidEvent, format!("{e:#}")))?;
    if !event.module.eq_ignore_ascii_case("DRS") {
        return Err(fail(
            ErrorCode::InvalidEvent,
            format!("StatePayload.action: this is the DRS module, not '{}'", event.module),
        ));
    }
    let callbacks = event.task_token.clone().map(|t| Callbacks::new(clients.hub(), t));
    if event.status_check {
        if let Some(cb) = &callbacks {
            cb.heartbeat().await.map_err(callback_error)?;
        }
    }
    let resource = DrsResource::from_event(&event.resource_name, event.account_id.as_deref(), &event.parameters)
        .map_err(|e| fail(ErrorCode::InvalidParameters, e.to_string()))?;
    let params = &resource.recovery;
    let done = |summary: Value| async move {
        if let Some(cb) = &callbacks {
            cb.success(&summary).await.map_err(callback_error)?;
        }
        answer(Value::Bool(true), Some(summary))
    };
    match (event.phase, event.status_check) {
        (Phase::Instantiate, false) => instantiate(clients, &event, &resource).await,
        // Preflight finished in the phase call: report its summary and end.
        (Phase::Instantiate, true) => done(event.payload.clone().unwrap_or(Value::Null)).await,
        (Phase::Activate, false) => {
            let key = serde_json::to_string(&raw["StatePayload"]).unwrap_or_default();
            let execution =
                tags::execution_id(params.execution_id.as_deref(), event.task_token.as_ref(), &event.resource_name, &key);
            let (payload, first) =
                activate::activate(clients, &resource, &execution).await.map_err(|e| match e.downcast_ref::<PayloadError>() {
                    Some(PayloadError::TooLarge { .. }) => fail(ErrorCode::PayloadTooLarge, format!("{e:#}")),
                    _ => fail(ErrorCode::ActivationFailed, format!("{e:#}")),
                })?;
            if let Outcome::Failed { code, message } = &first.outcome {
                return Err(fail(*code, message.clone()));
            }
            // Its size was checked in `activate`, before the first wave started.
            let value = serde_json::to_value(&payload).map_err(|e| fail(ErrorCode::InternalError, e.to_string()))?;
            answer(value, serde_json::to_value(&first).ok())
        }
        (Phase::Activate, true) => {
            let raw_payload = event.payload.as_ref().ok_or_else(|| {
                fail(ErrorCode::InvalidEvent, "lifecycle_output.Payload: missing: the activate phase's answer is needed")
            })?;
            let payload = Payload::parse(raw_payload).map_err(|e| fail(ErrorCode::InvalidEvent, format!("{e:#}")))?;
            let st = status::check(clients, &payload).await.map_err(|e| fail(ErrorCode::StatusCheckFailed, format!("{e:#}")))?;
            let detail = serde_json::to_value(&st).ok();
            let metrics = crate::metrics::activation(&st, &payload);
            match &st.outcome {
                Outcome::Running => answer(Value::Bool(false), detail),
                Outcome::Done => done(st.summary(&payload)).await.map(|h| Handled { detail, metrics, ..h }),
                Outcome::Failed { code, message } => Err(LifecycleError { metrics, ..fail(*code, message.clone()) }),
            }
        }
        (Phase::Cleanup, check) => {
            let scope = Scope {
                resource: &event.resource_name,
                execution: params.execution_id.as_deref(),
                drills: params.cleanup.drills,
                recoveries: params.cleanup.recoveries,
            };
            let st = cleanup::pass(clients, &partitions_of(clients, &resource.selection), &scope)
                .await
                .map_err(|e| fail(ErrorCode::CleanupFailed, format!("{e:#}")))?;
            let summary = json!({"phase": "cleanup", "resource": event.resource_name, "remaining": st.remaining,
                                 "terminateJobs": st.jobs, "instances": st.instances.len()});
            match (check, st.done()) {
                (false, _) => answer(summary, None),
                (true, true) => done(summary).await,
                (true, false) => answer(Value::Bool(false), Some(summary)),
            }
        }
        (Phase::Replicate, check) => {
            if params.mode == Mode::Drill {
                return Err(fail(
                    ErrorCode::PhaseNotApplicable,
                    format!(
                        "{}: replicate reverses replication after a real recovery; parameters.Mode is drill",
                        event.operation()
                    ),
                ));
            }
            let partitions = partitions_of(clients, &resource.selection);
            let st = replicate::pass(clients, &partitions, &event.resource_name, params.execution_id.as_deref())
                .await
                .map_err(|e| fail(ErrorCode::ReplicateFailed, format!("{e:#}")))?;
            let summary = json!({"phase": "replicate", "resource": event.resource_name, "instances": st.instances,
                                 "continuous": st.continuous, "reversed": st.reversed, "stuck": st.stuck});
            if !st.stuck.is_empty() {
                return Err(fail(ErrorCode::ReplicationStuck, format!("reverse replication stuck: {}", st.stuck.join("; "))));
            }
            match (check, st.done()) {
                (false, _) => answer(summary, None),
                (true, true) => done(summary).await,
                (true, false) => answer(Value::Bool(false), Some(summary)),
            }
        }
    }
}

/// Preflight only: changes nothing; fails naming every blocker.
async fn instantiate(clients: &Clients, event: &ModuleEvent, resource: &DrsResource) -> Result<Handled, LifecycleError> {
    let report = preflight(clients, resource).await.map_err(|e| fail(ErrorCode::InvalidParameters, format!("{e:#}")))?;
    if !report.ready() {
        return Err(fail(ErrorCode::PreflightBlocked, report.blockers.join("; ")));
    }
    let servers: usize = report.plan.resources.iter().map(|r| r.resolution.servers.len()).sum();
    let waves: Vec<Value> = report
        .plan
        .resources
        .iter()
        .flat_map(|r| r.waves.iter().map(|w| json!({"name": w.name, "servers": w.servers.len(), "jobs": w.jobs.len()})))
        .collect();
    answer(
        json!({"phase": "instantiate", "resourceName": event.resource_name, "ready": true, "servers": servers,
              "waves": waves, "warnings": report.warnings}),
        None,
    )
}

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

/// Step Functions' payload limit; the platform hands the phase's answer back in one.
pub const MAX_PAYLOAD: usize = 256 * 1024;

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
            let (payload, first) = activate::activate(clients, &resource, &execution)
                .await
                .map_err(|e| fail(ErrorCode::ActivationFailed, format!("{e:#}")))?;
            if let Outcome::Failed { code, message } = &first.outcome {
                return Err(fail(*code, message.clone()));
            }
            let value = serde_json::to_value(&payload).map_err(|e| fail(ErrorCode::InternalError, e.to_string()))?;
            let size = value.to_string().len();
            if size > MAX_PAYLOAD {
                return Err(fail(ErrorCode::PayloadTooLarge, format!("the lifecycle payload is {size} bytes, over 256 KiB")));
            }
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
            let identity = resource.identity();
            let scope = Scope {
                resource: &event.resource_name,
                identity: Some(&identity),
                execution: params.execution_id.as_deref(),
                drills: params.cleanup.drills,
                recoveries: params.cleanup.recoveries,
            };
            let deadline = phase_deadline(check, event.payload.as_ref(), params.cleanup_timeout_minutes);
            let st = cleanup::pass(clients, &partitions_of(clients, &resource.selection), &scope)
                .await
                .map_err(|e| fail(ErrorCode::CleanupFailed, format!("{e:#}")))?;
            let summary = json!({"phase": "cleanup", "resource": event.resource_name, "remaining": st.remaining,
                                 "terminateJobs": st.jobs, "instances": st.instances.len(),
                                 "unreachable": st.unreachable, "leftToOtherResources": st.left_to_others,
                                 "deadline": deadline.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))});
            match (check, st.done()) {
                (false, _) => answer(summary, None),
                (true, true) => done(summary).await,
                (true, false) if deadline.is_some_and(|d| chrono::Utc::now() > d) => Err(fail(
                    ErrorCode::CleanupFailed,
                    format!("{}: cleanup passed its deadline (CleanupTimeoutMinutes): {}", event.operation(), st.left()),
                )),
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
            let identity = resource.identity();
            let deadline = phase_deadline(check, event.payload.as_ref(), params.replicate_timeout_minutes);
            let st = replicate::pass(clients, &partitions, &event.resource_name, Some(&identity), params.execution_id.as_deref())
                .await
                .map_err(|e| fail(ErrorCode::ReplicateFailed, format!("{e:#}")))?;
            let summary = json!({"phase": "replicate", "resource": event.resource_name, "instances": st.instances,
                                 "continuous": st.continuous, "reversed": st.reversed, "stuck": st.stuck,
                                 "unreachable": st.unreachable,
                                 "deadline": deadline.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))});
            if !st.stuck.is_empty() {
                return Err(fail(ErrorCode::ReplicationStuck, format!("reverse replication stuck: {}", st.stuck.join("; "))));
            }
            match (check, st.done()) {
                (false, _) => answer(summary, None),
                (true, true) => done(summary).await,
                (true, false) if deadline.is_some_and(|d| chrono::Utc::now() > d) => Err(fail(
                    ErrorCode::ReplicateFailed,
                    format!("{}: replicate passed its deadline (ReplicateTimeoutMinutes): {}", event.operation(), st.left()),
                )),
                (true, false) => answer(Value::Bool(false), Some(summary)),
            }
        }
    }
}

/// The deadline of a cleanup or replicate: set by the phase call (now + the resource's
/// minutes), read back by its status checks from the phase's answer. A check handed no answer
/// has none (the phase call's own answer always carries one).
fn phase_deadline(check: bool, phase_answer: Option<&Value>, minutes: u64) -> Option<chrono::DateTime<chrono::Utc>> {
    if !check {
        return Some(chrono::Utc::now() + chrono::Duration::minutes(minutes as i64));
    }
    phase_answer?.get("deadline")?.as_str()?.parse().ok()
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

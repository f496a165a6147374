//! The platform's lifecycle entry points. An event names a phase (and, with `status`, its
//! status check); the answer is the phase's payload, or `true`/`false` from a status check,
//! or a typed error. When the event carries a task token, the module reports to the parent
//! itself: a heartbeat on each status check, SendTaskSuccess with the summary at the end,
//! SendTaskFailure on any failure, bad input included, so the parent never waits forever.
//! A callback that fails for a transient reason is retried by the next check (the run's end
//! is derived again from DRS each time); only the parent's own answer (its task timed out,
//! does not exist, the token is invalid) ends the run as ParentGone.

use crate::aws::Clients;
use crate::callbacks::{CallbackError, Callbacks};
use crate::error::ErrorCode;
use crate::event::{ModuleEvent, Phase};
use crate::ledger::{LedgerError, RunEnd};
use crate::preflight::{partitions_of, preflight};
use crate::recovery::launches::Scope;
use crate::recovery::payload::Payload;
use crate::recovery::reference::RunReference;
use crate::recovery::status::Outcome;
use crate::recovery::{activate, cleanup, replicate, run, status, tags};
use crate::report;
use crate::resource::{DrsResource, Mode};
use serde_json::{json, Value};

use crate::recovery::payload::PayloadError;

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
    // The hub's schedules and rules call entries of their own (readiness, tags-sync).
    if crate::event::entry::Entry::is_entry(raw) {
        return crate::entries::handle(clients, raw).await;
    }
    // ARC Region switch's custom-action Lambda block (its merged keys): one activation run
    // to its end across ARC's calls (`arc`).
    if crate::event::arc::Invocation::is_arc(raw) {
        return Box::pin(crate::arc::handle(clients, raw)).await;
    }
    // On the heap: a phase's future is large (callers hold two at once, or sit on a small stack).
    Box::pin(handle_phase(clients, raw)).await
}

/// One lifecycle event (a phase or its status check), as the platform sends it.
pub async fn handle_phase(clients: &Clients, raw: &Value) -> Result<Handled, LifecycleError> {
    let token = raw.get("TaskToken").and_then(Value::as_str).map(crate::secret::Secret::new);
    // As `ModuleEvent::parse` reads it: a status check carries `status`.
    let status_check = raw.get("status").is_some();
    // Writes are audited under the run once it is known; until then, the phase and resource.
    let label = ["LifeCyclePhase", "StatePayload"]
        .iter()
        .map(|k| raw.get(*k).map(|v| v.get("resourceName").unwrap_or(v)).and_then(Value::as_str).unwrap_or("?"))
        .collect::<Vec<_>>()
        .join(" ");
    let result = crate::aws::audit::scope(label, run(clients, raw)).await;
    if let (Some(token), Err(e)) = (token, &result) {
        if e.code != ErrorCode::ParentGone {
            let cb = Callbacks::new(clients.hub(), token);
            match cb.failure(e.code.as_str(), &e.message).await {
                Ok(()) | Err(CallbackError::ParentGone(_)) => {}
                // As SendTaskSuccess is: a status check answers not done, and the next check
                // finds the same end (the ledger holds it) and sends it again.
                Err(CallbackError::Failed(m)) if status_check => {
                    tracing::warn!(error = %m, code = e.code.as_str(), "SendTaskFailure failed; the next status check sends it again");
                    return Ok(Handled { answer: Value::Bool(false), detail: None, metrics: vec![] });
                }
                Err(cb_err) => tracing::warn!(error = %cb_err, "SendTaskFailure did not reach the parent"),
            }
        }
    }
    result
}

/// A heartbeat that did not get through: the parent's own answer stops the run (nobody
/// waits for it any more, so it must not run unsupervised); anything else is retried by
/// the next check's heartbeat.
fn heartbeat_result(r: Result<(), CallbackError>) -> Result<(), LifecycleError> {
    match r {
        Ok(()) => Ok(()),
        Err(CallbackError::ParentGone(m)) => Err(fail(ErrorCode::ParentGone, m)),
        Err(CallbackError::Failed(m)) => {
            tracing::warn!(error = %m, "SendTaskHeartbeat failed; the run goes on and the next check beats again");
            Ok(())
        }
    }
}

/// The phase ended: SendTaskSuccess when there is a parent, then `true`. A transient
/// failure of SendTaskSuccess answers `false` (not done) instead of failing a run that
/// finished: the next check finds the same end and sends it again. `detail` defaults to the
/// summary; `metrics` go out with the answer that ends the run, once.
async fn finish(
    callbacks: Option<&Callbacks>,
    summary: Value,
    detail: Option<Value>,
    metrics: Vec<Value>,
) -> Result<Handled, LifecycleError> {
    if let Some(cb) = callbacks {
        match cb.success(&summary).await {
            Ok(()) => {}
            Err(CallbackError::ParentGone(m)) => return Err(fail(ErrorCode::ParentGone, m)),
            Err(CallbackError::Failed(m)) => {
                tracing::warn!(error = %m, "SendTaskSuccess failed; the next status check sends it again");
                return Ok(Handled { answer: Value::Bool(false), detail: detail.or(Some(summary)), metrics: vec![] });
            }
        }
    }
    Ok(Handled { answer: Value::Bool(true), detail: detail.or(Some(summary)), metrics })
}

/// Activate's failures: an execution id whose run already ended is the parameters' (or the
/// caller's) fault, named; anything else could not plan or start the run.
fn activation_error(e: anyhow::Error, given: bool) -> LifecycleError {
    match e.downcast_ref::<run::AlreadyRan>() {
        Some(ran) if given => fail(
            ErrorCode::InvalidParameters,
            format!(
                "StatePayload.parameters.ExecutionId: '{}' belongs to an earlier run ({}): a run is not started again \
                 under its id; give this run its own ExecutionId, or leave it out",
                ran.execution, ran.evidence
            ),
        ),
        Some(ran) => {
            fail(ErrorCode::InvalidEvent, format!("{ran}: this event's run is over; a new run needs a new RunId or task token"))
        }
        None if matches!(e.downcast_ref::<PayloadError>(), Some(PayloadError::TooLarge { .. })) => {
            fail(ErrorCode::PayloadTooLarge, format!("{e:#}"))
        }
        None if e.downcast_ref::<crate::pitr::PointError>().is_some() => fail(ErrorCode::InvalidParameters, format!("{e:#}")),
        None => fail(ErrorCode::ActivationFailed, format!("{e:#}")),
    }
}

/// Records the run's end in the ledger before it is answered, and returns the end that
/// holds: this one, or the one a concurrent or earlier check recorded first, which the
/// caller answers with instead of its own.
async fn record_end(clients: &Clients, payload: &Payload, outcome: &Outcome) -> Result<RunEnd, LedgerError> {
    let ours = run::end_of(outcome, clients.now()).ok_or_else(|| LedgerError::Missing {
        table: clients.config().ledger.table_name.clone(),
        identity: payload.resource_id.clone(),
        execution: payload.execution.clone(),
    })?;
    let holds = run::record_end(clients, payload, &ours).await?;
    if holds.error != ours.error {
        tracing::warn!(execution = %payload.execution, recorded = %holds.describe(), "another check recorded the run's end first; following it");
    }
    Ok(holds)
}

/// An end the ledger did not take: a run that ended well is answered not done (the next
/// check records it and answers again); a failure is answered all the same.
fn unrecorded(e: &LedgerError, outcome: &Outcome, detail: Option<Value>, metrics: Vec<Value>) -> Result<Handled, LifecycleError> {
    match outcome {
        Outcome::Failed { code, message } => {
            tracing::warn!(error = %e, "the failed run's end could not be recorded in the ledger");
            Err(LifecycleError { metrics, ..fail(*code, message.clone()) })
        }
        _ => {
            tracing::warn!(error = %e, "the run's end could not be recorded; answering not done");
            answer(Value::Bool(false), detail)
        }
    }
}

/// A recorded failure as the platform sees it.
fn ended_failed(end: &RunEnd) -> LifecycleError {
    fail(end.error.unwrap_or(ErrorCode::InternalError), end.message.clone())
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
    // A parent gone stops the check; an activate check first records it as its run's end.
    let mut parent_gone = None;
    if event.status_check {
        if let Some(cb) = &callbacks {
            match heartbeat_result(cb.heartbeat().await) {
                Err(e) if event.phase == Phase::Activate => parent_gone = Some(e),
                r => r?,
            }
        }
    }
    let unknown = clients.config().unknown_parameters;
    let resource = DrsResource::from_event_with(&event.resource_name, event.account_id.as_deref(), &event.parameters, unknown)
        .map_err(|e| fail(ErrorCode::InvalidParameters, e.to_string()))?;
    let params = &resource.recovery;
    // A tenant kept to its accounts, and a mandatory one never left out, before anything runs.
    if matches!(event.phase, Phase::Instantiate | Phase::Activate) && !event.status_check {
        crate::hooks::tenancy::check(clients.config(), &resource)
            .map_err(|e| fail(ErrorCode::InvalidParameters, e.to_string()))?;
    }
    let done = |summary: Value| finish(callbacks.as_ref(), summary, None, vec![]);
    match (event.phase, event.status_check) {
        (Phase::Instantiate, false) => instantiate(clients, &event, &resource).await,
        // Preflight finished in the phase call: report its summary and end.
        (Phase::Instantiate, true) => done(event.payload.clone().unwrap_or(Value::Null)).await,
        (Phase::Activate, false) => {
            let given = params.execution_id.as_deref();
            let execution = tags::execution_id(given, event.task_token.as_ref(), event.run_id.as_deref(), &event.resource_name)
                .map_err(|e| fail(ErrorCode::InvalidEvent, e.to_string()))?;
            crate::aws::audit::name_run(&execution);
            let clients = &clients.for_run(&execution);
            // The platform holds a signed reference; the plan is in the ledger. Signed first:
            // a configuration without a key starts nothing.
            let reference =
                RunReference::new(clients.config().ledger.payload_key.as_ref(), &resource.name, &resource.identity(), &execution)
                    .map_err(|e| fail(ErrorCode::ActivationFailed, e.to_string()))?;
            let key = crate::ledger::RunKey::new(&resource.identity(), &execution);
            // Boxed: the activation's future is large, and the event's whole future with it.
            let (payload, first) = match Box::pin(activate::activate(clients, &resource, &execution)).await {
                Ok(started) => started,
                Err(e) => {
                    let refused = e.downcast_ref::<run::AlreadyRan>().is_some();
                    let error = activation_error(e, given.is_some());
                    // A run refused as an earlier one's has that run's report; any other
                    // refusal before a run opened gets its own, naming why.
                    if !refused {
                        let why = (error.code, error.message.as_str());
                        _ = Box::pin(report::publish::failed_activation(clients, &key, &resource.name, params.mode, why)).await;
                    }
                    return Err(error);
                }
            };
            if let Outcome::Failed { code, message } = &first.outcome {
                let error = match record_end(clients, &payload, &first.outcome).await {
                    Ok(end) if !end.succeeded() => ended_failed(&end),
                    Ok(_) => fail(ErrorCode::InternalError, "the run's first check failed while the ledger records it done"),
                    Err(e) => {
                        tracing::warn!(error = %e, "the failed run's end could not be recorded in the ledger");
                        return Err(fail(*code, message.clone()));
                    }
                };
                // Logged when it fails: the run's failure is the answer either way.
                _ = Box::pin(report::publish::at_end_of(clients, &payload.key(), Some(&first))).await;
                return Err(error);
            }
            let value = serde_json::to_value(&reference).map_err(|e| fail(ErrorCode::InternalError, e.to_string()))?;
            answer(value, serde_json::to_value(&first).ok())
        }
        (Phase::Activate, true) => {
            let raw_payload = event.payload.as_ref().ok_or_else(|| {
                fail(ErrorCode::InvalidEvent, "lifecycle_output.Payload: missing: the activate phase's answer is needed")
            })?;
            let reference = RunReference::parse(raw_payload, clients.config().ledger.payload_key.as_ref())
                .map_err(|e| fail(ErrorCode::InvalidEvent, e.to_string()))?;
            reference_is_this_runs(&reference, &event, &resource).map_err(|m| fail(ErrorCode::InvalidEvent, m))?;
            crate::aws::audit::name_run(&reference.execution);
            let clients = &clients.for_run(&reference.execution);
            if let Some(e) = parent_gone {
                return Err(Box::pin(ended_by(clients, &reference.key(), e)).await);
            }
            let run = match run::load(clients, &reference.key()).await {
                Ok(run) => run,
                // Throttled or unreachable: not done; the next check reads it again.
                Err(run::LoadError::Ledger(e)) if e.is_transient() => {
                    tracing::warn!(error = %e, "the run ledger cannot be read; answering not done");
                    return answer(Value::Bool(false), None);
                }
                Err(e) => {
                    let e = fail(ErrorCode::StatusCheckFailed, format!("{e}: the run cannot be judged without it"));
                    return Err(Box::pin(ended_by(clients, &reference.key(), e)).await);
                }
            };
            match Box::pin(activate_check(clients, callbacks.as_ref(), run)).await {
                Err(e) => Err(Box::pin(ended_by(clients, &reference.key(), e)).await),
                ok => ok,
            }
        }
        (Phase::Cleanup, check) => {
            if let Some(e) = params.execution_id.as_deref() {
                crate::aws::audit::name_run(e);
            }
            let clients = &match params.execution_id.as_deref() {
                Some(e) => clients.for_run(e),
                None => clients.clone(),
            };
            let identity = resource.identity();
            // The run a RunId names (cleanup::pass narrows to it when the ledger lists it).
            let named = event.run_id.as_deref().and_then(|r| tags::execution_id(None, None, Some(r), &resource.name).ok());
            let scope = Scope {
                resource: &event.resource_name,
                identity: Some(&identity),
                execution: params.execution_id.as_deref(),
                drills: params.cleanup.drills,
                recoveries: params.cleanup.recoveries,
            };
            let deadline = phase_deadline(clients, check, event.payload.as_ref(), params.cleanup_timeout_minutes);
            let st = cleanup::pass(clients, &partitions_of(clients, &resource.selection), &scope, named.as_deref())
                .await
                .map_err(|e| fail(ErrorCode::CleanupFailed, format!("{e:#}")))?;
            let summary = json!({"phase": "cleanup", "resource": event.resource_name, "remaining": st.remaining,
                                 "terminateJobs": st.jobs, "instances": st.instances.len(),
                                 "unreachable": st.unreachable, "launching": st.launching,
                                 "leftToOtherResources": st.left_to_others,
                                 "leftToOtherResourcesNamed": st.left_to_others_named,
                                 "runs": st.runs, "notInLedger": st.not_in_ledger, "running": st.running,
                                 "deadline": deadline.map(|d| crate::time::secs(&d))});
            let cleanup_end = report::publish::CleanupEnd {
                resource: &event.resource_name,
                identity: &identity,
                executions: &st.executions,
                failure: None,
            };
            match (check, st.done()) {
                (false, _) => answer(summary, None),
                (true, true) => {
                    let written = Box::pin(report::publish::after_cleanup(clients, &cleanup_end)).await;
                    done(with_reports(summary, &written)).await
                }
                (true, false) if deadline.is_some_and(|d| clients.now() > d) => {
                    let error = fail(
                        ErrorCode::CleanupFailed,
                        format!("{}: cleanup passed its deadline (CleanupTimeoutMinutes): {}", event.operation(), st.left()),
                    );
                    let failed = report::publish::CleanupEnd { failure: Some((error.code, &error.message)), ..cleanup_end };
                    _ = Box::pin(report::publish::after_cleanup(clients, &failed)).await;
                    Err(error)
                }
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
            let deadline = phase_deadline(clients, check, event.payload.as_ref(), params.replicate_timeout_minutes);
            let st = replicate::pass(clients, &partitions, &event.resource_name, Some(&identity), params.execution_id.as_deref())
                .await
                .map_err(|e| fail(ErrorCode::ReplicateFailed, format!("{e:#}")))?;
            let summary = json!({"phase": "replicate", "resource": event.resource_name, "instances": st.instances,
                                 "continuous": st.continuous, "reversed": st.reversed, "stuck": st.stuck,
                                 "unreachable": st.unreachable,
                                 "deadline": deadline.map(|d| crate::time::secs(&d))});
            if !st.stuck.is_empty() {
                return Err(fail(ErrorCode::ReplicationStuck, format!("reverse replication stuck: {}", st.stuck.join("; "))));
            }
            match (check, st.done()) {
                (false, _) => answer(summary, None),
                (true, true) => done(summary).await,
                (true, false) if deadline.is_some_and(|d| clients.now() > d) => Err(fail(
                    ErrorCode::ReplicateFailed,
                    format!("{}: replicate passed its deadline (ReplicateTimeoutMinutes): {}", event.operation(), st.left()),
                )),
                (true, false) => answer(Value::Bool(false), Some(summary)),
            }
        }
    }
}

/// One `activate_status_check` of a run read back from the ledger. An end once recorded is
/// the answer: a failed run is not judged again (nothing starts after it), a run that ended
/// well is summarized again.
async fn activate_check(clients: &Clients, callbacks: Option<&Callbacks>, run: run::Loaded) -> Result<Handled, LifecycleError> {
    if let Some(end) = run.record.end.as_ref().filter(|e| !e.succeeded()) {
        return Err(ended_failed(end));
    }
    let (record, payload) = (&run.record, &run.plan);
    let st = status::check(clients, payload, record).await.map_err(|e| fail(ErrorCode::StatusCheckFailed, format!("{e:#}")))?;
    let detail = serde_json::to_value(&st).ok();
    let metrics = crate::metrics::activation(&st, payload);
    let outcome = if record.end.is_some() { Outcome::Done } else { st.outcome.clone() };
    match &outcome {
        Outcome::Running => answer(Value::Bool(false), detail),
        ended => {
            let end = match record_end(clients, payload, ended).await {
                Ok(end) => end,
                Err(e) => return unrecorded(&e, ended, detail, metrics),
            };
            // The report of the end that holds; written once, whatever the answer.
            let ended_run = run::Loaded {
                record: crate::ledger::RunRecord { end: Some(end.clone()), ..run.record.clone() },
                plan: run.plan.clone(),
            };
            let published = Box::pin(report::publish::at_end(clients, &ended_run, Some(&st))).await;
            let mut metrics = metrics;
            if let Some(o) = published.objectives() {
                metrics.extend(crate::metrics::objectives(o, &payload.resource, payload.mode, &payload.execution, end.at));
            }
            if end.succeeded() {
                let mut summary = st.summary(payload);
                if let Some(m) = summary.as_object_mut() {
                    if let Some((k, v)) = report::publish::answer_field(&published.written) {
                        m.insert(k.to_owned(), v);
                    }
                    // What the run achieved against its objectives, as its report judged it.
                    if let Some(o) = published.objectives() {
                        m.insert("objectives".into(), crate::objectives::summary(o));
                    }
                }
                finish(callbacks, summary, detail, metrics).await
            } else {
                Err(LifecycleError { metrics, ..ended_failed(&end) })
            }
        }
    }
}

/// The cleanup's answer with where each cleaned run's report is (`reports`) and why any is
/// not (`reportErrors`).
fn with_reports(mut summary: Value, written: &[Result<Option<report::store::Location>, report::publish::PublishError>]) -> Value {
    let at: Vec<String> =
        written.iter().filter_map(|r| r.as_ref().ok().and_then(Option::as_ref).map(ToString::to_string)).collect();
    let errors: Vec<String> = written.iter().filter_map(|r| r.as_ref().err().map(ToString::to_string)).collect();
    if let Some(m) = summary.as_object_mut() {
        if !at.is_empty() {
            m.insert("reports".into(), json!(at));
        }
        if !errors.is_empty() {
            m.insert("reportErrors".into(), json!(errors));
        }
    }
    summary
}

/// A status check acts on the run its payload names: one handed another resource's payload,
/// or another run's (a platform mix-up, or a crafted event), would judge, start and answer for
/// that run under this event's token. Refused before any call, naming the field.
fn reference_is_this_runs(payload: &RunReference, event: &ModuleEvent, resource: &DrsResource) -> Result<(), String> {
    if payload.resource != event.resource_name {
        return Err(format!(
            "lifecycle_output.Payload.resource: '{}' is not this event's resource '{}'",
            payload.resource, event.resource_name
        ));
    }
    if payload.identity != resource.identity() {
        return Err(format!(
            "lifecycle_output.Payload.rid: the activation was for another selection of '{}' (its HostNames, \
             Tags, accounts or regions changed since): a run goes on as activated, so start a new one",
            event.resource_name
        ));
    }
    let given = resource.recovery.execution_id.as_deref();
    // Derivable from the event (a token, a RunId or an ExecutionId): it must be the payload's.
    if let Ok(expected) = tags::execution_id(given, event.task_token.as_ref(), event.run_id.as_deref(), &event.resource_name) {
        if expected != payload.execution {
            return Err(format!(
                "lifecycle_output.Payload.execution: '{}' is not the execution this event's {} gives ('{expected}')",
                payload.execution,
                if given.is_some() {
                    "parameters.ExecutionId"
                } else if event.task_token.is_some() {
                    "task token"
                } else {
                    "RunId"
                }
            ));
        }
    }
    Ok(())
}

/// The deadline of a cleanup or replicate: set by the phase call (now + the resource's
/// minutes), read back by its status checks from the phase's answer. A check handed no answer
/// has none (the phase call's own answer always carries one).
fn phase_deadline(
    clients: &Clients,
    check: bool,
    phase_answer: Option<&Value>,
    minutes: u64,
) -> Option<chrono::DateTime<chrono::Utc>> {
    if !check {
        return Some(clients.now() + chrono::Duration::minutes(minutes as i64));
    }
    phase_answer?.get("deadline")?.as_str()?.parse().ok()
}

/// A status check that fails (the parent told so, or gone) ends its run: nothing checks it
/// again, so it launches nothing more, and cleanup must not wait for it as for a run still
/// going. The end is recorded once (one recorded already holds); a write that fails is
/// logged: the run then counts as going until its deadline.
async fn ended_by(clients: &Clients, key: &crate::ledger::RunKey, e: LifecycleError) -> LifecycleError {
    let end = RunEnd::failed(e.code, &e.message, clients.now());
    if let Err(w) = crate::ledger::of(clients).end(key, &end).await {
        tracing::warn!(error = %w, code = e.code.as_str(), "the failed check's end was not recorded");
    }
    e
}

/// Preflight: changes nothing in the target accounts; fails naming every blocker. A ready
/// resource claims its static private addresses in the run ledger (`launch::claims`): one
/// another resource holds is a blocker too.
async fn instantiate(clients: &Clients, event: &ModuleEvent, resource: &DrsResource) -> Result<Handled, LifecycleError> {
    let report = preflight(clients, resource).await.map_err(|e| fail(ErrorCode::InvalidParameters, format!("{e:#}")))?;
    if !report.ready() {
        let lines: Vec<String> = report.blockers.iter().map(ToString::to_string).collect();
        return Err(fail(ErrorCode::PreflightBlocked, lines.join("; ")));
    }
    let held = Box::pin(crate::launch::claims::claim(clients, &event.resource_name, &report.address_asks))
        .await
        .map_err(|e| fail(ErrorCode::PreflightBlocked, format!("static addresses could not be claimed: {e}")))?;
    if !held.is_empty() {
        let lines: Vec<String> = held
            .iter()
            .map(|p| {
                crate::preflight::Finding::at(crate::preflight::Concern::LaunchServers, &p.server, p.to_string()).to_string()
            })
            .collect();
        return Err(fail(ErrorCode::PreflightBlocked, lines.join("; ")));
    }
    let servers: usize = report.plan.resources.iter().map(|r| r.resolution.servers.len()).sum();
    let waves: Vec<Value> = report
        .plan
        .resources
        .iter()
        .flat_map(|r| r.waves.iter().map(|w| json!({"name": w.name, "servers": w.servers.len(), "jobs": w.jobs.len()})))
        .collect();
    // How long activation will take, from the DRS job history (`forecast/`).
    let assume = crate::forecast::Assumptions::from(&clients.config().forecast);
    let forecast = crate::forecast::of_plan(clients, &report.plan, &[resource], assume).await.into_iter().next();
    answer(
        json!({"phase": "instantiate", "resourceName": event.resource_name, "ready": true, "servers": servers,
              "waves": waves, "warnings": report.warnings, "forecast": forecast}),
        None,
    )
}

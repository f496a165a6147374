//! An ARC Region switch step: the Lambda as a plan's custom-action Lambda block. ARC calls
//! the function, and calls it again after the block's retry interval until it succeeds or the
//! step times out; every call with the same PlanArn, ExecutionId and StepName is one run of the
//! module (its RunId is their digest, `event::arc`). The first call activates; a later one
//! finds the run in the ledger and makes one status check of it. A run still going fails the
//! call `InProgress` (ARC takes a function error as "not yet" and calls again); a run that
//! ended well answers its summary; a failed run fails every call with its error; a call more
//! than `idempotencyLookbackMinutes` after the end is another execution's, refused. Nothing here
//! starts a run twice: a concurrent first call follows the run the ledger opened, and an ended
//! run's end is read back from the ledger, never judged again.

use crate::aws::Clients;
use crate::error::ErrorCode;
use crate::event::arc::Invocation;
use crate::ledger::RunKey;
use crate::lifecycle::{Handled, LifecycleError};
use crate::recovery::progress::{Status, WaveState};
use crate::recovery::reference::RunReference;
use crate::recovery::{run, tags};
use crate::resource::DrsResource;
use serde_json::Value;

fn fail(code: ErrorCode, message: impl Into<String>) -> LifecycleError {
    LifecycleError { code, message: message.into(), metrics: vec![] }
}

pub async fn handle(clients: &Clients, raw: &Value) -> Result<Handled, LifecycleError> {
    let inv = Invocation::parse(raw).map_err(|e| fail(ErrorCode::InvalidEvent, e.to_string()))?;
    let activate = inv.lifecycle_event(None);
    let (resource, key) = run_of(clients, &inv)?;
    let handled = match opened(clients, &key).await? {
        // The first call (or one whose first call failed before the run opened).
        None => Box::pin(crate::lifecycle::handle_phase(clients, &activate)).await?,
        Some(ended) => {
            late(clients, &key, ended)?;
            let reference = RunReference::new(
                clients.config().ledger.payload_key.as_ref(),
                &resource.name,
                &resource.identity(),
                &key.execution,
            )
            .map_err(|e| fail(ErrorCode::StatusCheckFailed, e.to_string()))?;
            let reference = serde_json::to_value(&reference).map_err(|e| fail(ErrorCode::InternalError, e.to_string()))?;
            Box::pin(crate::lifecycle::handle_phase(clients, &inv.lifecycle_event(Some(&reference)))).await?
        }
    };
    match handled.answer {
        Value::Bool(true) => Ok(Handled { answer: summary(clients, &key, handled.detail.as_ref()).await?, ..handled }),
        // activate's answer (the run's reference) or a check's `false`: the run goes on.
        _ => Err(in_progress(&inv, &key.execution, handled.detail.as_ref())),
    }
}

/// The resource and the ledger key of the invocation's run, as the lifecycle computes them.
fn run_of(clients: &Clients, inv: &Invocation) -> Result<(DrsResource, RunKey), LifecycleError> {
    let sp = inv.state_payload();
    let unknown = clients.config().unknown_parameters;
    let account = inv.resource.account_id.as_deref();
    let resource = DrsResource::from_event_with(&inv.resource.resource_name, account, &sp["parameters"], unknown)
        .map_err(|e| fail(ErrorCode::InvalidParameters, format!("Resource.{e}")))?;
    let execution = tags::execution_id(None, None, Some(&inv.run_id()), &resource.name)
        .map_err(|e| fail(ErrorCode::InvalidEvent, e.to_string()))?;
    let key = RunKey::new(&resource.identity(), &execution);
    Ok((resource, key))
}

/// A call long after its run ended is not that run's step: ARC stops calling once a step has
/// its answer, so this is another execution that carries the same ExecutionId, StepName and
/// PlanArn (a block payload that sets them itself: its keys win over ARC's). Answering it with
/// the old run's success would report a recovery that did not happen in it.
fn late(clients: &Clients, key: &RunKey, ended: Option<chrono::DateTime<chrono::Utc>>) -> Result<(), LifecycleError> {
    let minutes = clients.config().idempotency_lookback_minutes;
    let Some(at) = ended.filter(|at| clients.now() > *at + chrono::Duration::minutes(minutes as i64)) else { return Ok(()) };
    Err(fail(
        ErrorCode::InvalidEvent,
        format!(
            "run {} of this PlanArn, ExecutionId and StepName ended at {}, more than idempotencyLookbackMinutes ({minutes}) \
             ago: this call belongs to another execution; a Lambda block's payload must not set ExecutionId, StepName or \
             PlanArn (ARC's keys)",
            key.execution,
            crate::time::secs(&at)
        ),
    ))
}

/// Whether the ledger holds the run, and when it ended. Unreadable for now (throttled): the
/// call is not done, and ARC's next call reads it again; starting a run on a guess could start
/// it twice.
async fn opened(clients: &Clients, key: &RunKey) -> Result<Option<Option<chrono::DateTime<chrono::Utc>>>, LifecycleError> {
    match crate::ledger::of(clients).get(key).await {
        Ok(record) => Ok(record.map(|r| r.end.map(|e| e.at))),
        Err(e) if e.is_transient() => Err(fail(
            ErrorCode::InProgress,
            format!("run {}: the run ledger cannot be read now ({e}); ARC calls again", key.execution),
        )),
        Err(e) => Err(fail(ErrorCode::StatusCheckFailed, e.to_string())),
    }
}

/// The answer of a run that ended well: the summary the platform's parent gets.
async fn summary(clients: &Clients, key: &RunKey, detail: Option<&Value>) -> Result<Value, LifecycleError> {
    let status = detail.and_then(|d| serde_json::from_value::<Status>(d.clone()).ok());
    let status = status.ok_or_else(|| fail(ErrorCode::InternalError, "the ended run's status check gave no status"))?;
    // Ended well and summarized: a ledger that cannot be read now is ARC's next call's to read.
    let run = run::load(clients, key)
        .await
        .map_err(|e| fail(ErrorCode::InProgress, format!("run {}: ended; its summary cannot be read now: {e}", key.execution)))?;
    Ok(status.summary(&run.plan))
}

/// The error a running step answers with: the run and how far it got.
fn in_progress(inv: &Invocation, execution: &str, detail: Option<&Value>) -> LifecycleError {
    let progress = detail.and_then(|d| serde_json::from_value::<Status>(d.clone()).ok()).map(|st| {
        let done = st.waves.iter().filter(|w| w.state == WaveState::Completed).count();
        let launched: usize = st.waves.iter().map(|w| w.launched).sum();
        let servers: usize = st.waves.iter().map(|w| w.servers).sum();
        format!(": {done} of {} waves completed, {launched} of {servers} servers launched", st.waves.len())
    });
    fail(
        ErrorCode::InProgress,
        format!(
            "{} (step '{}'): run {execution} is in progress{}; ARC calls again after the block's retry interval",
            inv.resource.resource_name,
            inv.step_name,
            progress.unwrap_or_default()
        ),
    )
}

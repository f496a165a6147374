//! A run's opening and its end, decided in the run ledger (`ledger/`). Activate opens the run
//! with a conditional write: the first call writes the record, and a re-delivered or
//! concurrent activate of the same run reads it back and follows it (its times, its end).
//! An execution id whose run ended, whatever its outcome, is refused by name. Before the
//! ledger is asked, what DRS and Step Functions hold is read as evidence of an earlier run
//! the ledger may not know (a new table, one restored without the record): the run's jobs in
//! the lookback window, its approvals already answered, or one still waiting since before the
//! window. The evidence counts only when this call opened the record: whoever started those
//! jobs in this run opened it first.

use super::gate;
use super::observe;
use super::payload::Payload;
use super::progress::Outcome;
use crate::aws::Clients;
use crate::config::Partition;
use crate::error::ErrorCode;
use crate::ledger::{self, Opened, RunEnd, RunRecord, RECORD_VERSION};
use crate::resource::DrsResource;
use aws_sdk_sfn::types::ExecutionStatus;

/// Rounds of reading again the partitions that could not be read (`earlier_run`).
const RETRY_ROUNDS: u32 = 3;

/// An execution id that already belongs to an earlier run (ended, or left waiting).
#[derive(Debug, thiserror::Error)]
#[error("execution '{execution}' belongs to an earlier run: {evidence}")]
pub struct AlreadyRan {
    pub execution: String,
    /// What shows it, with when: the ledger's record, a job, or an answered approval.
    pub evidence: String,
}

/// The run's record as activate opens it.
pub fn record_of(resource: &DrsResource, payload: &Payload) -> RunRecord {
    let key = payload.key();
    RunRecord {
        pk: key.pk(),
        sk: key.sk(),
        version: RECORD_VERSION,
        resource: payload.resource.clone(),
        identity: payload.resource_id.clone(),
        execution: payload.execution.clone(),
        params_digest: resource.params_digest(),
        definition_digest: Some(resource.definition_digest()),
        mode: payload.mode,
        tenant: payload.tenant.clone(),
        hooks: payload.hooks.clone(),
        started: payload.since,
        jobs_from: payload.jobs_from,
        deadline: payload.deadline,
        servers: payload.server_count(),
        waves: payload.waves.len(),
        gates: Default::default(),
        answers: Default::default(),
        crossings: Default::default(),
        completed: Default::default(),
        holds: Default::default(),
        given_up: Default::default(),
        busy: Default::default(),
        down: Default::default(),
        lost: Default::default(),
        repointed: Default::default(),
        end: None,
        partitions: payload.partitions.clone(),
        cleanup: Default::default(),
    }
}

/// Opens the run in the ledger (its record and plan), or follows the run a first delivery
/// opened. Fails with `AlreadyRan` for an execution id whose run ended, one opened
/// with other parameters, or (when this call opened the record) one that DRS or Step
/// Functions show ran before; such a refusal is recorded as the run's end, so that a later
/// delivery is refused the same way.
pub async fn open(clients: &Clients, resource: &DrsResource, payload: &Payload) -> anyhow::Result<Opening> {
    let plan_text = payload.text()?;
    let evidence = earlier_run(clients, payload).await?;
    let ours = record_of(resource, payload);
    let store = ledger::of(clients);
    match open_retrying(&store, &ours, &plan_text).await? {
        Opened::New => match evidence {
            None => Ok(Opening::New(ours)),
            Some(evidence) => {
                let refused = AlreadyRan { execution: payload.execution.clone(), evidence };
                let end = RunEnd::failed(ErrorCode::InvalidParameters, &refused.to_string(), clients.now());
                store.end(&ours.key(), &end).await?;
                Err(refused.into())
            }
        },
        Opened::Existing(theirs) => {
            if let Some(end) = &theirs.end {
                let evidence = format!("the run ledger records it {}", end.describe());
                return Err(AlreadyRan { execution: payload.execution.clone(), evidence }.into());
            }
            // A re-delivered activate comes within the lookback window; a run opened before it
            // that never ended is an earlier run of the id (a schedule run again, say).
            if theirs.started < ours.jobs_from {
                let evidence = format!(
                    "the run opened at {} never ended, and that is before this activation's lookback window (from {}, \
                     idempotencyLookbackMinutes): an activate delivered again comes within it",
                    crate::time::secs(&theirs.started),
                    crate::time::secs(&ours.jobs_from)
                );
                return Err(AlreadyRan { execution: payload.execution.clone(), evidence }.into());
            }
            if theirs.params_digest != ours.params_digest {
                let evidence = format!(
                    "the run opened at {} with other parameters is still running (a re-delivered activate \
                     carries the same parameters)",
                    crate::time::secs(&theirs.started)
                );
                return Err(AlreadyRan { execution: payload.execution.clone(), evidence }.into());
            }
            Ok(Opening::Following(load(clients, &theirs.key()).await?))
        }
    }
}

/// What `open` found: this call opened the run, or it follows the run a first delivery
/// opened, with that delivery's plan (discovery now might plan otherwise).
#[derive(Debug)]
pub enum Opening {
    New(RunRecord),
    Following(Loaded),
}

/// A run as the ledger holds it: its record and its plan.
#[derive(Debug)]
pub struct Loaded {
    pub record: RunRecord,
    pub plan: Payload,
}

/// Why a run could not be read back from the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The ledger did not answer, or holds no such run.
    #[error(transparent)]
    Ledger(#[from] ledger::LedgerError),
    /// The plan's text is not a plan, or not this record's.
    #[error("run ledger: the plan of execution '{execution}' cannot be read: {why}")]
    Plan { execution: String, why: String },
}

/// The run a lifecycle payload refers to, for tools that hold the payload (the CLI's drill
/// and its report, benchmarks, tests).
pub async fn of_payload(clients: &Clients, payload: &serde_json::Value) -> anyhow::Result<Loaded> {
    let reference = super::reference::RunReference::parse(payload, clients.config().ledger.payload_key.as_ref())?;
    Ok(load(clients, &reference.key()).await?)
}

/// The run's record and plan. What the record holds (identity, mode, times, tenant, hooks)
/// is the plan's: the record is the authority, and the plan must be the record's own.
pub async fn load(clients: &Clients, key: &ledger::RunKey) -> Result<Loaded, LoadError> {
    let store = ledger::of(clients);
    let record = store.get(key).await?.ok_or_else(|| ledger::LedgerError::Missing {
        table: store.table().to_owned(),
        identity: key.identity.clone(),
        execution: key.execution.clone(),
    })?;
    let text = store.plan(key).await?;
    let bad = |why: String| LoadError::Plan { execution: key.execution.clone(), why };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let plan = Payload::parse(&value).map_err(|e| bad(format!("{e:#}")))?;
    let same = plan.execution == record.execution
        && plan.resource_id == record.identity
        && plan.mode == record.mode
        && plan.tenant == record.tenant
        && plan.hooks == record.hooks
        && (plan.since, plan.jobs_from, plan.deadline) == (record.started, record.jobs_from, record.deadline)
        && plan.server_count() == record.servers;
    if !same {
        return Err(bad("it does not match the run's record (written by hand?)".into()));
    }
    let mut plan = plan;
    super::repoint::apply(&mut plan, &record);
    Ok(Loaded { record, plan })
}

/// The opening write, sent again (up to `RETRY_ROUNDS` more times, with a growing pause)
/// while it fails in a way that may pass: nothing has started yet, and a write that was
/// applied with its reply lost is found on the next try (the record exists: this run's own).
async fn open_retrying(store: &ledger::Ledger, record: &RunRecord, plan_text: &str) -> Result<Opened, ledger::LedgerError> {
    let mut round = 0;
    loop {
        match store.open(record, plan_text).await {
            Err(e) if e.is_transient() && round < RETRY_ROUNDS => {
                round += 1;
                tracing::warn!(error = %e, round, "the run could not be opened in the ledger; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(round))).await;
            }
            other => return other,
        }
    }
}

fn partitions(payload: &Payload) -> anyhow::Result<Vec<Partition>> {
    (0..payload.partitions.len()).map(|i| payload.partition(i)).collect()
}

/// What DRS and Step Functions show of an earlier run with this run's tags and approval
/// names: its jobs in the lookback window, an approval already answered, or one waiting since
/// before the window. None when they show nothing.
async fn earlier_run(clients: &Clients, payload: &Payload) -> anyhow::Result<Option<String>> {
    let mut parts = partitions(payload)?;
    // Read at once, partitions throttled past the SDK's retries (or not answering) are read
    // again, up to 3 more times with a growing pause: a storm should slow an activate, not
    // fail it.
    for round in 0..=RETRY_ROUNDS {
        let observed = observe::jobs(clients, &parts, payload.run(), &payload.jobs_from_text()).await;
        if let Some(j) = observed.jobs.iter().min_by_key(|j| j.created) {
            let when = j.created.map(|t| crate::time::secs(&t)).unwrap_or_default();
            return Ok(Some(format!(
                "its job {} in {} was created {when}, and the run ledger holds no record of that run",
                j.job_id, j.partition
            )));
        }
        let Some((i, e)) = observed.down.first_key_value() else { break };
        // A partition that cannot be read could hold the only trace of an earlier run.
        if round == RETRY_ROUNDS {
            anyhow::bail!("{}: {e} (the execution's earlier runs could not be looked for)", parts[*i]);
        }
        parts = observed.down.keys().map(|i| parts[*i].clone()).collect();
        tokio::time::sleep(std::time::Duration::from_millis(500 * (u64::from(round) + 1))).await;
    }
    let Some(approvals) = clients.config().approvals.as_ref() else { return Ok(None) };
    let sfn = aws_sdk_sfn::Client::new(clients.hub());
    for (w, wave) in payload.waves.iter().enumerate() {
        let Some(arn) = gate::execution_arn(&approvals.state_machine_arn, &gate::execution_name(payload.run(), w)) else {
            continue;
        };
        match sfn.describe_execution().execution_arn(&arn).send().await {
            Ok(d) if !matches!(d.status(), ExecutionStatus::Running | ExecutionStatus::PendingRedrive) => {
                let when = d.stop_date().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
                return Ok(Some(format!(
                    "the approval of its wave {} ended {} at {} ({arn})",
                    wave.name,
                    d.status().as_str(),
                    when.unwrap_or_default()
                )));
            }
            Ok(d) => {
                let asked = chrono::DateTime::from_timestamp(d.start_date().secs(), 0);
                if let Some(asked) = asked.filter(|t| *t < payload.jobs_from) {
                    return Ok(Some(format!(
                        "the approval of its wave {} has been waiting since {}, before this activation's lookback window \
                         (from {}): {arn}",
                        wave.name,
                        crate::time::secs(&asked),
                        payload.jobs_from_text()
                    )));
                }
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_does_not_exist()) => {}
            Err(e) => anyhow::bail!("states:DescribeExecution {arn}: {}", crate::aws::errors::display_chain(&e)),
        }
    }
    Ok(None)
}

/// The ledger's end for an outcome (None while the run goes on).
pub fn end_of(outcome: &Outcome, at: chrono::DateTime<chrono::Utc>) -> Option<RunEnd> {
    match outcome {
        Outcome::Running => None,
        Outcome::Done => Some(RunEnd::done(at)),
        Outcome::Failed { code, message } => Some(RunEnd::failed(*code, message, at)),
    }
}

/// Records the run's end (a conditional write: only the first end counts) and returns the
/// end that holds, which the caller answers with, even when it is not the one it found.
pub async fn record_end(clients: &Clients, payload: &Payload, end: &RunEnd) -> Result<RunEnd, ledger::LedgerError> {
    ledger::of(clients).end(&payload.key(), end).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_becomes_the_ledgers_end() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T01:02:03Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(end_of(&Outcome::Running, at), None);
        assert_eq!(end_of(&Outcome::Done, at).unwrap().describe(), "done at 2026-12-01T01:02:03Z");
        let failed = Outcome::Failed { code: ErrorCode::WaveFailed, message: "x".into() };
        let end = end_of(&failed, at).unwrap();
        assert_eq!((end.describe().as_str(), end.message.as_str()), ("failed (WaveFailed) at 2026-12-01T01:02:03Z", "x"));
    }
}

//! Writing each run's report when the run ends, whatever drove it (the platform, the
//! standalone state machine, the CLI's drill: all go through `lifecycle`), and again when its
//! cleanup ends, with the cleanup's final state as the ledger holds it after the pass that
//! found nothing left. A report is the run's: written at its own key once (a repeated end
//! finds it there and leaves it), replaced only by a cleanup that changes what it says. A
//! failure here is logged and named in the answer; it never changes the run's outcome.
//! The bucket is the hub's own: these writes are not cross-account, so they are not audit
//! records (`aws/audit.rs` records the writes in target accounts).

use super::from_ledger;
use super::store::{Location, Store, StoreError};
use super::RunReport;
use crate::aws::Clients;
use crate::error::ErrorCode;
use crate::ledger::{LedgerError, RunKey};
use crate::recovery::progress::Status;
use crate::recovery::run::{self, Loaded};
use crate::resource::Mode;
use serde_json::json;

/// Why a run's report was not written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The bucket refused or could not be reached.
    #[error("the run report was not written: {0}")]
    Store(#[from] StoreError),
    /// The run's record or plan could not be read back for it.
    #[error("the run report of execution {execution} was not written: the run ledger: {reason}")]
    Ledger { execution: String, reason: String },
    /// DRS or EC2 could not be read for it.
    #[error("the run report of execution {execution} was not written: {reason}")]
    Build { execution: String, reason: String },
}

/// What the answer says of the report: where it is, or why it is not.
pub fn answer_field(result: &Result<Option<Location>, PublishError>) -> Option<(&'static str, serde_json::Value)> {
    match result {
        Ok(Some(at)) => Some(("report", json!(at.to_string()))),
        Ok(None) => None,
        Err(e) => Some(("reportError", json!(e.to_string()))),
    }
}

fn logged(result: Result<Option<Location>, PublishError>, execution: &str) -> Result<Option<Location>, PublishError> {
    match &result {
        Ok(Some(at)) => tracing::info!(execution, report = %at, "run report in place"),
        Ok(None) => {}
        Err(e) => tracing::warn!(execution, error = %e, "the run report was not written; the run's outcome stands"),
    }
    result
}

/// What the end of a run left of its report: where it is (None without a reports bucket), or
/// why it is not; and the report itself, as written or found there (built without a bucket
/// too: the summary and the metrics take the run's objectives from it).
pub struct AtEnd {
    pub written: Result<Option<Location>, PublishError>,
    pub report: Option<RunReport>,
}

impl AtEnd {
    /// The objectives of the run's resource, as its report judged them.
    pub fn objectives(&self) -> Option<&crate::objectives::Objectives> {
        self.report.as_ref()?.resources.first()?.objectives.as_ref()
    }
}

/// The report of a run that ended (its end recorded in `run.record`), written unless it is
/// there already.
pub async fn at_end(clients: &Clients, run: &Loaded, status: Option<&Status>) -> AtEnd {
    let execution = run.plan.execution.clone();
    let mut report = None;
    let written = write_once(clients, run, status, &mut report).await;
    AtEnd { written: logged(written, &execution), report }
}

async fn write_once(
    clients: &Clients,
    run: &Loaded,
    status: Option<&Status>,
    report: &mut Option<RunReport>,
) -> Result<Option<Location>, PublishError> {
    let build = || async {
        from_ledger::build(clients, run, status)
            .await
            .map_err(|e| PublishError::Build { execution: run.plan.execution.clone(), reason: format!("{e:#}") })
    };
    let Some(store) = Store::of(clients) else {
        *report = Some(build().await?);
        return Ok(None);
    };
    let at = store.location(&run.plan.resource, &run.plan.execution);
    // A repeated end finds the report in place: the one written first is the run's (one that
    // no longer reads as a report is left as it is, too).
    match store.read(&at).await {
        Ok(Some(existing)) => {
            *report = Some(existing);
            return Ok(Some(at));
        }
        Ok(None) => {}
        Err(StoreError::Unreadable { .. }) => return Ok(Some(at)),
        Err(e) => return Err(e.into()),
    }
    let built = report.insert(build().await?);
    store.write(&at, built).await?;
    Ok(Some(at))
}

/// The report of a run whose first check ended it: read back from the ledger first.
pub async fn at_end_of(clients: &Clients, key: &RunKey, status: Option<&Status>) -> Result<Option<Location>, PublishError> {
    match run::load(clients, key).await {
        Ok(run) => Box::pin(at_end(clients, &run, status)).await.written,
        Err(e) => logged(Err(PublishError::Ledger { execution: key.execution.clone(), reason: e.to_string() }), &key.execution),
    }
}

/// The report of an activation refused before any run was opened under its execution (no
/// record in the ledger: a run that exists writes its own report when it ends).
pub async fn failed_activation(
    clients: &Clients,
    key: &RunKey,
    resource: &str,
    mode: Mode,
    error: (ErrorCode, &str),
) -> Result<Option<Location>, PublishError> {
    let result = async {
        let Some(store) = Store::of(clients) else { return Ok(None) };
        let ledger_error = |e: LedgerError| PublishError::Ledger { execution: key.execution.clone(), reason: e.to_string() };
        if crate::ledger::of(clients).get(key).await.map_err(ledger_error)?.is_some() {
            return Ok(None);
        }
        let at = store.location(resource, &key.execution);
        if !store.exists(&at).await? {
            let report = from_ledger::failed_activation(clients, resource, &key.execution, mode, error.0, error.1);
            store.write(&at, &report).await?;
        }
        Ok(Some(at))
    }
    .await;
    logged(result, &key.execution)
}

/// How a cleanup ended, for the reports of the runs it cleaned.
pub struct CleanupEnd<'a> {
    pub resource: &'a str,
    pub identity: &'a str,
    /// The runs in the cleanup's scope, as the ledger listed them.
    pub executions: &'a [String],
    /// None: done; else the error that ended it (its deadline).
    pub failure: Option<(ErrorCode, &'a str)>,
}

/// Each cleaned run's report with the cleanup as the ledger holds it after the last pass
/// (remaining, terminate jobs, what kept it open, when first found clean): built from the
/// ledger when the run has none yet, left as it is when it already says the same.
pub async fn after_cleanup(clients: &Clients, end: &CleanupEnd<'_>) -> Vec<Result<Option<Location>, PublishError>> {
    let mut out = vec![];
    for execution in end.executions {
        let result = Box::pin(cleanup_one(clients, end, execution)).await;
        out.push(logged(result, execution));
    }
    out
}

async fn cleanup_one(clients: &Clients, end: &CleanupEnd<'_>, execution: &str) -> Result<Option<Location>, PublishError> {
    let Some(store) = Store::of(clients) else { return Ok(None) };
    let at = store.location(end.resource, execution);
    let key = RunKey::new(end.identity, execution);
    // The last read: the record as the pass that ended the cleanup left it.
    let run = run::load(clients, &key)
        .await
        .map_err(|e| PublishError::Ledger { execution: execution.to_owned(), reason: e.to_string() })?;
    let existing = store.read(&at).await?;
    let base = match &existing {
        Some(r) => r.clone(),
        None => from_ledger::build(clients, &run, None)
            .await
            .map_err(|e| PublishError::Build { execution: execution.to_owned(), reason: format!("{e:#}") })?,
    };
    let phase = from_ledger::cleanup_phase(end.resource, &run.record, &base, end.failure);
    let report = from_ledger::with_phase(base, phase);
    if existing.as_ref().is_some_and(|e| e.json() == report.json()) {
        return Ok(Some(at));
    }
    store.write(&at, &report).await?;
    Ok(Some(at))
}

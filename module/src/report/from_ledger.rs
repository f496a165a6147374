//! One run's report built from what the run left: its record and plan in the ledger (the
//! run's start and end, completed waves, hook skips, servers given up, what the selection
//! left out) and its jobs and recovery instances in DRS and EC2 (`collect.rs`). Every time
//! in it is on the run's clock, which the report states.

use super::{collect, PhaseReport, ResourceReport, RunReport, Verdict};
use crate::aws::Clients;
use crate::error::ErrorCode;
use crate::ledger::RunRecord;
use crate::recovery::progress::{Outcome, Status, WaveProgress};
use crate::recovery::run::Loaded;
use crate::resource::Mode;
use chrono::{DateTime, Utc};

/// The report of a run, as its last status check saw it (`status`), or as the ledger
/// recorded its waves when there is none at hand (a report first built at cleanup).
pub async fn build(clients: &Clients, run: &Loaded, status: Option<&Status>) -> anyhow::Result<RunReport> {
    let (record, plan) = (&run.record, &run.plan);
    let recorded;
    let status = match status {
        Some(s) => Some(s),
        None => {
            recorded = recorded_status(record, plan);
            Some(&recorded)
        }
    };
    let error = match &record.end {
        Some(e) => e.error.map(|code| (code, e.message.clone())),
        // No end recorded (a report first built at cleanup, of a run whose parent's task ended
        // or whose checks stopped before its end): never a success the run did not have.
        None => Some((
            ErrorCode::Timeout,
            format!(
                "the run recorded no end: its status checks stopped before it ended (its deadline {})",
                crate::time::secs(&record.deadline)
            ),
        )),
    };
    let resource = collect::resource(clients, 1, plan, status, error, Some(record)).await?;
    // A report written before the end is recorded (none is) would say it ends now.
    let ended = record.end.as_ref().map(|e| e.at).unwrap_or_else(|| clients.now());
    Ok(RunReport {
        source: format!("{} (execution {})", plan.resource, plan.execution),
        mode: record.mode,
        started: record.started,
        ended,
        clock: statement(clients),
        outcome: resource.outcome,
        failed_phase: None,
        resources: vec![resource],
        phases: vec![],
    })
}

/// The report of an activation that failed before its run was opened (its group could not
/// be planned, say): no waves, the error, and the moment it failed.
pub fn failed_activation(
    clients: &Clients,
    resource: &str,
    execution: &str,
    mode: Mode,
    code: ErrorCode,
    message: &str,
) -> RunReport {
    let now = clients.now();
    RunReport {
        source: format!("{resource} (execution {execution})"),
        mode,
        started: now,
        ended: now,
        clock: statement(clients),
        outcome: Verdict::Failed(code),
        failed_phase: None,
        resources: vec![ResourceReport {
            layer: 1,
            resource: resource.to_owned(),
            execution: execution.to_owned(),
            outcome: Verdict::Failed(code),
            error: Some(message.to_owned()),
            partitions: vec![],
            waves: vec![],
            left_out: vec![],
            objectives: None,
            recover_before: None,
        }],
        phases: vec![],
    }
}

/// The report with `phase` in place of an earlier report of the same phase; a phase that
/// failed is the report's failure when the run itself succeeded.
pub fn with_phase(mut report: RunReport, phase: PhaseReport) -> RunReport {
    report.phases.retain(|p| !(p.phase == phase.phase && p.resource == phase.resource));
    if let (Verdict::Succeeded, Verdict::Failed(_)) = (report.outcome, phase.outcome) {
        report.outcome = phase.outcome;
        report.failed_phase = Some(phase.phase.clone());
    }
    report.phases.push(phase);
    report
}

/// Which clock the report's times are on, for its reader.
pub fn statement(clients: &Clients) -> String {
    format!(
        "UTC, on the run's clock: the module's ({}), which wrote the run's start, end and cleanup in the ledger; \
         job and launch times are DRS's and EC2's, on the same clock",
        clients.clock_name()
    )
}

/// The waves as the ledger recorded them: completed ones as judged, the others waiting.
fn recorded_status(record: &RunRecord, plan: &crate::recovery::payload::Payload) -> Status {
    let waves = plan
        .waves
        .iter()
        .enumerate()
        .map(|(w, wave)| {
            record
                .completed(w)
                .and_then(|p| serde_json::from_str::<WaveProgress>(p).ok())
                .unwrap_or_else(|| WaveProgress::waiting(&wave.name, wave.groups.iter().map(|g| g.servers.len()).sum()))
        })
        .collect();
    let outcome = match &record.end {
        None => Outcome::Running,
        Some(e) => match e.error {
            None => Outcome::Done,
            Some(code) => Outcome::Failed { code, message: e.message.clone() },
        },
    };
    Status {
        execution: plan.execution.clone(),
        resource: plan.resource.clone(),
        outcome,
        waves,
        started_jobs: vec![],
        unreachable: vec![],
        warnings: vec![],
    }
}

/// The run's cleanup as the ledger holds it after its last pass (the one that found nothing
/// left, when it ended well): what remained, how many of the run's recovery instances in
/// `report` are gone, the terminate jobs, what kept it open, when it was first found clean.
/// `failure`: the error that ended the cleanup (its deadline).
pub fn cleanup_phase(resource: &str, record: &RunRecord, report: &RunReport, failure: Option<(ErrorCode, &str)>) -> PhaseReport {
    let c = &record.cleanup;
    let launched = report
        .resources
        .iter()
        .filter(|r| r.execution == record.execution)
        .flat_map(|r| &r.waves)
        .flat_map(|w| &w.servers)
        .filter(|s| s.recovery_instance_id.is_some())
        .count();
    let clean = c.cleanup_remaining == 0 && c.cleanup_open.is_empty();
    let mut detail = serde_json::json!({
        "remaining": c.cleanup_remaining,
        "terminated": if clean { launched } else { launched.saturating_sub(c.cleanup_remaining) },
        "terminateJobs": c.cleanup_jobs,
        "open": c.cleanup_open,
        "started": c.cleanup_started,
        "lastChecked": c.cleanup_checked,
        "firstClean": c.cleanup_done,
    });
    let outcome = match failure {
        None => Verdict::Succeeded,
        Some((code, message)) => {
            detail["error"] = serde_json::json!(message);
            Verdict::Failed(code)
        }
    };
    PhaseReport { resource: resource.to_owned(), phase: "cleanup".into(), outcome, detail, ended: cleanup_ended(record) }
}

/// When the cleanup ended, as the ledger holds it: first found clean, else its last pass.
fn cleanup_ended(record: &RunRecord) -> Option<DateTime<Utc>> {
    record.cleanup.cleanup_done.or(record.cleanup.cleanup_checked)
}

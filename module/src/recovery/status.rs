//! One status check of an activation: read the execution's jobs back from DRS and judge each
//! wave (`wave.rs`) whose dependencies have completed, in plan order (each wave after those
//! it depends on): independent branches move at once, a wave waits while a wave it depends on
//! is moving, waiting or failed. Once a wave fails the run, the check starts nothing more
//! (the waves already running are still read, for the record). Nothing here depends on an
//! earlier check having run: a duplicate or a retried check does the same thing, and DRS
//! refuses to put a server in two active jobs.

use super::boundary::{self, Marks, Verdict};
use super::branches::Shared;
use super::observe;
use super::outage::{self, Outages};
use super::payload::Payload;
pub use super::progress::{Outcome, ServerFailure, Status, WaveProgress, WaveState};
use super::wave::{self, Check, Next};
use crate::aws::Clients;
use crate::config::Partition;
use crate::error::ErrorCode;
use crate::ledger::RunRecord;

fn failed(code: ErrorCode, message: String) -> Outcome {
    Outcome::Failed { code, message }
}

pub async fn check(clients: &Clients, payload: &Payload, record: &RunRecord) -> anyhow::Result<Status> {
    let partitions: Vec<Partition> =
        (0..payload.partitions.len()).map(|i| payload.partition(i)).collect::<anyhow::Result<_>>()?;
    // A partition that cannot be read does not stop the others (`outage.rs`).
    let observed = observe::jobs(clients, &partitions, payload.run(), &payload.jobs_from_text()).await;
    let jobs = observed.jobs;
    let outages = Outages::read(payload, record, observed.down, clients.now());
    let mut status = Status {
        execution: payload.execution.clone(),
        resource: payload.resource.clone(),
        outcome: Outcome::Done,
        waves: vec![],
        started_jobs: vec![],
        unreachable: outages.list(payload),
        warnings: super::recovered::line(&payload.recovered)
            .into_iter()
            .chain(super::points::warnings(payload))
            .chain(super::repoint::warnings(payload, record))
            .collect(),
    };
    let hooks = match (&payload.tenant, payload.hooks.is_empty()) {
        (Some(t), false) => Some(crate::hooks::runner::load(clients.config(), t, &payload.hooks).await?),
        _ => None,
    };
    let past_deadline = clients.now() > payload.deadline;
    let shared = Shared::new(payload, record, &jobs);
    let c = Check {
        clients,
        payload,
        jobs: &jobs,
        hooks: hooks.as_ref(),
        outages: &outages,
        // A run whose end is recorded starts nothing more (a check delivered after it reads it).
        may_start: !past_deadline && record.end.is_none(),
        record,
        shared: &shared,
    };
    let mut lost = std::collections::BTreeSet::new();
    let mut completed = vec![false; payload.waves.len()];
    let (mut failure, mut holds) = (None, false);
    for (w, wave) in payload.waves.iter().enumerate() {
        if !payload.depends_on(w).iter().all(|d| completed[*d]) {
            status.waves.push(WaveProgress::waiting(&wave.name, wave.server_count()));
            holds = true;
            continue;
        }
        // After a failure, a wave starts nothing: one already running is read, not moved on.
        let c = Check { may_start: c.may_start && failure.is_none(), ..c };
        let (progress, next) = wave::judge(&c, w, &mut status.waves, &mut status.started_jobs, &mut lost).await?;
        status.waves.push(progress);
        match next {
            Next::Completed => completed[w] = true,
            Next::Holds => holds = true,
            Next::Fails(code, message) => {
                failure.get_or_insert(failed(code, message));
            }
        }
    }
    for (w, progress) in status.waves.iter_mut().enumerate() {
        progress.after = payload.depends_on(w).iter().map(|d| payload.waves[*d].name.clone()).collect();
    }
    status.outcome = match (failure, holds) {
        (Some(f), _) => f,
        (None, true) => Outcome::Running,
        (None, false) => Outcome::Done,
    };
    // After the last waves (those no wave depends on), their after-wave hooks have the last word.
    if let (Outcome::Done, Some(set)) = (&status.outcome, &hooks) {
        for last in (0..payload.waves.len()).filter(|w| payload.dependents(*w).is_empty()) {
            let answers = boundary::after(&c, last, &status.waves[last].failures, set).await?;
            let mut record = vec![];
            if let Verdict::Fail { code, message } =
                boundary::judge(&answers, set.on_failure, &Marks::default(), clients.now(), &mut record)
            {
                if status.outcome == Outcome::Done {
                    status.outcome = failed(code, format!("after wave {}: {message}", payload.waves[last].name));
                }
            }
            status.waves[last].hook_decisions.extend(record);
        }
    }
    // Whatever the failure policies allowed, a run that launched nothing recovered nothing.
    if status.outcome == Outcome::Done && status.waves.iter().all(|w| w.launched == 0) {
        let servers: usize = status.waves.iter().map(|w| w.servers).sum();
        status.outcome = failed(
            ErrorCode::WaveFailed,
            format!("no server of the {servers} planned launched: a run that recovered nothing is not a success"),
        );
    }
    status.warnings.extend(outage::record(clients, payload, &outages, &lost).await);
    // Judged after the jobs: a run that finished in time is not failed by a late check.
    if status.outcome == Outcome::Running && past_deadline {
        let open: Vec<String> = status
            .waves
            .iter()
            .filter(|w| w.state != WaveState::Completed)
            .map(|w| format!("{} ({:?}, {} of {} launched)", w.name, w.state, w.launched, w.servers))
            .collect();
        let deadline = payload.deadline_text();
        let dark: Vec<String> = status.unreachable.iter().map(|u| format!("{} ({})", u.partition, u.error)).collect();
        let dark = if dark.is_empty() { String::new() } else { format!("; unreachable: {}", dark.join("; ")) };
        status.outcome = failed(
            ErrorCode::Timeout,
            format!("the execution passed its deadline {deadline}; not done: {}{dark}", open.join(", ")),
        );
    }
    Ok(status)
}

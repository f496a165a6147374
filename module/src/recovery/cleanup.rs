//! `cleanup` and its status check: terminate every recovery instance the resource's drills
//! launched (and, when the parameters ask, its real recoveries), then wait until DRS no
//! longer lists them. The ledger first: it lists the resource's runs and the partitions each
//! reached; tags then find their instances (and those of runs the ledger does not hold), and
//! each run's record gets what the pass saw, so the ledger says when a run was clean. Both calls run the same pass, so a retried or lost call
//! changes nothing: instances already held by a terminate job are left to it. While one of
//! the resource's launch jobs is still running, cleanup is not done: what it launches is
//! cleaned by a later check (a fail-fast drill fails while its first wave still launches). A
//! partition where DRS is not initialized holds nothing to clean. A partition
//! that cannot be read or refuses the terminate is named and the others are still cleaned;
//! cleanup is not done while one is left, and fails at its deadline naming what is left. A
//! run that has not ended and whose deadline has not passed may still launch: its instances
//! are left and cleanup is not done while it goes on (named in `running`).

use super::launches::{self, Launched, Scope};
use crate::aws::failed;
use crate::aws::Clients;
use crate::config::Partition;
use crate::ledger::{CleanupPass, Ledger, RunKey, RunListing};
use crate::resource::Mode;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupStatus {
    /// Recovery instances still there (terminating or not), in the partitions read.
    pub remaining: usize,
    /// Terminate jobs this pass started.
    pub jobs: Vec<String>,
    pub instances: Vec<String>,
    /// Partitions that could not be read or cleaned: `account/region: error`.
    pub unreachable: Vec<String>,
    /// The resource's launch jobs still running, `job (account/region)`: cleanup waits for
    /// them and cleans what they launch.
    pub launching: Vec<String>,
    /// Instances of other resources with this resource's name (another selection): left.
    pub left_to_others: usize,
    /// The first `NAMED` of them, `instance (account/region)`: if the resource's selection
    /// changed since its drill, they are its own, to clean with the earlier selection.
    pub left_to_others_named: Vec<String>,
    /// The resource's runs in scope the ledger lists.
    pub runs: usize,
    /// Their executions: each run's report gets the cleanup when it ends.
    pub executions: Vec<String>,
    /// Instances found by tags whose execution the ledger does not list (runs from before
    /// the ledger, or a table restored without them): cleaned all the same.
    pub not_in_ledger: usize,
    /// Runs in scope that have not ended and whose deadline has not passed, `execution (its
    /// deadline)`: they may still launch servers, so their instances are left and cleanup is
    /// not done while one goes on (one past its deadline with no end was abandoned: cleaned).
    pub running: Vec<String>,
}

/// Instances named in a summary at most.
const NAMED: usize = 20;

impl CleanupStatus {
    /// Nothing left anywhere: no instance, no launch still running, and no partition it could
    /// not look in.
    pub fn done(&self) -> bool {
        self.remaining == 0 && self.unreachable.is_empty() && self.launching.is_empty() && self.running.is_empty()
    }

    /// What a deadline leaves: the partitions and the instances, by name.
    pub fn left(&self) -> String {
        let mut parts = vec![];
        if !self.running.is_empty() {
            parts.push(format!("runs not ended (their instances left): {}", self.running.join(", ")));
        }
        if !self.unreachable.is_empty() {
            parts.push(format!("unreachable: {}", self.unreachable.join("; ")));
        }
        if !self.launching.is_empty() {
            parts.push(format!("launch jobs still running: {}", self.launching.join(", ")));
        }
        if self.remaining > 0 {
            parts.push(format!("{} instances left: {}", self.remaining, self.instances.join(", ")));
        }
        parts.join("; ")
    }
}

/// One cleanup pass: the resource's runs read from the ledger first (which partitions each
/// reached, whatever the configuration names now), then their instances found by tags in
/// those partitions and the configured ones, terminated, and what the pass saw recorded on
/// each run's record. `named`: the execution a RunId gives (the standalone state machine
/// passes its execution's id with every call); when the ledger lists that run, the cleanup is
/// that run's alone, not every run in `scope`; a RunId that names none (a local call's own)
/// leaves the scope as it is.
pub async fn pass(
    clients: &Clients,
    configured: &[Partition],
    scope: &Scope<'_>,
    named: Option<&str>,
) -> anyhow::Result<CleanupStatus> {
    let mut unreachable: BTreeMap<String, String> = BTreeMap::new();
    let (ledger, mut runs) = ledger_runs(clients, scope, &mut unreachable).await;
    let named = named.filter(|n| scope.execution.is_none() && runs.iter().any(|r| r.execution == *n));
    let scope = &Scope { execution: named.or(scope.execution), ..*scope };
    if let Some(n) = named {
        runs.retain(|r| r.execution == n);
    }
    let mut partitions: BTreeSet<Partition> = configured.iter().cloned().collect();
    for run in &runs {
        for text in &run.partitions {
            match text.parse::<Partition>() {
                Ok(p) => _ = partitions.insert(p),
                Err(e) => {
                    _ = unreachable.insert(format!("run ledger, execution {}", run.execution), format!("partition {text:?}: {e}"))
                }
            }
        }
    }
    let partitions: Vec<Partition> = partitions.into_iter().collect();
    let mut found = launches::find(clients, &partitions, scope).await;
    // A run still going is not cleaned under it: what it launched stays, and its later waves
    // would launch what a finished cleanup no longer looks for.
    let now = clients.now();
    let (going, runs): (Vec<RunListing>, Vec<RunListing>) = runs.into_iter().partition(|r| r.going(now));
    let going_ids: BTreeSet<&str> = going.iter().map(|r| r.execution.as_str()).collect();
    let is_going = |e: &Option<String>| e.as_deref().is_some_and(|e| going_ids.contains(e));
    found.ours.retain(|l| !is_going(&l.execution));
    for (p, e) in &found.unreachable {
        unreachable.insert(p.to_string(), e.clone());
    }
    // One terminate per partition and execution, so each run's record names its own jobs.
    let mut by: BTreeMap<(&Partition, Option<&str>), Vec<&Launched>> = BTreeMap::new();
    for l in found.ours.iter().filter(|l| !l.terminating) {
        by.entry((&l.partition, l.execution.as_deref())).or_default().push(l);
    }
    // Every partition at once (bounded by `concurrency.overall`).
    let results =
        crate::aws::fanout::each(clients, by, |(key, list)| async move { (key, terminate(clients, key.0, &list).await) }).await;
    let mut jobs = vec![];
    let mut jobs_of: BTreeMap<Option<&str>, Vec<String>> = BTreeMap::new();
    for ((p, execution), r) in results {
        match r {
            Ok(started) => {
                jobs_of.entry(execution).or_default().extend(started.iter().cloned());
                jobs.extend(started);
            }
            Err(e) => _ = unreachable.insert(p.to_string(), format!("{e:#}")),
        }
    }
    if !found.same_name.is_empty() {
        tracing::warn!(
            resource = scope.resource,
            instances = found.same_name.len(),
            "recovery instances of another resource with this name (another selection) are left alone"
        );
    }
    if let Some((ledger, identity)) = ledger {
        record(clients, &ledger, identity, &runs, &found, &jobs_of, &mut unreachable).await;
    }
    let known: BTreeSet<&str> = runs.iter().map(|r| r.execution.as_str()).collect();
    Ok(CleanupStatus {
        remaining: found.ours.len(),
        jobs,
        instances: found.ours.iter().map(|l| format!("{} ({})", l.recovery_instance_id, l.partition)).collect(),
        unreachable: unreachable.iter().map(|(p, e)| format!("{p}: {e}")).collect(),
        launching: found.launching.iter().map(ToString::to_string).collect(),
        left_to_others: found.same_name.len(),
        left_to_others_named: found
            .same_name
            .iter()
            .take(NAMED)
            .map(|l| format!("{} ({})", l.recovery_instance_id, l.partition))
            .collect(),
        runs: runs.len(),
        executions: runs.iter().map(|r| r.execution.clone()).collect(),
        not_in_ledger: found.ours.iter().filter(|l| !l.execution.as_deref().is_some_and(|e| known.contains(e))).count(),
        running: going
            .iter()
            .map(|r| format!("{} (deadline {})", r.execution, r.deadline.as_ref().map(crate::time::secs).unwrap_or_default()))
            .collect(),
    })
}

/// The resource's runs in the cleanup's scope, as the ledger lists them; a ledger that cannot
/// be read is named (cleanup is then not done: it cannot know every partition a run reached).
async fn ledger_runs<'a>(
    clients: &Clients,
    scope: &Scope<'a>,
    unreachable: &mut BTreeMap<String, String>,
) -> (Option<(Ledger, &'a str)>, Vec<RunListing>) {
    let Some(identity) = scope.identity else { return (None, vec![]) };
    let ledger = crate::ledger::of(clients);
    match ledger.runs_of(identity).await {
        Ok(runs) => {
            let runs = runs
                .into_iter()
                .filter(|r| scope.execution.is_none_or(|e| e == r.execution))
                .filter(|r| if r.mode == Mode::Drill { scope.drills } else { scope.recoveries })
                .collect();
            (Some((ledger, identity)), runs)
        }
        Err(e) => {
            unreachable.insert("run ledger".to_owned(), e.to_string());
            (None, vec![])
        }
    }
}

/// Each run's record gets what this pass saw of it (skipped for a run found clean before and
/// clean still). A record that cannot be written is named: the pass is then not done.
async fn record(
    clients: &Clients,
    ledger: &Ledger,
    identity: &str,
    runs: &[RunListing],
    found: &launches::Found,
    jobs_of: &BTreeMap<Option<&str>, Vec<String>>,
    unreachable: &mut BTreeMap<String, String>,
) {
    let now = clients.now();
    let mut writes = vec![];
    for run in runs {
        let mine = |e: &Option<String>| e.as_deref() == Some(run.execution.as_str());
        let reached = |p: &Partition| run.partitions.is_empty() || run.partitions.contains(&p.to_string());
        let mut open: Vec<String> = found.unreachable.keys().filter(|p| reached(p)).map(|p| format!("{p} not read")).collect();
        open.extend(found.launching.iter().filter(|l| mine(&l.execution)).map(|l| format!("launch job {l} running")));
        open.truncate(NAMED);
        let pass = CleanupPass {
            at: now,
            remaining: found.ours.iter().filter(|l| mine(&l.execution)).count(),
            jobs: jobs_of.get(&Some(run.execution.as_str())).cloned().unwrap_or_default(),
            open,
        };
        let unchanged = run.cleanup.cleanup_done.is_some() && pass.done() && pass.jobs.is_empty();
        if !unchanged {
            writes.push((RunKey::new(identity, &run.execution), pass));
        }
    }
    let results = crate::aws::fanout::each(clients, writes, |(key, pass)| async move {
        let r = ledger.record_cleanup(&key, &pass).await;
        (key, r)
    })
    .await;
    for (key, r) in results {
        if let Err(e) = r {
            unreachable.insert(format!("run ledger, execution {}", key.execution), format!("the cleanup was not recorded: {e}"));
        }
    }
}

/// TerminateRecoveryInstances for one partition's instances: the terminate jobs started.
async fn terminate(clients: &Clients, p: &Partition, list: &[&Launched]) -> anyhow::Result<Vec<String>> {
    let drs = clients.drs(p).await?;
    let mut jobs = vec![];
    // TerminateRecoveryInstances takes 1 to 200 ids.
    for chunk in list.chunks(200) {
        let ids: Vec<String> = chunk.iter().map(|l| l.recovery_instance_id.clone()).collect();
        match drs.terminate_recovery_instances().set_recovery_instance_ids(Some(ids.clone())).send().await {
            Ok(r) => jobs.extend(r.job().map(|j| j.job_id().to_owned())),
            // One of them was taken by another terminate job meanwhile: the rest one by one.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => {
                for id in ids {
                    match drs.terminate_recovery_instances().recovery_instance_ids(&id).send().await {
                        Ok(r) => jobs.extend(r.job().map(|j| j.job_id().to_owned())),
                        Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => {}
                        Err(e) => return Err(failed(p, "drs:TerminateRecoveryInstances", &e)),
                    }
                }
            }
            Err(e) => return Err(failed(p, "drs:TerminateRecoveryInstances", &e)),
        }
    }
    Ok(jobs)
}

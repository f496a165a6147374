//! `cleanup` and its status check: terminate every recovery instance the resource's drills
//! launched (and, when the parameters ask, its real recoveries), found by tags, then wait
//! until DRS no longer lists them. Both calls run the same pass, so a retried or lost call
//! changes nothing: instances already held by a terminate job are left to it. While one of
//! the resource's launch jobs is still running, cleanup is not done: what it launches is
//! cleaned by a later check (a fail-fast drill fails while its first wave still launches). A
//! partition where DRS is not initialized holds nothing to clean. A partition
//! that cannot be read or refuses the terminate is named and the others are still cleaned;
//! cleanup is not done while one is left, and fails at its deadline naming what is left.

use super::launches::{self, Launched, Scope};
use crate::aws::failed;
use crate::aws::Clients;
use crate::config::Partition;
use serde::Serialize;
use std::collections::BTreeMap;

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
}

/// Instances named in a summary at most.
const NAMED: usize = 20;

impl CleanupStatus {
    /// Nothing left anywhere: no instance, no launch still running, and no partition it could
    /// not look in.
    pub fn done(&self) -> bool {
        self.remaining == 0 && self.unreachable.is_empty() && self.launching.is_empty()
    }

    /// What a deadline leaves: the partitions and the instances, by name.
    pub fn left(&self) -> String {
        let mut parts = vec![];
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

pub async fn pass(clients: &Clients, partitions: &[Partition], scope: &Scope<'_>) -> anyhow::Result<CleanupStatus> {
    let found = launches::find(clients, partitions, scope).await;
    let mut unreachable: BTreeMap<Partition, String> = found.unreachable.clone();
    let mut by: BTreeMap<&Partition, Vec<&Launched>> = BTreeMap::new();
    for l in found.ours.iter().filter(|l| !l.terminating) {
        by.entry(&l.partition).or_default().push(l);
    }
    // Every partition at once (bounded by `concurrency.overall`).
    let results = crate::aws::fanout::each(clients, by, |(p, list)| async move { (p, terminate(clients, p, &list).await) }).await;
    let mut jobs = vec![];
    for (p, r) in results {
        match r {
            Ok(started) => jobs.extend(started),
            Err(e) => _ = unreachable.insert(p.clone(), format!("{e:#}")),
        }
    }
    if !found.same_name.is_empty() {
        tracing::warn!(
            resource = scope.resource,
            instances = found.same_name.len(),
            "recovery instances of another resource with this name (another selection) are left alone"
        );
    }
    Ok(CleanupStatus {
        remaining: found.ours.len(),
        jobs,
        instances: found.ours.iter().map(|l| format!("{} ({})", l.recovery_instance_id, l.partition)).collect(),
        unreachable: unreachable.iter().map(|(p, e)| format!("{p}: {e}")).collect(),
        launching: found.launching.clone(),
        left_to_others: found.same_name.len(),
        left_to_others_named: found
            .same_name
            .iter()
            .take(NAMED)
            .map(|l| format!("{} ({})", l.recovery_instance_id, l.partition))
            .collect(),
    })
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

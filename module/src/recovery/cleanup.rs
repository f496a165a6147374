//! `cleanup` and its status check: terminate every recovery instance the resource's drills
//! launched (and, when the parameters ask, its real recoveries), found by tags, then wait
//! until DRS no longer lists them. Both calls run the same pass, so a retried or lost call
//! changes nothing: instances already held by a terminate job are left to it.

use super::failed;
use super::launches::{self, Launched, Scope};
use crate::aws::Clients;
use crate::config::Partition;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupStatus {
    /// Recovery instances still there (terminating or not).
    pub remaining: usize,
    /// Terminate jobs this pass started.
    pub jobs: Vec<String>,
    pub instances: Vec<String>,
}

impl CleanupStatus {
    pub fn done(&self) -> bool {
        self.remaining == 0
    }
}

pub async fn pass(clients: &Clients, partitions: &[Partition], scope: &Scope<'_>) -> anyhow::Result<CleanupStatus> {
    let found = launches::find(clients, partitions, scope).await?;
    let mut by: BTreeMap<&Partition, Vec<&Launched>> = BTreeMap::new();
    for l in found.iter().filter(|l| !l.terminating) {
        by.entry(&l.partition).or_default().push(l);
    }
    let mut jobs = vec![];
    for (p, list) in by {
        let drs = clients.drs(p).await?;
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
    }
    Ok(CleanupStatus {
        remaining: found.len(),
        jobs,
        instances: found.iter().map(|l| format!("{} ({})", l.recovery_instance_id, l.partition)).collect(),
    })
}

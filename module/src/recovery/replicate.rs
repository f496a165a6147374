//! `replicate` and its status check: after a real recovery, reverse replication (the
//! failback direction) for every recovery instance the resource's recoveries launched, then
//! wait until each replicates continuously. Both calls run the same pass; an instance whose
//! replication is already reversed is left as it is.

use super::failed;
use super::launches::{self, Launched, Scope};
use crate::aws::Clients;
use crate::config::Partition;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicateStatus {
    pub instances: usize,
    pub continuous: usize,
    /// ReverseReplication calls this pass made.
    pub reversed: usize,
    /// Instances whose replication stalled or disconnected: `id (partition): state`.
    pub stuck: Vec<String>,
    /// Partitions that could not be read or refused ReverseReplication: `account/region: error`.
    pub unreachable: Vec<String>,
}

impl ReplicateStatus {
    pub fn done(&self) -> bool {
        self.instances > 0 && self.continuous == self.instances && self.unreachable.is_empty()
    }

    /// What a deadline leaves.
    pub fn left(&self) -> String {
        let mut parts = vec![format!("{} of {} instances replicate continuously", self.continuous, self.instances)];
        if !self.unreachable.is_empty() {
            parts.push(format!("unreachable: {}", self.unreachable.join("; ")));
        }
        parts.join("; ")
    }
}

pub async fn pass(
    clients: &Clients,
    partitions: &[Partition],
    resource: &str,
    identity: Option<&str>,
    execution: Option<&str>,
) -> anyhow::Result<ReplicateStatus> {
    let scope = Scope { resource, identity, execution, drills: false, recoveries: true };
    let found = launches::find(clients, partitions, &scope).await;
    let mut unreachable: BTreeMap<Partition, String> = found.unreachable.clone();
    if found.ours.is_empty() && unreachable.is_empty() {
        anyhow::bail!("resource {resource}: no recovery instance of a real recovery was found: nothing to replicate back");
    }
    let mut status =
        ReplicateStatus { instances: found.ours.len(), continuous: 0, reversed: 0, stuck: vec![], unreachable: vec![] };
    for l in &found.ours {
        if unreachable.contains_key(&l.partition) {
            continue;
        }
        match l.replication_state.as_deref() {
            Some("CONTINUOUS") => status.continuous += 1,
            Some(s @ ("STALLED" | "DISCONNECTED")) => {
                status.stuck.push(format!("{} ({}): {s}", l.recovery_instance_id, l.partition))
            }
            Some(_) => {}
            None => match reverse(clients, l).await {
                Ok(reversed) => status.reversed += usize::from(reversed),
                // The others go on; this partition is named and retried on the next pass.
                Err(e) => _ = unreachable.insert(l.partition.clone(), format!("{e:#}")),
            },
        }
    }
    status.unreachable = unreachable.iter().map(|(p, e)| format!("{p}: {e}")).collect();
    Ok(status)
}

/// ReverseReplication for one instance: false when an earlier call already reversed it.
async fn reverse(clients: &Clients, l: &Launched) -> anyhow::Result<bool> {
    let drs = clients.drs(&l.partition).await?;
    match drs.reverse_replication().recovery_instance_id(&l.recovery_instance_id).send().await {
        Ok(_) => Ok(true),
        // Reversed by an earlier call whose answer was lost.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => Ok(false),
        Err(e) => Err(failed(&l.partition, "drs:ReverseReplication", &e)),
    }
}

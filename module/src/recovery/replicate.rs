//! `replicate` and its status check: after a real recovery, reverse replication (the
//! failback direction) for every recovery instance the resource's recoveries launched, then
//! wait until each replicates continuously. Both calls run the same pass; an instance whose
//! replication is already reversed is left as it is.

use super::failed;
use super::launches::{self, Scope};
use crate::aws::Clients;
use crate::config::Partition;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicateStatus {
    pub instances: usize,
    pub continuous: usize,
    /// ReverseReplication calls this pass made.
    pub reversed: usize,
    /// Instances whose replication stalled or disconnected: `id (partition): state`.
    pub stuck: Vec<String>,
}

impl ReplicateStatus {
    pub fn done(&self) -> bool {
        self.instances > 0 && self.continuous == self.instances
    }
}

pub async fn pass(
    clients: &Clients,
    partitions: &[Partition],
    resource: &str,
    execution: Option<&str>,
) -> anyhow::Result<ReplicateStatus> {
    let scope = Scope { resource, execution, drills: false, recoveries: true };
    let found = launches::find(clients, partitions, &scope).await?;
    if found.is_empty() {
        anyhow::bail!("resource {resource}: no recovery instance of a real recovery was found: nothing to replicate back");
    }
    let mut status = ReplicateStatus { instances: found.len(), continuous: 0, reversed: 0, stuck: vec![] };
    for l in &found {
        match l.replication_state.as_deref() {
            Some("CONTINUOUS") => status.continuous += 1,
            Some(s @ ("STALLED" | "DISCONNECTED")) => {
                status.stuck.push(format!("{} ({}): {s}", l.recovery_instance_id, l.partition))
            }
            Some(_) => {}
            None => {
                let drs = clients.drs(&l.partition).await?;
                match drs.reverse_replication().recovery_instance_id(&l.recovery_instance_id).send().await {
                    Ok(_) => status.reversed += 1,
                    // Reversed by an earlier call whose answer was lost.
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => {}
                    Err(e) => return Err(failed(&l.partition, "drs:ReverseReplication", &e)),
                }
            }
        }
    }
    Ok(status)
}

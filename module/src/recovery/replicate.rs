//! `replicate` and its status check: after a real recovery, reverse replication (the
//! failback direction) for every recovery instance the resource's recoveries launched, then
//! wait until each replicates continuously. Both calls run the same pass; an instance whose
//! replication is already reversed is left as it is.

use super::launches::{self, Launched, Scope};
use crate::aws::failed;
use crate::aws::{fanout, Clients};
use crate::config::Partition;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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
    let mut todo = vec![];
    for l in found.ours.iter().filter(|l| !unreachable.contains_key(&l.partition)) {
        match l.replication_state.as_deref() {
            Some("CONTINUOUS") => status.continuous += 1,
            Some(s @ ("STALLED" | "DISCONNECTED")) => {
                status.stuck.push(format!("{} ({}): {s}", l.recovery_instance_id, l.partition))
            }
            Some(_) => {}
            None => todo.push((l.partition.clone(), l)),
        }
    }
    // One call an instance: every partition at once, a few calls in each, and no new call
    // past the pass's time budget (the next check goes on; a call is idempotent). One after
    // another, 10,000 instances at 50 ms a call were 500 s: past the Lambda's timeout.
    let started = Instant::now();
    let results = fanout::by_partition(clients, todo, |p, l: &Launched| async move {
        if started.elapsed() > PASS_BUDGET {
            return (p, Ok(false));
        }
        (p, reverse(clients, l).await)
    })
    .await;
    for (p, r) in results {
        match r {
            Ok(reversed) => status.reversed += usize::from(reversed),
            // The others go on; this partition is named and retried on the next pass.
            Err(e) => _ = unreachable.entry(p).or_insert(format!("{e:#}")),
        }
    }
    status.unreachable = unreachable.iter().map(|(p, e)| format!("{p}: {e}")).collect();
    Ok(status)
}

/// The time one pass starts new ReverseReplication calls for (the hub Lambda's timeout is
/// 300 s; a status check every 15 to 120 s goes on where a pass stopped).
const PASS_BUDGET: Duration = Duration::from_secs(120);

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

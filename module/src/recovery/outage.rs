//! Accounts x regions a run cannot reach. A status check that cannot read one partition goes
//! on with the others. What must outlive one check is in the run's ledger record: since when a
//! partition is down, and, once it has been down longer than the run's grace, that its
//! servers of the wave then running count as failed ("lost"), so that a later check never
//! starts them late, out of wave order, when the partition comes back. (On DRS job tags, these
//! marks hit DRS's 50 tags a resource with one region dark in 50 accounts.)

use super::payload::Payload;
use crate::aws::Clients;
use crate::ledger::RunRecord;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A partition the run could not reach, as the status shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unreachable {
    pub partition: String,
    /// First seen down by a check of this run (as recorded on its jobs).
    pub since: DateTime<Utc>,
    /// When its servers of the running wave count as failed.
    pub fails_at: DateTime<Utc>,
    /// The last error, after the SDK's retries.
    pub error: String,
}

/// What this check and the run's record say about unreachable partitions.
#[derive(Debug, Default)]
pub struct Outages {
    /// Partitions this check could not read: index -> the last error.
    pub down: BTreeMap<usize, String>,
    /// Since when each partition has been down, as the run's record holds it.
    recorded: BTreeMap<usize, DateTime<Utc>>,
    /// (wave, partition) whose servers were counted failed.
    pub lost: BTreeSet<(usize, usize)>,
    grace: Duration,
    now: DateTime<Utc>,
}

impl Outages {
    pub fn read(payload: &Payload, record: &RunRecord, down: BTreeMap<usize, String>, now: DateTime<Utc>) -> Outages {
        let recorded = record.down.iter().filter_map(|(p, t)| Some((p.parse().ok()?, *t))).collect();
        let lost = record
            .lost
            .keys()
            .filter_map(|k| {
                let (w, p) = k.split_once('/')?;
                Some((w.parse().ok()?, p.parse().ok()?))
            })
            .collect();
        Outages {
            down,
            recorded,
            lost,
            grace: Duration::minutes(payload.grace_minutes.min(crate::resource::recovery::MAX_TIMEOUT_MINUTES) as i64),
            now,
        }
    }

    pub fn is_down(&self, p: usize) -> bool {
        self.down.contains_key(&p)
    }

    /// Since when partition `p` is down: as recorded, else from this check.
    pub fn since(&self, p: usize) -> DateTime<Utc> {
        self.recorded.get(&p).copied().unwrap_or(self.now)
    }

    /// Down for longer than the grace: its servers of the running wave count as failed.
    pub fn past_grace(&self, p: usize) -> bool {
        self.is_down(p) && self.now >= self.since(p) + self.grace
    }

    pub fn list(&self, payload: &Payload) -> Vec<Unreachable> {
        self.down
            .iter()
            .map(|(p, error)| Unreachable {
                partition: payload.partitions.get(*p).cloned().unwrap_or_default(),
                since: self.since(*p),
                fails_at: self.since(*p) + self.grace,
                error: error.clone(),
            })
            .collect()
    }
}

/// Writes what this check learnt in the run's record: new down partitions, waves'
/// partitions newly counted failed, and partitions back up (their record removed). A write
/// that fails is retried by the next check; the warnings say which.
pub async fn record(clients: &Clients, payload: &Payload, o: &Outages, newly_lost: &BTreeSet<(usize, usize)>) -> Vec<String> {
    let store = crate::ledger::of(clients);
    let key = payload.key();
    let mut warnings = vec![];
    let new_down: Vec<usize> = o.down.keys().filter(|p| !o.recorded.contains_key(p)).copied().collect();
    let new_lost: Vec<(usize, usize)> = newly_lost.difference(&o.lost).copied().collect();
    if !new_down.is_empty() || !new_lost.is_empty() {
        if let Err(e) = store.mark_outages(&key, &new_down, &new_lost, o.now).await {
            warnings.push(format!("the unreachable partitions could not be recorded (retried next check): {e}"));
        }
    }
    // A partition back up: its record goes, so that a later outage starts its own grace.
    for (p, since) in o.recorded.iter().filter(|(p, _)| !o.is_down(**p)) {
        if let Err(e) = store.clear_down(&key, *p, *since).await {
            warnings
                .push(format!("{}: its outage record could not be removed (retried next check): {e}", payload.partitions[*p]));
        }
    }
    warnings
}

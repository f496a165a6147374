//! Accounts x regions a run cannot reach. A status check that cannot read one partition goes
//! on with the others. Checks keep no state, so what must outlive one is written on the run's
//! own jobs in partitions it can reach (tags, as hooks' marks are): since when a partition is
//! down, and, once it has been down longer than the payload's grace, that its servers of the
//! wave then running count as failed ("lost"), so that a later check never starts them late,
//! out of wave order, when the partition comes back.

use super::failed;
use super::observe::ObservedJob;
use super::payload::Payload;
use crate::aws::Clients;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// `drs-orch:down-<partition index>` = since (RFC 3339).
pub const DOWN: &str = "drs-orch:down-";
/// `drs-orch:lost-<wave>-<partition index>` = when the servers were counted failed.
pub const LOST: &str = "drs-orch:lost-";
/// On how many jobs (in distinct partitions) a mark is written: one more partition going
/// dark does not hide it.
const HOLDERS: usize = 3;

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

/// What this check and the run's jobs say about unreachable partitions.
#[derive(Debug, Default)]
pub struct Outages {
    /// Partitions this check could not read: index -> the last error.
    pub down: BTreeMap<usize, String>,
    /// Since when each partition has been down, as recorded on the run's jobs.
    recorded: BTreeMap<usize, DateTime<Utc>>,
    /// (wave, partition) whose servers were counted failed.
    pub lost: BTreeSet<(usize, usize)>,
    grace: Duration,
    now: DateTime<Utc>,
}

impl Outages {
    pub fn read(payload: &Payload, jobs: &[ObservedJob], down: BTreeMap<usize, String>, now: DateTime<Utc>) -> Outages {
        let mut o = Outages {
            down,
            grace: Duration::minutes(payload.grace_minutes.min(crate::resource::recovery::MAX_TIMEOUT_MINUTES) as i64),
            now,
            ..Outages::default()
        };
        for (key, value) in jobs.iter().flat_map(|j| j.marks.iter()) {
            if let Some(p) = key.strip_prefix(DOWN).and_then(|p| p.parse::<usize>().ok()) {
                if let Ok(t) = value.parse::<DateTime<Utc>>() {
                    let since = o.recorded.entry(p).or_insert(t);
                    *since = (*since).min(t);
                }
            } else if let Some((w, p)) = key.strip_prefix(LOST).and_then(|k| k.split_once('-')) {
                if let (Ok(w), Ok(p)) = (w.parse(), p.parse()) {
                    o.lost.insert((w, p));
                }
            }
        }
        o
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

/// Writes what this check learnt on the run's jobs: new down partitions, partitions back up
/// (their mark removed), and waves' partitions newly counted failed. A mark that cannot be
/// written is retried by the next check; the warnings say which.
pub async fn record(clients: &Clients, jobs: &[ObservedJob], o: &Outages, newly_lost: &BTreeSet<(usize, usize)>) -> Vec<String> {
    let stamp = crate::time::secs(&o.now);
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    for p in o.down.keys().filter(|p| !o.recorded.contains_key(p)) {
        tags.insert(format!("{DOWN}{p}"), stamp.clone());
    }
    for (w, p) in newly_lost.difference(&o.lost) {
        tags.insert(format!("{LOST}{w}-{p}"), stamp.clone());
    }
    let back: Vec<String> = o.recorded.keys().filter(|p| !o.is_down(**p)).map(|p| format!("{DOWN}{p}")).collect();
    let mut warnings = vec![];
    // Holders: jobs in reachable partitions, one per partition, newest first.
    let mut holders: Vec<&ObservedJob> = vec![];
    let mut by_newest: Vec<&ObservedJob> = jobs.iter().collect();
    by_newest.sort_by_key(|j| std::cmp::Reverse(j.created));
    for j in by_newest {
        if holders.len() < HOLDERS && !holders.iter().any(|h| h.partition == j.partition) {
            holders.push(j);
        }
    }
    if !tags.is_empty() && holders.is_empty() {
        warnings.push("no job of the run can be reached to record the unreachable partitions on: retried next check".into());
    }
    for j in &holders {
        if tags.is_empty() {
            break;
        }
        let sent = async {
            let drs = clients.drs(&j.partition).await?;
            let mut call = drs.tag_resource().resource_arn(&j.arn);
            for (k, v) in &tags {
                call = call.tags(k, v);
            }
            call.send().await.map_err(|e| failed(&j.partition, "drs:TagResource", &e))?;
            anyhow::Ok(())
        };
        if let Err(e) = sent.await {
            warnings.push(format!("{e:#}"));
        }
    }
    // A partition back up: its down mark goes from every job that holds it, so that a later
    // outage starts its own grace.
    for j in jobs.iter().filter(|j| back.iter().any(|k| j.marks.contains_key(k))) {
        let keys: Vec<String> = back.iter().filter(|k| j.marks.contains_key(*k)).cloned().collect();
        let sent = async {
            let drs = clients.drs(&j.partition).await?;
            drs.untag_resource()
                .resource_arn(&j.arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map_err(|e| failed(&j.partition, "drs:UntagResource", &e))?;
            anyhow::Ok(())
        };
        if let Err(e) = sent.await {
            warnings.push(format!("{e:#}"));
        }
    }
    warnings
}

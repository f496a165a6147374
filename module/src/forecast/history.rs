//! Past launch durations from the DRS job history: per source server, how long the last
//! completed launch job (drill or recovery) that launched it took, from its creation to its
//! end. DRS gives no per-server end (its job log has no event for a launch that succeeds), so
//! a server's figure is its job's; a run that cuts the same jobs again takes what they took.

use crate::aws::Clients;
use crate::config::Partition;
use crate::recovery::observe::{self, service_time};
use aws_sdk_drs::types::{InitiatedBy, Job, JobStatus, JobType, LaunchStatus};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// One server's last launch: when its job started, and how long it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Past {
    pub at: DateTime<Utc>,
    pub seconds: f64,
}

/// What the history says, and the partitions it could not be read from.
#[derive(Debug, Default)]
pub struct History {
    pub servers: BTreeMap<String, Past>,
    pub unread: Vec<(Partition, String)>,
}

/// The history of `partitions` since `from`, each partition read on its own: one that fails
/// leaves its servers to the default and is named.
pub async fn read(clients: &Clients, partitions: &[Partition], from: DateTime<Utc>) -> History {
    let from = crate::time::secs(&from);
    let per = crate::aws::fanout::each(clients, partitions, |p| of_partition(clients, p, &from)).await;
    let mut out = History::default();
    for (p, r) in partitions.iter().zip(per) {
        match r {
            Ok(found) => {
                for (id, past) in found {
                    keep_latest(&mut out.servers, id, past);
                }
            }
            Err(e) => out.unread.push((p.clone(), format!("{e:#}"))),
        }
    }
    out
}

async fn of_partition(clients: &Clients, p: &Partition, from: &str) -> anyhow::Result<BTreeMap<String, Past>> {
    let mut out = BTreeMap::new();
    observe::each_job(clients, p, from, |job| {
        let Some(past) = launch(job) else { return };
        for s in job.participating_servers() {
            if let (Some(id), Some(LaunchStatus::Launched)) = (s.source_server_id(), s.launch_status()) {
                keep_latest(&mut out, id.to_owned(), past);
            }
        }
    })
    .await?;
    Ok(out)
}

/// A completed launch job's start and duration; None for any other job.
fn launch(job: &Job) -> Option<Past> {
    let launches = matches!(job.initiated_by(), Some(InitiatedBy::StartDrill | InitiatedBy::StartRecovery));
    if job.r#type() != Some(&JobType::Launch) || job.status() != Some(&JobStatus::Completed) || !launches {
        return None;
    }
    let at = service_time(job.creation_date_time())?;
    let end = service_time(job.end_date_time())?;
    let seconds = (end - at).num_milliseconds() as f64 / 1000.0;
    (seconds > 0.0).then_some(Past { at, seconds })
}

fn keep_latest(map: &mut BTreeMap<String, Past>, id: String, past: Past) {
    let e = map.entry(id).or_insert(past);
    if past.at > e.at {
        *e = past;
    }
}

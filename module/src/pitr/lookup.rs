//! Each server's newest recovery snapshot taken before a time: DescribeRecoverySnapshots
//! through the SDK's paginator (`toDateTime` the time, newest first), one task per account x
//! region, every partition at once within `concurrency.overall` and `concurrency.perPartition`
//! calls in flight in each (`aws::fanout::by_partition`). The time is compared again here,
//! strictly: a snapshot taken at the very time is not before it.

use super::RecoveryPoint;
use crate::aws::errors::AwsError;
use crate::aws::Clients;
use crate::config::Partition;
use crate::selection::ServerRef;
use aws_sdk_drs::types::{DescribeRecoverySnapshotsRequestFilters, RecoverySnapshotsOrder};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;

/// Snapshots asked for a page.
const PAGE: i32 = 100;

/// What the lookup found for a group.
#[derive(Debug, Default)]
pub struct Found {
    /// By source server id.
    pub points: BTreeMap<String, RecoveryPoint>,
    /// Servers DRS keeps no snapshot of from before the time, with why.
    pub missing: Vec<Missing>,
    /// Partitions whose snapshots could not be read (after the SDK's retries), with why and
    /// how many servers that leaves undecided: no choice can be made for them.
    pub unread: BTreeMap<Partition, (String, usize)>,
}

/// A server with no recovery snapshot before the time.
#[derive(Debug, Clone)]
pub struct Missing {
    pub server: ServerRef,
    pub reason: String,
}

/// What one server's lookup came to.
enum One {
    Point(RecoveryPoint),
    None(String),
    Unread(String),
}

/// The newest snapshot before `before` of every server in `servers`.
pub async fn find(clients: &Clients, before: DateTime<Utc>, servers: &[ServerRef]) -> Found {
    let items: Vec<(Partition, &ServerRef)> =
        servers.iter().map(|s| (Partition { account: s.account.clone(), region: s.region.clone() }, s)).collect();
    let results =
        crate::aws::fanout::by_partition(clients, items, |p, s| async move { (s, one(clients, &p, s, before).await) }).await;
    let mut found = Found::default();
    for (s, result) in results {
        match result {
            One::Point(point) => _ = found.points.insert(s.source_server_id.clone(), point),
            One::None(reason) => found.missing.push(Missing { server: s.clone(), reason }),
            One::Unread(why) => {
                let p = Partition { account: s.account.clone(), region: s.region.clone() };
                found.unread.entry(p).or_insert((why, 0)).1 += 1;
            }
        }
    }
    found
}

async fn one(clients: &Clients, p: &Partition, s: &ServerRef, before: DateTime<Utc>) -> One {
    let (listed, kept) = match before_time(clients, p, &s.source_server_id, before).await {
        Ok(found) => found,
        Err(Unlisted::Refused(why)) => return One::None(why),
        Err(Unlisted::Unread(why)) => return One::Unread(why),
    };
    match listed.into_iter().next() {
        Some(point) => One::Point(point),
        None if kept == 0 => One::None(format!(
            "DRS keeps no recovery snapshot of it from before {} (its oldest kept is later, or it has none yet)",
            crate::time::secs(&before)
        )),
        None => {
            One::None(format!("none of its {kept} recovery snapshots listed was taken before {}", crate::time::secs(&before)))
        }
    }
}

/// The recovery snapshots of server `id` DRS keeps from before `before`, newest first, and
/// how many it listed in all.
async fn before_time(
    clients: &Clients,
    p: &Partition,
    id: &str,
    before: DateTime<Utc>,
) -> Result<(Vec<RecoveryPoint>, usize), Unlisted> {
    let drs = clients.drs(p).await.map_err(|e| Unlisted::Unread(format!("{e:#}")))?;
    // DRS's filter takes the time as written (fractions of a second included); the strict
    // comparison is ours.
    let to = before.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let filters = DescribeRecoverySnapshotsRequestFilters::builder().to_date_time(to).build();
    let mut pages = drs
        .describe_recovery_snapshots()
        .source_server_id(id)
        .filters(filters)
        .order(RecoverySnapshotsOrder::Desc)
        .max_results(PAGE)
        .into_paginator()
        .send();
    let (mut listed, mut kept) = (vec![], 0usize);
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) if e.as_service_error().is_some_and(|x| x.is_validation_exception()) => {
                return Err(Unlisted::Refused(format!(
                    "DRS refused to list its recovery snapshots: {}",
                    AwsError::from_sdk(OP, &e)
                )))
            }
            Err(e) => return Err(Unlisted::Unread(AwsError::from_sdk(OP, &e).to_string())),
        };
        for snap in page.items() {
            kept += 1;
            let Some(taken) = snap.timestamp().or(Some(snap.expected_timestamp())).and_then(parse) else { continue };
            if taken < before {
                listed.push(RecoveryPoint { snapshot_id: snap.snapshot_id().to_owned(), taken });
            }
        }
    }
    listed.sort_by(|a, b| b.taken.cmp(&a.taken).then_with(|| a.snapshot_id.cmp(&b.snapshot_id)));
    Ok((listed, kept))
}

/// Why a server's snapshots were not listed.
enum Unlisted {
    /// DRS refused (a server it does not know, say).
    Refused(String),
    /// The call failed after the SDK's retries.
    Unread(String),
}

/// A chosen recovery snapshot, looked for again when its wave starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Recheck {
    /// DRS still keeps it.
    Kept,
    /// DRS no longer keeps it (retention passed it, behind a long gate): the newest it keeps
    /// from before the time.
    Replaced(RecoveryPoint),
    /// DRS keeps none from before the time any more.
    Gone(String),
    /// The snapshots could not be read.
    Unread(String),
}

/// Whether DRS still keeps each server's `chosen` snapshot, and if not, which one replaces it.
pub async fn recheck(
    clients: &Clients,
    p: &Partition,
    before: DateTime<Utc>,
    chosen: &[(String, RecoveryPoint)],
) -> Vec<(String, Recheck)> {
    let items: Vec<(Partition, &(String, RecoveryPoint))> = chosen.iter().map(|c| (p.clone(), c)).collect();
    crate::aws::fanout::by_partition(clients, items, |p, (id, point)| async move {
        let verdict = match before_time(clients, &p, id, before).await {
            Err(Unlisted::Unread(why)) => Recheck::Unread(why),
            Err(Unlisted::Refused(why)) => Recheck::Gone(why),
            Ok((listed, _)) if listed.iter().any(|l| l.snapshot_id == point.snapshot_id) => Recheck::Kept,
            Ok((listed, kept)) => match listed.into_iter().next() {
                Some(newest) => Recheck::Replaced(newest),
                None => Recheck::Gone(format!(
                    "none of its {kept} recovery snapshots kept now was taken before {}",
                    crate::time::secs(&before)
                )),
            },
        };
        (id.clone(), verdict)
    })
    .await
}

const OP: &str = "drs:DescribeRecoverySnapshots";

fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

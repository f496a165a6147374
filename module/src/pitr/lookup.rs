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
    let drs = match clients.drs(p).await {
        Ok(drs) => drs,
        Err(e) => return One::Unread(format!("{e:#}")),
    };
    // DRS's filter takes the time as written (fractions of a second included); the strict
    // comparison is ours.
    let to = before.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let filters = DescribeRecoverySnapshotsRequestFilters::builder().to_date_time(to).build();
    let mut pages = drs
        .describe_recovery_snapshots()
        .source_server_id(&s.source_server_id)
        .filters(filters)
        .order(RecoverySnapshotsOrder::Desc)
        .max_results(PAGE)
        .into_paginator()
        .send();
    let (mut newest, mut kept) = (None::<RecoveryPoint>, 0usize);
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) if e.as_service_error().is_some_and(|x| x.is_validation_exception()) => {
                return One::None(format!("DRS refused to list its recovery snapshots: {}", AwsError::from_sdk(OP, &e)))
            }
            Err(e) => return One::Unread(AwsError::from_sdk(OP, &e).to_string()),
        };
        for snap in page.items() {
            kept += 1;
            let Some(taken) = snap.timestamp().or(Some(snap.expected_timestamp())).and_then(parse) else { continue };
            if taken < before && newest.as_ref().is_none_or(|n| taken > n.taken) {
                newest = Some(RecoveryPoint { snapshot_id: snap.snapshot_id().to_owned(), taken });
            }
        }
    }
    match newest {
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

const OP: &str = "drs:DescribeRecoverySnapshots";

fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

//! Recovery snapshots through the official SDK: the retention schedule DescribeRecoverySnapshots
//! shows (paged, ordered, filtered by date), a drill launched from a chosen snapshot (its
//! recovery instance holds that point), and the refusals of a snapshot that is not the
//! server's, of a malformed id and of an unknown server.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_sdk_drs::types::{
    DescribeRecoverySnapshotsRequestFilters, LaunchStatus, RecoverySnapshot, RecoverySnapshotsOrder,
    StartRecoveryRequestSourceServer,
};
use chrono::{DateTime, Duration, Utc};
use common::*;

async fn server_ids(drs: &aws_sdk_drs::Client) -> Vec<String> {
    let out = drs.describe_source_servers().send().await.unwrap();
    out.items().iter().map(|s| s.source_server_id().unwrap().to_owned()).collect()
}

async fn snapshots(drs: &aws_sdk_drs::Client, id: &str, order: RecoverySnapshotsOrder) -> Vec<RecoverySnapshot> {
    let pages = drs.describe_recovery_snapshots().source_server_id(id).order(order).max_results(7).into_paginator();
    pages.items().send().collect::<Result<Vec<_>, _>>().await.unwrap()
}

/// A server's replication lag (`lagDuration`, whole seconds: `PT3S`).
async fn lag(drs: &aws_sdk_drs::Client, id: &str) -> Duration {
    let out = drs.describe_source_servers().send().await.unwrap();
    let s = out.items().iter().find(|s| s.source_server_id() == Some(id)).unwrap();
    let lag = s.data_replication_info().unwrap().lag_duration().unwrap();
    Duration::seconds(lag.strip_prefix("PT").and_then(|l| l.strip_suffix('S')).unwrap().parse().unwrap())
}

fn taken(s: &RecoverySnapshot) -> DateTime<Utc> {
    s.timestamp().unwrap().parse().unwrap()
}

#[tokio::test]
async fn snapshots_follow_the_retention_schedule_newest_first_on_request() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let id = server_ids(&drs).await.remove(0);
    let now: DateTime<Utc> = sim.control.ok("GET", "clock", None).await.unwrap()["now"].as_str().unwrap().parse().unwrap();
    let asc = snapshots(&drs, &id, RecoverySnapshotsOrder::Asc).await;
    let desc = snapshots(&drs, &id, RecoverySnapshotsOrder::Desc).await;
    assert_eq!(
        asc.iter().rev().map(|s| s.snapshot_id()).collect::<Vec<_>>(),
        desc.iter().map(|s| s.snapshot_id()).collect::<Vec<_>>()
    );
    // Close together lately, sparser further back: 10 minutes, then an hour, then a day.
    let ages: Vec<i64> = desc.iter().map(|s| (now - taken(s)).num_minutes()).collect();
    let gap = |from: i64, to: i64| {
        let within: Vec<&RecoverySnapshot> =
            desc.iter().filter(|s| (from..to).contains(&(now - taken(s)).num_minutes())).collect();
        within.windows(2).map(|w| (taken(w[0]) - taken(w[1])).num_minutes()).max().unwrap_or(0)
    };
    assert!(gap(0, 60) <= 10 && gap(0, 60) >= 9, "{ages:?}");
    assert!((59..=60).contains(&gap(120, 1440)), "{ages:?}");
    assert!((1439..=1440).contains(&gap(2880, 7 * 1440)), "{ages:?}");
    assert!(ages.iter().all(|a| *a < 7 * 1440) && ages.len() > 30, "{ages:?}");
    assert!(desc.iter().all(|s| s.source_server_id() == id && s.ebs_snapshots().len() == 1));

    // toDateTime and fromDateTime keep the snapshots taken within them, both ends included.
    let (from, to) = (desc[9].timestamp().unwrap(), desc[3].timestamp().unwrap());
    let filters = DescribeRecoverySnapshotsRequestFilters::builder().from_date_time(from).to_date_time(to).build();
    let within = drs.describe_recovery_snapshots().source_server_id(&id).filters(filters).send().await.unwrap();
    let within: Vec<&str> = within.items().iter().map(|s| s.snapshot_id()).collect();
    assert_eq!(
        within,
        asc.iter().filter(|s| (from..=to).contains(&s.timestamp().unwrap())).map(|s| s.snapshot_id()).collect::<Vec<_>>()
    );
    assert_eq!(within.len(), 7);

    // A day later the schedule has moved on: the oldest are gone, new ones are there.
    sim.control.advance(86_400.0).await.unwrap();
    let later = snapshots(&drs, &id, RecoverySnapshotsOrder::Desc).await;
    assert!(!later.iter().any(|s| s.snapshot_id() == asc[0].snapshot_id()), "the oldest expired");
    assert!(taken(&later[0]) > now + Duration::hours(23));
}

#[tokio::test]
async fn a_drill_from_a_snapshot_launches_that_point_and_other_snapshots_are_refused() {
    // Pinned 12 s past a 10-minute boundary, just after A's newest snapshot is taken, where
    // the wall clock used to make this test fail: which snapshots exist, and so which is
    // chosen, follows from the clock alone.
    let sim = demo_at("2026-03-02T10:10:12Z".parse().unwrap()).await;
    let drs = drs(&sim, A1, EAST).await;
    let ids = server_ids(&drs).await;
    let (a, b) = (&ids[0], &ids[1]);
    let of_a = snapshots(&drs, a, RecoverySnapshotsOrder::Desc).await;
    let chosen = &of_a[8];
    let launch = |server: &str, snapshot: &str| {
        StartRecoveryRequestSourceServer::builder().source_server_id(server).recovery_snapshot_id(snapshot).build().unwrap()
    };

    // B with A's snapshot, and a snapshot id of the wrong shape: refused, naming the field.
    let err = drs.start_recovery().source_servers(launch(b, chosen.snapshot_id())).is_drill(true).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert!(format!("{:?}", err.into_service_error()).contains("sourceServers[0].recoverySnapshotID"));
    let err = drs.start_recovery().source_servers(launch(a, "pit-short")).is_drill(true).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = drs.describe_recovery_snapshots().source_server_id("s-00000000000000000").send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");

    // A from its chosen snapshot, B from its latest data, in one job.
    let now: DateTime<Utc> = sim.control.ok("GET", "clock", None).await.unwrap()["now"].as_str().unwrap().parse().unwrap();
    let lag_of_b = lag(&drs, b).await;
    let latest = StartRecoveryRequestSourceServer::builder().source_server_id(b).build().unwrap();
    let job = drs.start_recovery().source_servers(launch(a, chosen.snapshot_id())).source_servers(latest).is_drill(true);
    let job = job.send().await.unwrap().job().unwrap().job_id().to_owned();
    sim.control.advance(2000.0).await.unwrap();
    let log = drs.describe_job_log_items().job_id(&job).send().await.unwrap();
    let events = |server: &str| -> Vec<String> {
        log.items()
            .iter()
            .filter(|i| i.event_data().and_then(|d| d.source_server_id()) == Some(server))
            .map(|i| i.event().unwrap().as_str().to_owned())
            .collect()
    };
    assert!(events(a).contains(&"USING_PREVIOUS_SNAPSHOT".to_owned()) && !events(a).contains(&"SNAPSHOT_START".to_owned()));
    assert!(events(b).contains(&"SNAPSHOT_START".to_owned()));
    let instances = drs.describe_recovery_instances().send().await.unwrap();
    let point = |server: &str| {
        let r = instances.items().iter().find(|r| r.source_server_id() == Some(server)).unwrap();
        r.point_in_time_snapshot_date_time().unwrap().parse::<DateTime<Utc>>().unwrap()
    };
    assert_eq!(point(a), taken(chosen), "A's recovery instance holds the chosen point");
    assert_eq!(point(b), now - lag_of_b, "B's holds its latest data: what it replicated when the job started");
    let jobs = drs.describe_jobs().send().await.unwrap();
    assert!(jobs.items()[0].participating_servers().iter().all(|s| s.launch_status() == Some(&LaunchStatus::Launched)));
}

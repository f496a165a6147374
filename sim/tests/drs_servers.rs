//! DescribeSourceServers through the official SDK: shapes, filters, pagination past 1,000.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use common::*;

#[tokio::test]
async fn demo_partition_lists_its_servers_with_shapes_the_sdk_reads() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let out = drs.describe_source_servers().send().await.unwrap();
    let items = out.items();
    assert!(!items.is_empty());
    let s = &items[0];
    assert!(s.source_server_id().unwrap().starts_with("s-"));
    assert_eq!(s.source_server_id().unwrap().len(), 19);
    let hints = s.source_properties().unwrap().identification_hints().unwrap();
    assert!(hints.hostname().is_some());
    assert!(hints.aws_instance_id().unwrap().starts_with("i-"));
    let cloud = s.source_cloud_properties().unwrap();
    assert_eq!(cloud.origin_account_id(), Some(A1));
    assert_eq!(cloud.origin_region(), Some(WEST), "demo servers replicate cross-region");
    assert_eq!(
        s.data_replication_info().unwrap().data_replication_state(),
        Some(&aws_sdk_drs::types::DataReplicationState::Continuous)
    );
    assert_eq!(s.replication_direction(), Some(&aws_sdk_drs::types::ReplicationDirection::Failover));
    assert!(s.tags().unwrap().contains_key("Wave"));
}

#[tokio::test]
async fn paginator_reads_more_than_a_thousand_servers_once_each() {
    let sim = generated(1_203, 1, 1).await;
    let drs = drs(&sim, A1, EAST).await;
    let pages: Vec<_> =
        drs.describe_source_servers().max_results(250).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(pages.len(), 5);
    let ids: std::collections::HashSet<String> =
        pages.iter().flat_map(|p| p.items().iter().map(|s| s.source_server_id().unwrap().to_owned())).collect();
    assert_eq!(ids.len(), 1_203);
    // The default page size is 100: the paginator still reads everything.
    let count = drs.describe_source_servers().into_paginator().items().send().collect::<Vec<_>>().await.len();
    assert_eq!(count, 1_203);
}

#[tokio::test]
async fn filters_select_by_id_and_bad_input_names_the_field() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let all = drs.describe_source_servers().send().await.unwrap();
    let ids: Vec<String> = all.items().iter().take(2).map(|s| s.source_server_id().unwrap().to_owned()).collect();
    let filtered = drs
        .describe_source_servers()
        .filters(
            aws_sdk_drs::types::DescribeSourceServersRequestFilters::builder().set_source_server_ids(Some(ids.clone())).build(),
        )
        .send()
        .await
        .unwrap();
    let got: Vec<String> = filtered.items().iter().map(|s| s.source_server_id().unwrap().to_owned()).collect();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|g| ids.contains(g)));
    let err = drs.describe_source_servers().max_results(5000).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert!(format!("{:?}", err).contains("maxResults"));
}

#[tokio::test]
async fn uninitialized_region_answers_uninitialized_account() {
    let mut fleet = drs_sim::Fleet::demo();
    fleet.accounts[0].uninitialized_regions.push("eu-west-1".into());
    let sim = start(fleet).await;
    let drs = drs(&sim, A1, "eu-west-1").await;
    let err = drs.describe_source_servers().send().await.unwrap_err();
    assert_eq!(code(&err), "UninitializedAccountException");
}

/// Injected latency is the call's whole time: the call is served (and logged) on arrival,
/// and its reply held until the latency has passed.
#[tokio::test]
async fn latency_holds_the_reply_of_a_call_served_on_arrival() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let latency = std::time::Duration::from_millis(1500);
    let faults = serde_json::json!({"latency": [{"account": A1, "operation": "DescribeSourceServers", "millis": 1500}]});
    sim.control.ok("PUT", "faults", Some(&faults)).await.unwrap();
    let started = std::time::Instant::now();
    let call = tokio::spawn(async move { drs.describe_source_servers().send().await });
    tokio::time::sleep(latency / 2).await;
    let logged = sim.control.calls().await.unwrap().iter().any(|c| c["operation"] == "DescribeSourceServers");
    assert!(logged, "the call is served on arrival, before its latency has passed");
    assert!(!call.is_finished(), "the reply is held for the latency");
    let out = call.await.unwrap().expect("the call succeeds after its latency");
    assert!(started.elapsed() >= latency, "answered after {:?}", started.elapsed());
    assert!(!out.items().is_empty());
}

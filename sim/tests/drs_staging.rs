//! Staging accounts and extended source servers through the official SDK:
//! ListStagingAccounts, ListExtensibleSourceServers, CreateExtendedSourceServer, the
//! SourceServer's stagingArea, DescribeSourceServers' stagingAccountIDs filter, the staging
//! account's trust of the target account, and a drill of an extended server in the target.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_sdk_drs::types::{DescribeSourceServersRequestFilters, ExtensionStatus, StartRecoveryRequestSourceServer};
use common::*;
use drs_sim::generate::{self, staging_account_id, StagingSpec, STAGING_TARGET};
use std::collections::BTreeSet;

const UNTRUSTING: &str = "300000000009";

/// 12 servers in two staging accounts, 8 extended into the target; a third account that
/// trusts nobody holds one more; the first staging account's role is the hub's to assume.
async fn estate() -> Sim {
    let mut fleet = generate::staging_fleet(&StagingSpec { servers: 12, staging_accounts: 2, not_extended: 4 }).unwrap();
    let mut v = serde_json::to_value(&fleet).unwrap();
    v["accounts"].as_array_mut().unwrap().push(serde_json::json!({"accountId": UNTRUSTING, "regions": [EAST]}));
    v["servers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"hostname": "lone-01", "accountId": UNTRUSTING, "region": EAST}));
    fleet = drs_sim::Fleet::from_value(v).unwrap();
    let s1 = staging_account_id(0);
    let hub = format!("arn:aws:iam::{}:role/{}", generate::HUB_ACCOUNT, generate::HUB_ROLE);
    add_role(&mut fleet, &s1, generate::TARGET_ROLE, &hub, Some(&generate::external_id(&s1)), &[]);
    fleet.clock.speed = 0.0;
    start(fleet).await
}

async fn all_servers(drs: &aws_sdk_drs::Client) -> Vec<aws_sdk_drs::types::SourceServer> {
    drs.describe_source_servers().max_results(5).into_paginator().items().send().collect::<Result<_, _>>().await.unwrap()
}

#[tokio::test]
async fn a_target_account_finds_extends_and_lists_its_staging_accounts_servers() {
    let sim = estate().await;
    let (s1, s2) = (staging_account_id(0), staging_account_id(1));
    let drs = drs(&sim, STAGING_TARGET, EAST).await;

    // Every server in the target is an extension, naming its staging account and server.
    let servers = all_servers(&drs).await;
    assert_eq!(servers.len(), 8);
    for s in &servers {
        let area = s.staging_area().unwrap();
        assert_eq!(area.status(), Some(&ExtensionStatus::Extended));
        let origin = area.staging_source_server_arn().unwrap();
        assert!(origin.contains(&format!(":{}:source-server/s-", area.staging_account_id().unwrap())), "{origin}");
        assert!(s.arn().unwrap().contains(&format!(":{STAGING_TARGET}:source-server/")));
    }

    // The staging accounts in use, one per page.
    let accounts: Vec<String> = drs
        .list_staging_accounts()
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|a| a.account_id().unwrap().to_owned())
        .collect();
    assert_eq!(accounts, [s1.clone(), s2.clone()]);
    let filter = DescribeSourceServersRequestFilters::builder().staging_account_ids(&s1).build();
    let from_s1 = drs.describe_source_servers().filters(filter).send().await.unwrap();
    assert_eq!(from_s1.items().len(), 4);
    assert!(from_s1.items().iter().all(|s| s.staging_area().unwrap().staging_account_id() == Some(s1.as_str())));

    // What is left to extend: two servers in each staging account.
    let extensible = |account: String| {
        let drs = drs.clone();
        async move {
            drs.list_extensible_source_servers()
                .staging_account_id(account)
                .max_results(1)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .unwrap()
        }
    };
    let pending = extensible(s1.clone()).await;
    let names: BTreeSet<&str> = pending.iter().map(|p| p.hostname().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["web-00008", "db-00010"]));
    assert_eq!(extensible(s2.clone()).await.len(), 2);

    // Extending one: 201 with the new server, which lists and recovers in the target.
    let arn = pending[0].arn().unwrap().to_owned();
    let created = drs.create_extended_source_server().source_server_arn(&arn).tags("Owner", "estate").send().await.unwrap();
    let server = created.source_server().unwrap();
    assert_eq!(server.staging_area().unwrap().staging_source_server_arn(), Some(arn.as_str()));
    assert_eq!(server.tags().unwrap().get("Owner").map(String::as_str), Some("estate"));
    assert_eq!(extensible(s1.clone()).await.len(), 1);
    assert_eq!(all_servers(&drs).await.len(), 9);
    let again = drs.create_extended_source_server().source_server_arn(&arn).send().await.unwrap_err();
    assert_eq!(code(&again), "ValidationException");
    let missing = arn.rsplit_once('/').unwrap().0.to_owned() + "/s-00000000000000000";
    let err = drs.create_extended_source_server().source_server_arn(missing).send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("ResourceNotFoundException".to_owned(), 404));

    // The staging account sees its own servers as not extended, in its own account.
    let staging = self::drs(&sim, &s1, EAST).await;
    let own = all_servers(&staging).await;
    assert_eq!(own.len(), 6);
    assert!(own.iter().all(|s| s.staging_area().unwrap().status() == Some(&ExtensionStatus::NotExtended)
        && s.staging_area().unwrap().staging_account_id() == Some(s1.as_str())));

    // A drill of an extension launches in the target account.
    let id = server.source_server_id().unwrap().to_owned();
    let one = StartRecoveryRequestSourceServer::builder().source_server_id(&id).build().unwrap();
    drs.start_recovery().source_servers(one).is_drill(true).send().await.unwrap();
    sim.control.advance(3600.0).await.unwrap();
    let instances = drs.describe_recovery_instances().send().await.unwrap();
    assert_eq!(instances.items().iter().map(|i| i.source_server_id().unwrap()).collect::<Vec<_>>(), [id.as_str()]);
    assert!(staging.describe_recovery_instances().send().await.unwrap().items().is_empty());
}

#[tokio::test]
async fn a_staging_account_that_does_not_trust_the_target_is_refused() {
    let sim = estate().await;
    let drs = drs(&sim, STAGING_TARGET, EAST).await;
    let err = drs.list_extensible_source_servers().staging_account_id(UNTRUSTING).send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("AccessDeniedException".to_owned(), 403));
    let lone = drs_sim::ids::stable_source_server_id(UNTRUSTING, EAST, "lone-01");
    let arn = format!("arn:aws:drs:{EAST}:{UNTRUSTING}:source-server/{lone}");
    let err = drs.create_extended_source_server().source_server_arn(arn).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    // Bad input is refused naming the field, before any trust is looked at.
    let err = drs.list_extensible_source_servers().staging_account_id("1234").send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let err = drs.list_staging_accounts().max_results(51).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    let ids: BTreeSet<String> = all_servers(&drs).await.iter().map(|s| s.source_server_id().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 8, "nothing was extended");
}

#[tokio::test]
async fn a_staging_account_whose_drs_is_down_fails_the_targets_reads_of_it_alone() {
    let sim = estate().await;
    let (s1, s2) = (staging_account_id(0), staging_account_id(1));
    let drs = drs(&sim, STAGING_TARGET, EAST).await;
    let outage = serde_json::json!({"outages": [{"account": s2, "region": EAST, "service": "drs", "status": 503}]});
    sim.control.ok("PUT", "faults", Some(&outage)).await.unwrap();

    // DRS cannot read the dark staging account for the target: its own 503, after the SDK's retries.
    let err = drs.list_extensible_source_servers().staging_account_id(&s2).send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("InternalServerException".to_owned(), 503));
    // The target itself, and the other staging account through it, answer as before.
    let listed = drs.list_extensible_source_servers().staging_account_id(&s1).send().await.unwrap();
    assert_eq!(listed.items().len(), 2, "the first staging account's servers not yet extended");
    assert_eq!(all_servers(&drs).await.len(), 8);

    // When it answers again, so does the target's read of it.
    sim.control.ok("PUT", "faults", Some(&serde_json::json!({}))).await.unwrap();
    let listed = drs.list_extensible_source_servers().staging_account_id(&s2).send().await.unwrap();
    assert_eq!(listed.items().len(), 2);
}

//! LaunchSettings during a run: each wave's servers are brought to the resource's settings
//! (DRS launch configuration, and a new default launch template version) before their
//! StartRecovery; a server that cannot be fails the run, naming it, with nothing started.

use crate::common::{resource, rig, rig_configured, rig_with, shop_parameters};
use drs_module::driver::event;
use drs_module::launch::check;
use drs_module::selection::ServerRef;
use serde_json::{json, Value};

fn with_settings() -> Value {
    let mut params = shop_parameters();
    params["LaunchSettings"] = json!({
        "CopyPrivateIp": true, "RightSizing": "NONE", "InstanceType": "m5.large",
        "SubnetId": {"us-east-1": "subnet-0d15ec0de0000e01", "us-west-2": "subnet-0d15ec0de0000a02"}
    });
    params
}

#[tokio::test]
async fn every_server_takes_its_launch_settings_before_it_starts() {
    let r = rig().await;
    let params = with_settings();
    let run =
        r.run(&resource("ShopStack", params.clone()), "activate", Some(&r.token().await)).await.expect("the drill succeeds");
    let plan = drs_module::recovery::run::of_payload(&r.clients, &run.payload).await.unwrap().plan;
    let settings = serde_json::to_value(plan.launch).unwrap();
    assert_eq!(settings["InstanceType"], "m5.large", "the run's plan carries the settings");

    // Every server is in line now.
    let group: Vec<ServerRef> = r
        .all_jobs()
        .await
        .iter()
        .flat_map(|(p, j)| {
            let (account, region) = p.split_once('/').unwrap();
            j.participating_servers().iter().map(move |s| ServerRef {
                account: account.into(),
                region: region.into(),
                hostname: String::new(),
                source_server_id: s.source_server_id().unwrap().into(),
            })
        })
        .collect();
    assert_eq!(group.len(), 60);
    let want = drs_module::resource::DrsResource::new("Web", &params).unwrap().launch.unwrap();
    let after = check(&r.clients, &group, &want).await;
    assert_eq!((after.drifting(), after.errors()), (0, 0), "{:?}", after.lines());

    // ... and each was updated before the StartRecovery that launched it.
    let calls = r.control.calls().await.unwrap();
    for s in &group {
        let seq = |op: &str, has: &dyn Fn(&Value) -> bool| {
            calls
                .iter()
                .filter(|c| c["operation"] == op && c["status"].as_u64() < Some(300) && has(c))
                .map(|c| c["seq"].as_u64().unwrap())
                .min()
        };
        let id = s.source_server_id.as_str();
        let updated = seq("UpdateLaunchConfiguration", &|c| c["request"]["sourceServerID"] == id).expect("updated");
        let started = seq("StartRecovery", &|c| c["request"].to_string().contains(id)).expect("started");
        assert!(updated < started, "{id}: UpdateLaunchConfiguration #{updated} before StartRecovery #{started}");
    }
}

#[tokio::test]
async fn a_server_that_cannot_take_its_settings_fails_the_run_and_starts_nothing() {
    let mut fleet = drs_sim::Fleet::demo();
    fleet.roles.iter_mut().find(|r| r.account_id == "200000000002").unwrap().denied_actions =
        vec!["ec2:ModifyLaunchTemplate".into()];
    let r = rig_with(fleet).await;
    let token = r.token().await;
    let e = r.run(&resource("ShopStack", with_settings()), "activate", Some(&token)).await.unwrap_err();
    for part in ["wave databases", "LaunchSettings could not be applied", "200000000002", "ec2:ModifyLaunchTemplate"] {
        assert!(e.message.contains(part), "'{part}' not in: {}", e.message);
    }
    assert!(r.start_recoveries().await.is_empty(), "no server of the wave started");
    assert_eq!(r.token_state(&token).await["status"], "FAILED");
}

/// Under tight quotas only the servers a check starts take their settings then: a wave held
/// back is not read again in full on every check.
#[tokio::test]
async fn only_the_servers_a_check_starts_take_their_settings_then() {
    let r = rig_configured(drs_sim::Fleet::demo(), |c| {
        c.quotas.servers_per_job = 1;
        c.quotas.concurrent_jobs = 1;
    })
    .await;
    let first =
        drs_module::lifecycle::handle_detailed(&r.clients, &event(&resource("ShopStack", with_settings()), "activate", None))
            .await
            .unwrap();
    assert!(first.answer["execution"].is_string(), "{}", first.answer);
    let calls = r.control.calls().await.unwrap();
    let count = |op: &str| calls.iter().filter(|c| c["operation"] == op && c["status"].as_u64() < Some(300)).count();
    // One job of one server per partition (6), each with its settings applied first.
    assert_eq!(count("StartRecovery"), 6);
    assert_eq!(count("GetLaunchConfiguration"), 6, "only the started servers were read");
    assert_eq!(count("UpdateLaunchConfiguration"), 6);
}

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

/// The billing databases of `manifests/demo-static-ips.json`: each at its source's address,
/// in the recovery subnet of its region.
fn static_ips() -> Value {
    let m: Value = serde_json::from_str(&std::fs::read_to_string("manifests/demo-static-ips.json").unwrap()).unwrap();
    m[0]["resources"][0]["parameters"].clone()
}

/// The addresses the manifest asks, by host name.
fn asked(params: &Value) -> std::collections::BTreeMap<String, String> {
    let servers = params["LaunchSettings"]["Servers"].as_object().unwrap();
    servers.iter().map(|(k, v)| (k.clone(), v["PrivateIpAddress"].as_str().unwrap().to_owned())).collect()
}

fn partition(account: &str, region: &str) -> drs_module::config::Partition {
    drs_module::config::Partition { account: account.into(), region: region.into() }
}

/// Successful calls of an operation in the call log.
async fn count(r: &crate::common::Rig, op: &str) -> usize {
    let calls = r.control.calls().await.unwrap();
    calls.iter().filter(|c| c["operation"] == op && c["status"].as_u64() < Some(300)).count()
}

/// Each recovery instance's host name and private address, through DRS and EC2's own
/// clients in its partition.
async fn recovered_at(r: &crate::common::Rig) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for p in r.clients.config().partitions() {
        let (drs, ec2) = (r.clients.drs(&p).await.unwrap(), r.clients.ec2(&p).await.unwrap());
        for ri in drs.describe_recovery_instances().send().await.unwrap().items() {
            let host = ri.recovery_instance_properties().unwrap().identification_hints().unwrap().hostname().unwrap();
            let drs_ip = ri.recovery_instance_properties().unwrap().network_interfaces()[0].ips()[0].clone();
            let id = ri.ec2_instance_id().unwrap();
            let i = ec2.describe_instances().instance_ids(id).send().await.unwrap().reservations()[0].instances()[0].clone();
            assert_eq!(i.private_ip_address(), Some(drs_ip.as_str()), "{host}: DRS and EC2 agree");
            out.insert(host.to_owned(), drs_ip);
        }
    }
    out
}

/// A static address end to end: instantiate checks it (and names a server whose launch
/// configuration would copy its source's address over it), `launch check --sync` applies
/// it through a new default template version and a second sync changes nothing, the drill
/// launches each server at its address, and a second launch into a taken one fails as EC2
/// makes it fail.
#[tokio::test]
async fn a_static_address_is_checked_applied_kept_and_launched_at() {
    let r = rig().await;
    let params = static_ips();
    let want_ips = asked(&params);
    assert_eq!(want_ips.len(), 12);
    // db-07's launch configuration copies its source's address: a static one conflicts.
    let a1_east = partition("200000000001", "us-east-1");
    let drs = r.clients.drs(&a1_east).await.unwrap();
    let servers = drs.describe_source_servers().send().await.unwrap();
    let db07 = servers
        .items()
        .iter()
        .find(|s| s.source_properties().unwrap().identification_hints().unwrap().hostname() == Some("db-07"))
        .unwrap()
        .source_server_id()
        .unwrap()
        .to_owned();
    drs.update_launch_configuration().source_server_id(&db07).copy_private_ip(true).send().await.unwrap();

    let res = resource("BillingDatabases", params.clone());
    let inst = r.run(&res, "instantiate", None).await.expect("every address can be had");
    // One read of the subnets and one of the interfaces per account x region: 12 addresses
    // in 6 partitions (the permission probes' DescribeSubnets, by MaxResults alone, aside).
    let calls = r.control.calls().await.unwrap();
    let by_subnet =
        calls.iter().filter(|c| c["operation"] == "DescribeSubnets" && c["request"].to_string().contains("subnet-id"));
    assert_eq!((by_subnet.count(), count(&r, "DescribeNetworkInterfaces").await), (6, 6));
    let warnings = inst.payload["warnings"].to_string();
    assert!(warnings.contains("PrivateIpAddress is unset (want 10.10.0.10)"), "{warnings}");
    assert!(
        warnings.contains("CopyPrivateIp is true (want false: PrivateIpAddress 10.10.0.40 is static, and DRS would copy the source's address over it)"),
        "{warnings}"
    );

    // launch check --sync: one new default version per server, then nothing left to do.
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let parsed = drs_module::resource::DrsResource::new("BillingDatabases", &params).unwrap();
    let group = drs_module::selection::resolve(&parsed.selection, &found.servers).servers;
    let want = parsed.launch.unwrap();
    let before = check(&r.clients, &group, &want).await;
    assert_eq!((before.servers, before.drifting(), before.errors()), (12, 12, 0), "{:?}", before.lines());
    let left = drs_module::launch::sync(&r.clients, &before, &want).await;
    assert!(left.findings.is_empty(), "{:?}", left.lines());
    let versions = count(&r, "CreateLaunchTemplateVersion").await;
    assert_eq!(versions, 12);
    let again = check(&r.clients, &group, &want).await;
    assert_eq!((again.drifting(), again.errors()), (0, 0), "{:?}", again.lines());
    // A second sync changes nothing; a retried one of the same drift makes no second version.
    assert!(drs_module::launch::sync(&r.clients, &again, &want).await.findings.is_empty());
    assert_eq!(count(&r, "CreateLaunchTemplateVersion").await, versions, "nothing to sync");
    assert!(drs_module::launch::sync(&r.clients, &before, &want).await.findings.is_empty());
    let lt =
        drs.get_launch_configuration().source_server_id(&db07).send().await.unwrap().ec2_launch_template_id().unwrap().to_owned();
    let ec2 = r.clients.ec2(&a1_east).await.unwrap();
    let all = ec2.describe_launch_template_versions().launch_template_id(&lt).send().await.unwrap();
    assert_eq!(all.launch_template_versions().len(), 2, "the ClientToken made the retry a no-op");
    let versions = count(&r, "CreateLaunchTemplateVersion").await;
    let lc = drs.get_launch_configuration().source_server_id(&db07).send().await.unwrap();
    assert_eq!(lc.copy_private_ip(), Some(false), "the static address stays: DRS no longer copies the source's");

    // The drill: activate finds every server in line (no new version) and each recovery
    // instance comes up at its address.
    r.run(&res, "activate", Some(&r.token().await)).await.expect("the drill succeeds");
    assert_eq!(count(&r, "CreateLaunchTemplateVersion").await, versions, "the addresses were kept, not written again");
    assert_eq!(recovered_at(&r).await, want_ips);
    let after = check(&r.clients, &group, &want).await;
    assert_eq!(after.drifting(), 0, "{:?}", after.lines());

    // Another resource asks db-01's address for app-03, in the same subnet: instantiate
    // names the server, the field and what holds the address.
    let intruder = json!({
        "HostNames": ["app-03"],
        "LaunchSettings": {"SubnetId": {"us-east-1": "subnet-0d15ec0de0000e01"}, "Servers": {"app-03": {"PrivateIpAddress": "10.10.0.10"}}}
    });
    let e = r.run(&resource("Intruder", intruder.clone()), "instantiate", None).await.unwrap_err();
    assert_eq!(e.code.as_str(), "PreflightBlocked");
    for part in [
        "app-03 (",
        "LaunchSettings.Servers.app-03.PrivateIpAddress 10.10.0.10: held by network interface eni-",
        "of instance i-",
    ] {
        assert!(e.message.contains(part), "'{part}' not in: {}", e.message);
    }
    // Launched all the same, app-03 fails as RunInstances fails, with EC2's error code.
    let failed = r.run(&resource("Intruder", intruder), "activate", Some(&r.token().await)).await.unwrap_err();
    assert_eq!(failed.code.as_str(), "WaveFailed", "{}", failed.message);
    let mut log = vec![];
    for job in drs.describe_jobs().send().await.unwrap().items() {
        let items = drs.describe_job_log_items().job_id(job.job_id()).send().await.unwrap();
        log.extend(items.items().iter().filter_map(|i| i.event_data()?.raw_error()).map(str::to_owned));
    }
    assert!(log.iter().any(|l| l.contains("InvalidIPAddress.InUse") && l.contains("Address 10.10.0.10 is in use.")), "{log:?}");
    assert_eq!(recovered_at(&r).await.get("db-01").map(String::as_str), Some("10.10.0.10"), "db-01 keeps its address");
}

/// Each refusal of a static address at instantiate names the server, the field and the
/// reason: reserved, outside its subnet, given to two servers, held by a network interface,
/// in a subnet that does not exist; and a key that names no server.
#[tokio::test]
async fn instantiate_names_each_static_address_it_refuses() {
    let r = rig().await;
    // A network interface already holds 10.11.0.200 in account 3's us-west-2 recovery subnet.
    let ec2 = r.clients.ec2(&partition("200000000003", "us-west-2")).await.unwrap();
    let eni = ec2
        .create_network_interface()
        .subnet_id("subnet-0d15ec0de0000a02")
        .private_ip_address("10.11.0.200")
        .send()
        .await
        .unwrap();
    let eni = eni.network_interface().unwrap().network_interface_id().unwrap().to_owned();
    let params = json!({
        "Tags": {"Application": "billing", "Tier": "db"},
        "LaunchSettings": {
            "SubnetId": {"us-east-1": "subnet-0d15ec0de0000e01", "us-west-2": "subnet-0d15ec0de0000a02"},
            "Servers": {
                "db-01": {"PrivateIpAddress": "10.10.0.3"},
                "db-05": {"PrivateIpAddress": "10.10.16.1"},
                "db-06": {"PrivateIpAddress": "10.10.0.77"},
                "db-12": {"PrivateIpAddress": "10.10.0.77"},
                "db-02": {"PrivateIpAddress": "10.11.0.200"},
                "db-03": {"SubnetId": "subnet-00000000000000dead", "PrivateIpAddress": "10.11.0.5"},
                "db-04": {"PrivateIpAddress": "10.11.0.30"},
                "web-99": {"PrivateIpAddress": "10.10.0.99"}
            }
        }
    });
    let e = r.run(&resource("Databases", params.clone()), "instantiate", None).await.unwrap_err();
    assert_eq!(e.code.as_str(), "PreflightBlocked");
    let expected = [
        "LaunchSettings.Servers.db-01.PrivateIpAddress 10.10.0.3: reserved: AWS keeps the first four addresses and the last one of subnet subnet-0d15ec0de0000e01 (10.10.0.0/20): 10.10.0.0-10.10.0.3 and 10.10.15.255",
        "LaunchSettings.Servers.db-05.PrivateIpAddress 10.10.16.1: outside subnet subnet-0d15ec0de0000e01 (10.10.0.0/20)",
        "LaunchSettings.Servers.db-06.PrivateIpAddress 10.10.0.77: also given to db-12 (",
        "LaunchSettings.Servers.db-12.PrivateIpAddress 10.10.0.77: also given to db-06 (",
        &format!("LaunchSettings.Servers.db-02.PrivateIpAddress 10.11.0.200: held by network interface {eni}"),
        "LaunchSettings.Servers.db-03.PrivateIpAddress 10.11.0.5: subnet subnet-00000000000000dead does not exist in the server's account and region",
        "LaunchSettings.Servers.web-99: names no server of the resource's group",
    ];
    for part in expected {
        assert!(e.message.contains(part), "'{part}' not in: {}", e.message);
    }
    assert!(!e.message.contains("db-04"), "db-04's address can be had: {}", e.message);
    // Each address finding is about its server.
    let parsed = drs_module::resource::DrsResource::new("Databases", &params).unwrap();
    let pre = drs_module::preflight::preflight(&r.clients, &parsed).await.unwrap();
    let named: std::collections::BTreeSet<&str> = pre.launch_addresses.iter().map(|a| a.server.hostname.as_str()).collect();
    assert_eq!(named, ["db-01", "db-02", "db-03", "db-05", "db-06", "db-12"].into_iter().collect());
    assert_eq!(pre.launch_addresses.len(), 6);
    assert_eq!(pre.launch_keys.len(), 1);
}

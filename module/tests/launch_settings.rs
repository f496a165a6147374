//! Launch settings on the simulator's demo fleet: a resource's LaunchSettings against each
//! server's DRS launch configuration and EC2 launch template, read in the server's own
//! account and region (subnets by region); drift named per field; sync fixes it with one UpdateLaunchConfiguration
//! and one new default template version per server, and a retried sync makes no second version.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use common::*;

use drs_module::aws::Clients;
use drs_module::config::Partition;
use drs_module::discovery::discover;
use drs_module::launch::{check, sync, Desired};
use drs_module::resource::DrsResource;
use drs_module::selection::resolve;
use serde_json::json;

#[tokio::test]
async fn drift_is_named_per_field_and_sync_fixes_it_once() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let control = drs_sim::client::Control::new(&sim.endpoint);
    let cfg = config(&sim.endpoint, &["us-east-1", "us-west-2"], demo_accounts(), 3);
    let clients = Clients::new(cfg.clone(), hub_sdk(), "test-launch");
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;
    let params = json!({
        "Tags": {"Tier": "web"},
        "LaunchSettings": {
            "CopyPrivateIp": true, "LaunchDisposition": "STARTED", "RightSizing": "NONE",
            "InstanceType": "m5.large",
            "SubnetId": {"us-east-1": "subnet-0d15ec0de0000e01", "us-west-2": "subnet-0d15ec0de0000a02"},
            "SecurityGroupIds": ["sg-0d15ec0de0000001"]
        }
    });
    let resource = DrsResource::new("Web", &params).unwrap();
    let (sel, want) = (resource.selection, resource.launch.unwrap());
    let group = resolve(&sel, &d.servers).servers;
    assert_eq!(group.len(), 24);

    let before = check(&clients, &group, &want).await;
    assert_eq!((before.servers, before.drifting(), before.errors()), (24, 24, 0));
    let fields: Vec<&str> = before.findings[0].drifts.iter().map(|x| x.field).collect();
    // The demo's launch configurations: copyPrivateIp false, BASIC right-sizing, STARTED; the
    // templates name an instance type but no network interface.
    assert_eq!(fields, ["CopyPrivateIp", "RightSizing", "InstanceType", "SubnetId", "SecurityGroupIds"]);
    assert!(before.lines()[0].contains("RightSizing is BASIC (want NONE)"), "{:?}", before.lines());

    let calls_before = control.calls().await.unwrap().len();
    let left = sync(&clients, &before, &want).await;
    assert_eq!(left.findings.len(), 0, "{:?}", left.lines());
    let calls = control.calls().await.unwrap();
    let count = |op: &str| calls[calls_before..].iter().filter(|c| c["operation"] == op && c["status"] == 200).count();
    assert_eq!(
        (count("UpdateLaunchConfiguration"), count("CreateLaunchTemplateVersion"), count("ModifyLaunchTemplate")),
        (24, 24, 24)
    );
    let after = check(&clients, &group, &want).await;
    assert_eq!((after.drifting(), after.errors()), (0, 0), "{:?}", after.lines());

    // The new default version carries the subnet and group on its first interface.
    let s = &group[0];
    let p = Partition { account: s.account.clone(), region: s.region.clone() };
    let drs = clients.drs(&p).await.unwrap();
    let lc = drs.get_launch_configuration().source_server_id(&s.source_server_id).send().await.unwrap();
    let template = lc.ec2_launch_template_id().unwrap();
    let ec2 = clients.ec2(&p).await.unwrap();
    let versions = ec2.describe_launch_template_versions().launch_template_id(template).send().await.unwrap();
    let versions = versions.launch_template_versions();
    assert_eq!(versions.len(), 2);
    let v2 = versions.iter().find(|v| v.version_number() == Some(2)).unwrap();
    assert_eq!(v2.default_version(), Some(true));
    let nic = &v2.launch_template_data().unwrap().network_interfaces()[0];
    let subnet = if s.region == "us-east-1" { "subnet-0d15ec0de0000e01" } else { "subnet-0d15ec0de0000a02" };
    assert_eq!(
        (nic.subnet_id(), nic.groups()),
        (Some(subnet), &["sg-0d15ec0de0000001".to_string()][..]),
        "each region its own subnet"
    );

    // A retried sync of the same drift (a crashed run, say) makes no second version.
    let again = sync(&clients, &before, &want).await;
    assert_eq!(again.findings.len(), 0, "{:?}", again.lines());
    let versions = ec2.describe_launch_template_versions().launch_template_id(template).send().await.unwrap();
    assert_eq!(versions.launch_template_versions().len(), 2, "the ClientToken made the retry a no-op");
}

#[tokio::test]
async fn a_server_whose_settings_cannot_be_read_is_named() {
    let mut fleet = drs_sim::Fleet::demo();
    fleet.roles.iter_mut().find(|r| r.account_id == "200000000002").unwrap().denied_actions =
        vec!["drs:GetLaunchConfiguration".into()];
    let sim = drs_sim::start(fleet, 0).await.unwrap();
    let cfg = config(&sim.endpoint, &["us-east-1", "us-west-2"], demo_accounts(), 3);
    let clients = Clients::new(cfg.clone(), hub_sdk(), "test-launch");
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;
    let group: Vec<_> = d.servers.iter().map(drs_module::selection::ServerRef::from).collect();
    let want = Desired { copy_tags: Some(true), ..Default::default() };
    let r = check(&clients, &group, &want).await;
    assert_eq!(r.drifting(), 0, "the demo copies tags already");
    assert_eq!(r.errors(), 20, "account 2's 20 servers: {:?}", r.lines());
    assert!(
        r.lines()[0].contains("permission-missing") || r.lines()[0].contains("drs:GetLaunchConfiguration"),
        "{:?}",
        r.lines()
    );
    assert!(r.findings.iter().all(|f| f.server.account == "200000000002"));
}

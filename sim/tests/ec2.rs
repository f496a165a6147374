//! EC2 through the official SDK: DescribeInstances filters and pagination in the origin
//! partition, tags, and the launch templates DRS launches recovery instances from.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    Filter, InstanceType, LaunchTemplateInstanceNetworkInterfaceSpecificationRequest, RequestLaunchTemplateData, Tag,
};
use common::*;
use std::collections::{BTreeMap, HashSet};

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

/// The EC2 sources (by hostname) of the demo servers whose instances live in `account` x `region`.
fn demo_instances(account: &str, region: &str) -> BTreeMap<String, drs_sim::fleet::Ec2Source> {
    drs_sim::Fleet::demo()
        .servers
        .into_iter()
        .filter_map(|s| {
            let e = s.ec2?;
            (e.account_id.as_deref().unwrap_or(&s.account_id) == account && e.region == region).then_some((s.hostname, e))
        })
        .collect()
}

async fn ids(ec2: &aws_sdk_ec2::Client, filters: Vec<Filter>) -> Vec<String> {
    let out = ec2.describe_instances().set_filters(Some(filters)).send().await.unwrap();
    out.reservations().iter().flat_map(|r| r.instances()).map(|i| i.instance_id().unwrap().to_owned()).collect()
}

fn listed_sorted(instances: &[&aws_sdk_ec2::types::Instance]) -> Vec<String> {
    let mut v: Vec<String> = instances.iter().map(|i| i.instance_id().unwrap().to_owned()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn describe_instances_filters_in_the_origin_partition() {
    let sim = demo().await;
    let expected = demo_instances(A1, WEST);
    assert!(expected.len() >= 6, "the demo fleet has instances in {A1}/{WEST}");
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);

    let all = ec2.describe_instances().send().await.unwrap();
    let instances: Vec<_> = all.reservations().iter().flat_map(|r| r.instances()).collect();
    let names: HashSet<&str> =
        instances.iter().map(|i| i.tags().iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value()).unwrap()).collect();
    assert_eq!(names, expected.keys().map(String::as_str).collect::<HashSet<_>>());
    assert!(all.reservations().iter().all(|r| r.owner_id() == Some(A1)));

    // One host by Name: its type, zone and address come from the fleet.
    let (host, src) = expected.iter().next().unwrap();
    let one = ec2.describe_instances().filters(filter("tag:Name", &[host])).send().await.unwrap();
    let found: Vec<_> = one.reservations().iter().flat_map(|r| r.instances()).collect();
    assert_eq!(found.len(), 1);
    let i = found[0];
    assert_eq!(i.instance_type().map(|t| t.as_str()), Some(src.instance_type.as_str()));
    assert_eq!(i.private_ip_address(), src.private_ip.as_deref());
    assert_eq!(i.placement().and_then(|p| p.availability_zone()), src.availability_zone.as_deref());
    assert_eq!(i.state().and_then(|s| s.name()).map(|n| n.as_str()), Some("running"));
    let id = i.instance_id().unwrap().to_owned();

    // The DRS servers of the paired region name these instances as their sources.
    let drs = drs(&sim, A1, EAST).await;
    let hinted: HashSet<String> = drs
        .describe_source_servers()
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|s| s.source_properties()?.identification_hints()?.aws_instance_id().map(str::to_owned))
        .collect();
    let listed: HashSet<String> = instances.iter().map(|i| i.instance_id().unwrap().to_owned()).collect();
    assert_eq!(hinted, listed);

    for tier in ["db", "app", "web"] {
        let want = expected.values().filter(|e| e.tags.get("dr:tier").map(String::as_str) == Some(tier)).count();
        assert_eq!(ids(&ec2, vec![filter("tag:dr:tier", &[tier])]).await.len(), want, "tier {tier}");
    }
    let webs = expected.keys().filter(|h| h.starts_with("web-")).count();
    assert_eq!(ids(&ec2, vec![filter("tag:Name", &["web-*"])]).await.len(), webs, "wildcards");
    assert_eq!(ids(&ec2, vec![filter("instance-id", &[&id])]).await, vec![id.clone()]);
    // An instance-id filter names instances: an unknown value matches nothing (no error), a
    // repeated one matches once, a wildcard matches by pattern, and other filters still apply.
    let ghost = "i-0123456789abcdef0";
    let mut two: Vec<String> = listed_sorted(&instances).into_iter().take(2).collect();
    let named = ids(&ec2, vec![filter("instance-id", &[&two[1], ghost, &two[0], &two[1]])]).await;
    two.sort();
    assert_eq!(named, two, "each named instance once, in id order");
    assert_eq!(ids(&ec2, vec![filter("instance-id", &["i-*"])]).await.len(), expected.len(), "i-* matches them all");
    assert_eq!(ids(&ec2, vec![filter("instance-id", &[&format!("{}?", &id[..id.len() - 1])])]).await, vec![id.clone()]);
    assert!(ids(&ec2, vec![filter("instance-id", &[&id]), filter("instance-state-name", &["stopped"])]).await.is_empty());
    assert_eq!(ids(&ec2, vec![filter("instance-state-name", &["running"])]).await.len(), expected.len());
    assert!(ids(&ec2, vec![filter("instance-state-name", &["stopped"])]).await.is_empty());
    assert_eq!(ids(&ec2, vec![filter("instance-state-code", &["16"])]).await.len(), expected.len(), "16 is running");
    assert_eq!(ids(&ec2, vec![filter("tag-value", &[host])]).await, vec![id.clone()]);
    // Filters are ANDed, values within one filter ORed.
    let db_host = expected.iter().find(|(_, e)| e.tags.get("dr:tier").map(String::as_str) == Some("db")).unwrap().0;
    assert!(ids(&ec2, vec![filter("tag:Name", &[db_host]), filter("tag:dr:tier", &["web"])]).await.is_empty());
    assert_eq!(ids(&ec2, vec![filter("tag:Name", &[host, db_host])]).await.len(), if host == db_host { 1 } else { 2 });

    let err = ec2.describe_instances().filters(filter("no-such-filter", &["x"])).send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidParameterValue");
    assert!(format!("{err:?}").contains("no-such-filter"));
    assert!(!listed.contains(ghost));
    let err = ec2.describe_instances().instance_ids(ghost).send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidInstanceID.NotFound");
    assert!(format!("{err:?}").contains(ghost));
    let err = ec2.describe_instances().dry_run(true).send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("DryRunOperation".into(), 412));

    // The instances of the other region belong to the other region's DRS servers.
    let east = aws_sdk_ec2::Client::new(&target(&sim, A1, EAST).await);
    assert_eq!(ids(&east, vec![]).await.len(), demo_instances(A1, EAST).len());
    assert!(ids(&east, vec![filter("instance-id", &[&id])]).await.is_empty());
}

#[tokio::test]
async fn paginator_with_five_per_page_returns_every_instance_once() {
    let sim = demo().await;
    let expected = demo_instances(A1, WEST).len();
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let pages: Vec<_> =
        ec2.describe_instances().max_results(5).into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(pages.len(), expected.div_ceil(5));
    assert!(pages.iter().all(|p| p.reservations().len() <= 5));
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.reservations().iter().flat_map(|r| r.instances()).map(|i| i.instance_id().unwrap().to_owned()))
        .collect();
    assert_eq!(ids.len(), expected);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), expected, "no instance twice");

    // Bigger partitions page the same way.
    let big = generated(120, 1, 2).await;
    let want = demo_generated_instances(120, 1, 2, WEST);
    let ec2 = aws_sdk_ec2::Client::new(&target(&big, A1, WEST).await);
    let items: Vec<_> = ec2.describe_instances().max_results(5).into_paginator().items().send().collect::<Vec<_>>().await;
    let ids: HashSet<String> = items.into_iter().map(|r| r.unwrap().instances()[0].instance_id().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), want);
    let calls = big.control.calls().await.unwrap();
    let pages = calls.iter().filter(|c| c["operation"] == "DescribeInstances").count();
    assert_eq!(pages, want.div_ceil(5));
    assert!(calls.iter().filter(|c| c["operation"] == "DescribeInstances").all(|c| c["request"]["MaxResults"] == "5"));

    let err = ec2.describe_instances().max_results(4).send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidParameterValue");
}

fn demo_generated_instances(servers: usize, accounts: usize, regions: usize, region: &str) -> usize {
    let f = drs_sim::generate::fleet(&drs_sim::generate::Spec { servers, accounts, regions }).unwrap();
    f.servers.iter().filter(|s| s.ec2.as_ref().is_some_and(|e| e.region == region)).count()
}

#[tokio::test]
async fn tags_are_created_and_deleted_by_key_and_value() {
    let sim = demo().await;
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let id = ids(&ec2, vec![]).await.remove(0);
    let tag = |k: &str, v: Option<&str>| Tag::builder().key(k).set_value(v.map(str::to_owned)).build();
    let tags_of = |id: String| {
        let ec2 = ec2.clone();
        async move {
            let out = ec2.describe_instances().instance_ids(id).send().await.unwrap();
            let i = &out.reservations()[0].instances()[0];
            i.tags()
                .iter()
                .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap_or_default().to_owned()))
                .collect::<BTreeMap<_, _>>()
        }
    };
    let before = tags_of(id.clone()).await;
    ec2.create_tags().resources(&id).tags(tag("dr:wave", Some("3"))).tags(tag("dr:drill", Some("yes"))).send().await.unwrap();
    let after = tags_of(id.clone()).await;
    assert_eq!(after.get("dr:wave").map(String::as_str), Some("3"));
    assert_eq!(after.len(), before.len() + 2);
    assert_eq!(ids(&ec2, vec![filter("tag:dr:wave", &["3"])]).await, vec![id.clone()]);

    // A key with the wrong value deletes nothing; the key alone deletes the tag.
    ec2.delete_tags().resources(&id).tags(tag("dr:wave", Some("4"))).send().await.unwrap();
    assert_eq!(tags_of(id.clone()).await.get("dr:wave").map(String::as_str), Some("3"));
    ec2.delete_tags().resources(&id).tags(tag("dr:wave", None)).send().await.unwrap();
    let last = tags_of(id.clone()).await;
    assert!(!last.contains_key("dr:wave"));
    assert_eq!(last.get("dr:drill").map(String::as_str), Some("yes"), "other tags stay");
    ec2.delete_tags().resources(&id).tags(tag("dr:drill", Some("yes"))).send().await.unwrap();
    assert_eq!(tags_of(id.clone()).await, before);

    let err = ec2.create_tags().resources("i-0123456789abcdef0").tags(tag("k", Some("v"))).send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidInstanceID.NotFound");
    let err = ec2.create_tags().resources(&id).tags(tag("aws:reserved", Some("v"))).send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidParameterValue");
    let calls = sim.control.calls().await.unwrap();
    let create = calls.iter().find(|c| c["operation"] == "CreateTags").unwrap();
    assert_eq!((create["account"].as_str(), create["region"].as_str()), (Some(A1), Some(WEST)));
    assert_eq!(create["request"]["ResourceId.1"], id.as_str());
}

#[tokio::test]
async fn launch_template_versions_are_created_once_per_client_token_and_become_default() {
    let sim = demo().await;
    let cfg = target(&sim, A1, EAST).await;
    let drs = aws_sdk_drs::Client::new(&cfg);
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let server = drs.describe_source_servers().send().await.unwrap().items()[0].clone();
    let id = server.source_server_id().unwrap();
    let host = server.source_properties().unwrap().identification_hints().unwrap().hostname().unwrap().to_owned();
    let fleet_type = drs_sim::Fleet::demo()
        .servers
        .into_iter()
        .find(|s| s.hostname == host && s.account_id == A1)
        .unwrap()
        .ec2
        .unwrap()
        .instance_type;
    let lt =
        drs.get_launch_configuration().source_server_id(id).send().await.unwrap().ec2_launch_template_id().unwrap().to_owned();
    assert!(lt.starts_with("lt-"));

    let version = |v: &str| {
        let (ec2, lt, v) = (ec2.clone(), lt.clone(), v.to_owned());
        async move {
            let out = ec2.describe_launch_template_versions().launch_template_id(lt).versions(v).send().await.unwrap();
            assert_eq!(out.launch_template_versions().len(), 1);
            out.launch_template_versions()[0].clone()
        }
    };
    for v in ["$Default", "$Latest", "1"] {
        let d = version(v).await;
        assert_eq!(d.version_number(), Some(1), "{v}");
        assert_eq!(d.default_version(), Some(true));
        assert_eq!(d.launch_template_id(), Some(lt.as_str()));
        let t = d.launch_template_data().unwrap().instance_type().unwrap();
        assert_eq!(t.as_str(), fleet_type, "{v}");
    }

    let new_type = if fleet_type == "c5.large" { InstanceType::M5Xlarge } else { InstanceType::C5Large };
    let data = RequestLaunchTemplateData::builder()
        .instance_type(new_type.clone())
        .network_interfaces(
            LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                .device_index(0)
                .subnet_id("subnet-0fa1b2c3d4e5f6a7b")
                .groups("sg-0123456789abcdef0")
                .build(),
        )
        .build();
    let create = || {
        ec2.create_launch_template_version()
            .launch_template_id(&lt)
            .client_token("drill-2024-wave-1")
            .version_description("drill")
            .launch_template_data(data.clone())
            .send()
    };
    let first = create().await.unwrap();
    let v = first.launch_template_version().unwrap();
    assert_eq!(v.version_number(), Some(2));
    assert_eq!(v.default_version(), Some(false));
    assert_eq!(v.version_description(), Some("drill"));
    let again = create().await.unwrap();
    assert_eq!(again.launch_template_version().unwrap().version_number(), Some(2), "same ClientToken, same version");
    let changed = ec2
        .create_launch_template_version()
        .launch_template_id(&lt)
        .client_token("drill-2024-wave-1")
        .launch_template_data(RequestLaunchTemplateData::builder().instance_type(InstanceType::T3Micro).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&changed), "IdempotentParameterMismatch");
    let all = ec2.describe_launch_template_versions().launch_template_id(&lt).send().await.unwrap();
    let numbers: Vec<i64> = all.launch_template_versions().iter().filter_map(|v| v.version_number()).collect();
    assert_eq!(numbers, vec![2, 1], "no version 3");
    assert_eq!(version("$Latest").await.version_number(), Some(2));
    assert_eq!(version("$Default").await.version_number(), Some(1), "a new version is not the default");

    let modified = ec2.modify_launch_template().launch_template_id(&lt).default_version("2").send().await.unwrap();
    let t = modified.launch_template().unwrap();
    assert_eq!((t.default_version_number(), t.latest_version_number()), (Some(2), Some(2)));
    assert_eq!(t.launch_template_id(), Some(lt.as_str()));

    let d = version("$Default").await;
    assert_eq!(d.version_number(), Some(2));
    assert_eq!(d.default_version(), Some(true));
    let data = d.launch_template_data().unwrap();
    assert_eq!(data.instance_type(), Some(&new_type));
    let nic = &data.network_interfaces()[0];
    assert_eq!(nic.device_index(), Some(0));
    assert_eq!(nic.subnet_id(), Some("subnet-0fa1b2c3d4e5f6a7b"));
    assert_eq!(nic.groups(), ["sg-0123456789abcdef0".to_string()]);
    assert_eq!(version("1").await.default_version(), Some(false));

    let err = ec2.describe_launch_template_versions().launch_template_id(&lt).versions("7").send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidLaunchTemplateId.VersionNotFound");
    let err =
        ec2.modify_launch_template().launch_template_id("lt-0000000000000000f").default_version("1").send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidLaunchTemplateId.NotFound");
    // The template lives in the DRS partition only.
    let west = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let err = west.describe_launch_template_versions().launch_template_id(&lt).send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidLaunchTemplateId.NotFound");
}

/// The demo's recovery subnet in account 1, us-east-1: 10.10.0.0/20 (the fleet's `subnets`).
const RECOVERY_SUBNET: &str = "subnet-0d15ec0de0000e01";

#[tokio::test]
async fn network_interfaces_hold_the_addresses_of_a_subnet_as_ec2_does() {
    let sim = demo().await;
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, EAST).await);
    let subnet = ec2.describe_subnets().subnet_ids(RECOVERY_SUBNET).send().await.unwrap().subnets()[0].clone();
    assert_eq!(subnet.cidr_block(), Some("10.10.0.0/20"));
    assert_eq!(subnet.available_ip_address_count(), Some(4096 - 5), "AWS keeps five addresses of every subnet");

    let create = |ip: &str| ec2.create_network_interface().subnet_id(RECOVERY_SUBNET).private_ip_address(ip).send();
    let made = create("10.10.0.50").await.unwrap();
    let eni = made.network_interface().unwrap();
    assert_eq!((eni.private_ip_address(), eni.subnet_id()), (Some("10.10.0.50"), Some(RECOVERY_SUBNET)));
    assert_eq!(eni.status().map(|s| s.as_str()), Some("available"));
    let eni_id = eni.network_interface_id().unwrap().to_owned();

    // A taken, a reserved and an outside address are refused with EC2's codes.
    let taken = create("10.10.0.50").await.unwrap_err();
    assert_eq!(code(&taken), "InvalidIPAddress.InUse");
    assert_eq!(taken.message(), Some("Address 10.10.0.50 is in use."));
    for reserved in ["10.10.0.0", "10.10.0.1", "10.10.0.2", "10.10.0.3", "10.10.15.255"] {
        let e = create(reserved).await.unwrap_err();
        assert_eq!(code(&e), "InvalidParameterValue", "{reserved}");
        assert!(e.message().unwrap().contains("reserved"), "{reserved}: {e:?}");
    }
    let outside = create("10.10.16.4").await.unwrap_err();
    assert!(outside.message().unwrap().contains("does not fall within the subnet's address range"), "{outside:?}");
    let e = ec2.create_network_interface().subnet_id("subnet-00000000000000dead").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidSubnetID.NotFound");

    // Found by address, by subnet and by id; the count of free addresses follows.
    let by_address = ec2
        .describe_network_interfaces()
        .filters(filter("addresses.private-ip-address", &["10.10.0.50", "10.10.0.51"]))
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = by_address.network_interfaces().iter().filter_map(|n| n.network_interface_id()).collect();
    assert_eq!(ids, [eni_id.as_str()]);
    let subnet = ec2.describe_subnets().subnet_ids(RECOVERY_SUBNET).send().await.unwrap().subnets()[0].clone();
    assert_eq!(subnet.available_ip_address_count(), Some(4096 - 5 - 1));
    let paged: Vec<_> =
        ec2.describe_network_interfaces().max_results(5).into_paginator().items().send().collect::<Result<_, _>>().await.unwrap();
    assert_eq!(paged.len(), 1, "the source instances of this partition sit outside its subnets");

    // Deleted, the address is free again.
    ec2.delete_network_interface().network_interface_id(&eni_id).send().await.unwrap();
    create("10.10.0.50").await.unwrap();
    let gone = ec2.delete_network_interface().network_interface_id(&eni_id).send().await.unwrap_err();
    assert_eq!(code(&gone), "InvalidNetworkInterfaceID.NotFound");
}

/// A drill launches from the server's launch template: its subnet and static address. A
/// second launch into an address another interface holds fails in the DRS job with EC2's
/// error code, as RunInstances fails; a relaunch of the same server takes its address back.
#[tokio::test]
async fn a_launch_takes_its_templates_static_address_and_a_taken_one_fails_the_launch() {
    use aws_sdk_drs::types::StartRecoveryRequestSourceServer as Start;
    let sim = demo().await;
    let cfg = target(&sim, A1, EAST).await;
    let (drs, ec2) = (aws_sdk_drs::Client::new(&cfg), aws_sdk_ec2::Client::new(&cfg));
    let servers = drs.describe_source_servers().send().await.unwrap().items().to_vec();
    let (first, second) = (servers[0].source_server_id().unwrap().to_owned(), servers[1].source_server_id().unwrap().to_owned());
    let pin = |server: String, ip: &'static str| {
        let (drs, ec2) = (drs.clone(), ec2.clone());
        async move {
            let lc = drs.get_launch_configuration().source_server_id(&server).send().await.unwrap();
            let lt = lc.ec2_launch_template_id().unwrap().to_owned();
            let nic = LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                .device_index(0)
                .subnet_id(RECOVERY_SUBNET)
                .private_ip_address(ip)
                .build();
            let data = RequestLaunchTemplateData::builder().network_interfaces(nic).build();
            let v = ec2
                .create_launch_template_version()
                .launch_template_id(&lt)
                .source_version("$Default")
                .launch_template_data(data)
                .send()
                .await
                .unwrap();
            let n = v.launch_template_version().unwrap().version_number().unwrap();
            ec2.modify_launch_template().launch_template_id(&lt).default_version(n.to_string()).send().await.unwrap();
        }
    };
    let drill = |server: String| {
        let drs = drs.clone();
        async move {
            let start = Start::builder().source_server_id(server).build().unwrap();
            drs.start_recovery().source_servers(start).is_drill(true).send().await.unwrap().job().unwrap().job_id().to_owned()
        }
    };
    pin(first.clone(), "10.10.0.50").await;
    drill(first.clone()).await;
    sim.control.advance(3000.0).await.unwrap();
    let ri = drs.describe_recovery_instances().send().await.unwrap().items()[0].clone();
    let instance = ri.ec2_instance_id().unwrap().to_owned();
    let nics = ri.recovery_instance_properties().unwrap().network_interfaces();
    assert_eq!(nics[0].ips(), ["10.10.0.50".to_string()], "DRS shows the recovery instance's address");
    let i = ec2.describe_instances().instance_ids(&instance).send().await.unwrap().reservations()[0].instances()[0].clone();
    assert_eq!((i.private_ip_address(), i.subnet_id()), (Some("10.10.0.50"), Some(RECOVERY_SUBNET)));
    let held = ec2.describe_network_interfaces().filters(filter("attachment.instance-id", &[&instance])).send().await.unwrap();
    assert_eq!(held.network_interfaces()[0].private_ip_address(), Some("10.10.0.50"));

    // Another server at the same address: its launch fails with EC2's code.
    pin(second.clone(), "10.10.0.50").await;
    let job = drill(second.clone()).await;
    sim.control.advance(3000.0).await.unwrap();
    let jobs = drs
        .describe_jobs()
        .filters(aws_sdk_drs::types::DescribeJobsRequestFilters::builder().job_ids(&job).build())
        .send()
        .await
        .unwrap();
    let status = jobs.items()[0].participating_servers()[0].launch_status().unwrap().as_str().to_owned();
    assert_eq!(status, "FAILED");
    let log = drs.describe_job_log_items().job_id(&job).send().await.unwrap();
    let raw: Vec<&str> = log
        .items()
        .iter()
        .filter(|i| i.event().map(|e| e.as_str()) == Some("LAUNCH_FAILED"))
        .filter_map(|i| i.event_data()?.raw_error())
        .collect();
    assert_eq!(
        raw,
        ["An error occurred (InvalidIPAddress.InUse) when calling the RunInstances operation: Address 10.10.0.50 is in use."]
    );

    // The first server launched again takes the address its previous instance gives up.
    drill(first.clone()).await;
    sim.control.advance(3000.0).await.unwrap();
    let again = drs.describe_recovery_instances().send().await.unwrap();
    let mine: Vec<_> = again.items().iter().filter(|r| r.source_server_id() == Some(first.as_str())).collect();
    assert_eq!(mine.len(), 1);
    assert_ne!(mine[0].ec2_instance_id(), Some(instance.as_str()), "a new instance");
    assert_eq!(mine[0].recovery_instance_properties().unwrap().network_interfaces()[0].ips(), ["10.10.0.50".to_string()]);
    let all =
        ec2.describe_network_interfaces().filters(filter("addresses.private-ip-address", &["10.10.0.50"])).send().await.unwrap();
    assert_eq!(all.network_interfaces().len(), 1, "the old instance's interface went with it");
}

//! The resolution rules, one by one, on hand-built servers.

use super::*;
use crate::discovery::{DiscoveredServer, SourceInstance, Tags};
use serde_json::{json, Value};

const A1: &str = "200000000001";
const A2: &str = "200000000002";

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn server(account: &str, region: &str, hostname: &str, drs: &[(&str, &str)], ec2: &[(&str, &str)]) -> DiscoveredServer {
    DiscoveredServer {
        account: account.into(),
        region: region.into(),
        source_server_id: format!("s-{hostname}-{account}-{region}"),
        hostname: hostname.into(),
        fqdn: Some(format!("{}.corp.example.com", hostname.to_ascii_lowercase())),
        tags: tags(drs),
        replication_state: Some("CONTINUOUS".into()),
        lag_seconds: Some(0),
        instance: Some(SourceInstance { state: "running".into(), instance_type: "m5.large".into(), tags: tags(ec2) }),
        source_unread: None,
        ..Default::default()
    }
}

fn fleet() -> Vec<DiscoveredServer> {
    vec![
        server(A1, "us-east-1", "db-01", &[("Wave", "1"), ("Tier", "db")], &[("Environment", "prod")]),
        server(A1, "us-west-2", "web-01", &[("Wave", "3"), ("Tier", "web")], &[("Environment", "prod")]),
        server(A2, "us-west-2", "WEB-02", &[("Wave", "3")], &[("Environment", "test"), ("Tier", "web")]),
        server(A2, "us-east-1", "app-01", &[("Wave", "2"), ("Tier", "app")], &[]),
    ]
}

fn sel(name: &str, params: Value) -> ResourceSelection {
    crate::resource::DrsResource::new(name, &params).unwrap().selection
}

fn run(params: Value, servers: &[DiscoveredServer]) -> Resolution {
    resolve(&sel("Web", params), servers)
}

fn hosts(r: &Resolution) -> Vec<&str> {
    r.servers.iter().map(|s| s.hostname.as_str()).collect()
}

#[test]
fn names_are_case_insensitive_and_short_names_match_fqdns() {
    let f = fleet();
    assert_eq!(hosts(&run(json!({"HostNames": ["WEB-01", "web-02"]}), &f)), ["web-01", "WEB-02"]);
    assert_eq!(hosts(&run(json!({"HostNames": ["Web-02.Corp.Example.Com"]}), &f)), ["WEB-02"]);
    // A short name also matches the first label of the FQDN when the hostname says otherwise.
    let mut odd = server(A1, "us-east-1", "ip-10-0-0-7", &[], &[]);
    odd.fqdn = Some("mail-01.corp.example.com.".into());
    assert_eq!(hosts(&run(json!({"HostNames": ["mail-01"]}), &[odd.clone()])), ["ip-10-0-0-7"]);
    assert_eq!(hosts(&run(json!({"HostNames": ["MAIL-01.corp.example.com"]}), &[odd.clone()])), ["ip-10-0-0-7"]);
    // A dotted name is whole: a partial domain is not a match.
    assert_eq!(run(json!({"HostNames": ["mail-01.corp"]}), &[odd]).misses.len(), 1);
    // An FQDN reported as the hostname still answers to its short name.
    let mut fq = server(A1, "us-east-1", "Files-01.corp.example.com", &[], &[]);
    fq.fqdn = None;
    assert_eq!(hosts(&run(json!({"HostNames": ["files-01"]}), &[fq])).len(), 1);
}

#[test]
fn a_name_and_its_fqdn_are_one_member() {
    let r = run(json!({"HostNames": ["web-01", "web-01.corp.example.com"]}), &fleet());
    assert_eq!(hosts(&r), ["web-01"]);
    assert!(r.is_ok(), "{:?}", r.errors);
}

#[test]
fn qualifiers_pick_the_account_and_region() {
    let mut f = fleet();
    f.push(server(A2, "us-east-1", "web-01", &[], &[]));
    let place = |r: &Resolution| r.servers.iter().map(|s| (s.account.clone(), s.region.clone())).collect::<Vec<_>>();
    let r = run(json!({"HostNames": [format!("{A2}:web-01")]}), &f);
    assert_eq!(place(&r), [(A2.to_string(), "us-east-1".to_string())]);
    let r = run(json!({"HostNames": ["us-west-2:web-01"]}), &f);
    assert_eq!(place(&r), [(A1.to_string(), "us-west-2".to_string())]);
    let r = run(json!({"HostNames": [format!("{A1}/us-east-1:web-01")]}), &f);
    assert_eq!(r.misses.len(), 1, "web-01 of {A1} is in us-west-2");
    // AccountId scopes unqualified names too.
    assert_eq!(place(&run(json!({"AccountId": A2, "HostNames": ["web-01"]}), &f)), [(A2.to_string(), "us-east-1".to_string())]);
    assert_eq!(hosts(&run(json!({"Regions": ["us-west-2"], "Tags": {"Wave": "3"}}), &f)), ["web-01", "WEB-02"]);
    assert_eq!(hosts(&run(json!({"Accounts": [A1], "Tags": {"Wave": ["1", "3"]}}), &f)), ["db-01", "web-01"]);
}

#[test]
fn tags_any_of_values_all_keys_drs_or_ec2() {
    let f = fleet();
    assert_eq!(hosts(&run(json!({"Tags": {"Tier": ["web", "app"]}}), &f)), ["web-01", "app-01", "WEB-02"]);
    // Tier=web of WEB-02 is only on its EC2 instance; Environment is only on EC2 everywhere.
    assert_eq!(hosts(&run(json!({"Tags": {"Tier": "web", "Environment": "test"}}), &f)), ["WEB-02"]);
    assert_eq!(hosts(&run(json!({"Tags": {"Wave": "3", "Environment": "prod"}}), &f)), ["web-01"]);
    // Exact values: tags are case-sensitive in AWS.
    assert_eq!(run(json!({"Tags": {"Tier": "WEB"}}), &f).servers.len(), 0);
}

#[test]
fn host_names_and_tags_intersect() {
    let r = run(json!({"HostNames": ["web-01", "db-01"], "Tags": {"Wave": "3"}}), &fleet());
    assert_eq!(hosts(&r), ["web-01"]);
    assert_eq!(r.misses.len(), 1);
    assert_eq!(r.misses[0].entry, "HostNames[1] 'db-01'");
    assert!(r.misses[0].reason.contains("matches db-01 (s-db-01") && r.misses[0].reason.contains("but not the tags Wave=3"));
    assert!(!r.is_ok());
}

#[test]
fn misses_are_named_and_follow_the_policy() {
    let f = fleet();
    let r = run(json!({"HostNames": ["web-01", "web-99"]}), &f);
    assert_eq!(r.misses[0].entry, "HostNames[1] 'web-99'");
    assert_eq!(r.errors, ["Web: HostNames[1] 'web-99' matches no server"]);
    assert_eq!(hosts(&r), ["web-01"]);
    let r = run(json!({"HostNames": ["web-99"], "Selection": {"onMiss": "warn"}}), &f);
    assert!(r.is_ok() && r.warnings.len() == 1, "{r:?}");
    // Out of scope: say where the name does live.
    let r = run(json!({"AccountId": A2, "HostNames": ["db-01"]}), &f);
    assert!(
        r.errors[0]
            .contains(&format!("matches no server in account {A2}, only db-01 (s-db-01-{A1}-us-east-1 in {A1}/us-east-1)")),
        "{:?}",
        r.errors
    );
    let r = run(json!({"Tags": {"Wave": "9"}}), &f);
    assert_eq!((r.misses[0].entry.as_str(), r.errors.len()), ("Tags", 1));
    assert!(r.errors[0].contains("no server has the tags Wave=9"), "{:?}", r.errors);
}

#[test]
fn a_name_in_two_accounts_is_a_conflict() {
    let mut f = fleet();
    f.push(server(A2, "us-east-1", "web-01", &[], &[]));
    let r = run(json!({"HostNames": ["web-01"]}), &f);
    assert!(!r.is_ok());
    assert!(
        matches!(&r.conflicts[0], Conflict::Ambiguous { entry, servers } if entry == "HostNames[0] 'web-01'" && servers.len() == 2)
    );
    assert!(r.errors[0].contains(A1) && r.errors[0].contains(A2), "{:?}", r.errors);
    let r = run(json!({"HostNames": ["web-01"], "Selection": {"onConflict": "warn"}}), &f);
    assert!(r.is_ok() && r.warnings.len() == 1);
    assert_eq!(r.servers.len(), 2, "under warn an ambiguous name keeps all it matches");
}

#[test]
fn a_server_claimed_by_two_resources_of_a_layer_names_both() {
    let f = fleet();
    let layer = [
        sel("WebServers", json!({"HostNames": ["web-01", "web-02"]})),
        sel("Wave3", json!({"Tags": {"Wave": "3"}})),
        sel("Db", json!({"HostNames": ["db-01"]})),
    ];
    let rs = resolve_layer(&layer, &f);
    for r in &rs[..2] {
        assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
        assert!(
            r.errors.iter().any(|e| e.contains("web-01 (") && e.contains("selected by WebServers and Wave3")),
            "{:?}",
            r.errors
        );
        assert!(matches!(&r.conflicts[0], Conflict::Claimed { resources, .. } if resources == &["WebServers", "Wave3"]));
    }
    assert!(rs[2].is_ok());
    // Under warn the first resource keeps the server, the later one drops it.
    let layer = [
        sel("WebServers", json!({"HostNames": ["web-01"], "Selection": {"onConflict": "warn"}})),
        sel("Wave3", json!({"Tags": {"Wave": "3"}, "Selection": {"onConflict": "warn"}})),
    ];
    let rs = resolve_layer(&layer, &f);
    assert!(rs.iter().all(Resolution::is_ok));
    assert_eq!((hosts(&rs[0]), hosts(&rs[1])), (vec!["web-01"], vec!["WEB-02"]));
    assert!(rs[1].warnings[0].ends_with("left to WebServers"), "{:?}", rs[1].warnings);
}

#[test]
fn servers_not_ready_by_state_or_lag() {
    let mut f = fleet();
    f[0].replication_state = Some("INITIAL_SYNC".into());
    f[1].lag_seconds = Some(301);
    f[2].lag_seconds = Some(300);
    f[3].replication_state = None;
    let all = json!(["db-01", "web-01", "web-02", "app-01"]);
    let r = run(json!({"HostNames": all}), &f);
    let named: Vec<_> = r.not_ready.iter().map(|n| (n.server.hostname.as_str(), n.reason.as_str())).collect();
    assert_eq!(
        named,
        [
            ("db-01", "replication is INITIAL_SYNC, not CONTINUOUS"),
            ("web-01", "replication lags 301 s, over maxLagSeconds 300"),
            ("app-01", "replication state unknown, not CONTINUOUS"),
        ]
    );
    assert_eq!((r.errors.len(), r.servers.len()), (3, 4));
    assert!(r.errors.iter().any(
        |e| e.starts_with("Web: db-01 (s-db-01") && e.ends_with("is not ready: replication is INITIAL_SYNC, not CONTINUOUS")
    ));
    let r = run(json!({"HostNames": all, "Selection": {"onNotReady": "warn"}}), &f);
    assert!(r.is_ok() && r.warnings.len() == 3 && r.servers.len() == 4);
    let r = run(json!({"HostNames": all, "Selection": {"onNotReady": "skip"}}), &f);
    assert!(r.is_ok() && r.warnings.len() == 3);
    assert_eq!(hosts(&r), ["WEB-02"]);
    let r = run(json!({"HostNames": all, "Selection": {"maxLagSeconds": null}}), &f);
    assert_eq!(r.not_ready.len(), 2, "no lag check");
    let r = run(json!({"HostNames": all, "Selection": {"maxLagSeconds": 100}}), &f);
    assert_eq!(r.not_ready.len(), 4);
}

#[test]
fn tags_that_an_unread_source_instance_might_carry_leave_the_group_undecided() {
    let mut servers = fleet();
    // WEB-02's Tier is only on its source instance, whose region cannot be read now.
    servers[2].instance = None;
    servers[2].source_unread = Some("200000000002/us-east-1: ec2:DescribeInstances: unavailable".into());
    let r = resolve(&sel("Web", json!({"Tags": {"Tier": "web"}, "Selection": {"onMiss": "warn"}})), &servers);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(
        r.errors[0].contains("Tier=web") && r.errors[0].contains("200000000002/us-east-1") && r.errors[0].contains("tags sync")
    );
    // A selection its DRS tags decide (every key on the DRS server) needs no source instance.
    let r = resolve(&sel("Wave3", json!({"Tags": {"Wave": "3"}})), &servers);
    assert!(r.is_ok(), "{:?}", r.errors);
    assert_eq!(r.servers.len(), 2);
}

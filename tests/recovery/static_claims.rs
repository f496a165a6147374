//! Static private addresses across resources, through `instantiate` as the platform calls it:
//! each resource instantiated claims its addresses in the run ledger; another resource asking
//! one it holds is refused naming it, its server and field, also when both are instantiated at
//! once; an address a resource no longer asks is let go; a refused instantiate keeps nothing.

use crate::common::{resource, rig, Rig};
use drs_module::lifecycle::LifecycleError;
use serde_json::{json, Value};

const SUBNET: &str = "subnet-0d15ec0de0000e01";

/// A resource of one server (`host`) at `address` in the us-east-1 recovery subnet.
fn at(name: &str, host: &str, addresses: &[(&str, &str)]) -> Value {
    let servers: serde_json::Map<String, Value> =
        addresses.iter().map(|(h, ip)| ((*h).to_owned(), json!({"PrivateIpAddress": ip}))).collect();
    let mut hosts: Vec<&str> = addresses.iter().map(|(h, _)| *h).collect();
    if !hosts.contains(&host) {
        hosts.push(host);
    }
    resource(name, json!({"HostNames": hosts, "LaunchSettings": {"SubnetId": {"us-east-1": SUBNET}, "Servers": servers}}))
}

/// Two servers of the demo fleet in 200000000001/us-east-1 (db-01 and another).
async fn two_servers(r: &Rig) -> (String, String) {
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let here: Vec<&str> = found
        .servers
        .iter()
        .filter(|s| s.account == "200000000001" && s.region == "us-east-1")
        .map(|s| s.hostname.as_str())
        .collect();
    let other = here.iter().find(|h| **h != "db-01").unwrap();
    ("db-01".to_owned(), (*other).to_owned())
}

async fn instantiate(r: &Rig, res: &Value) -> Result<Value, LifecycleError> {
    // Boxed: a test thread's stack holds the test's future, and this one is awaited often.
    Box::pin(r.run(res, "instantiate", None)).await.map(|run| run.payload)
}

#[tokio::test]
async fn an_address_one_resource_holds_is_refused_to_another_until_it_lets_it_go() {
    let r = rig().await;
    let (a, b) = two_servers(&r).await;
    let first = at("Databases", &a, &[(&a, "10.10.0.10")]);
    instantiate(&r, &first).await.expect("the address is free");
    instantiate(&r, &first).await.expect("instantiated again, the resource keeps its own address");

    // Another resource, another server, the same address: refused naming who holds it.
    let second = at("Reporting", &b, &[(&b, "10.10.0.10")]);
    let refused = instantiate(&r, &second).await.unwrap_err();
    assert_eq!(refused.code.to_string(), "PreflightBlocked", "{}", refused.message);
    for part in
        ["10.10.0.10", "held by resource Databases", &format!("for its server {a}"), &format!("LaunchSettings.Servers.{b}")]
    {
        assert!(refused.message.contains(part), "{part}: {}", refused.message);
    }

    // A refused instantiate keeps nothing: Reporting asked .20 too, which stays free.
    let both = at("Reporting", &b, &[(&b, "10.10.0.10")]);
    let mut both_params = both["parameters"].clone();
    both_params["HostNames"] = json!([a.clone(), b.clone()]);
    both_params["LaunchSettings"]["Servers"] =
        json!({(&b): {"PrivateIpAddress": "10.10.0.10"}, (&a): {"PrivateIpAddress": "10.10.0.20"}});
    assert!(instantiate(&r, &resource("Reporting", both_params)).await.is_err());
    instantiate(&r, &at("Archive", &a, &[(&a, "10.10.0.20")])).await.expect("the refused resource kept nothing");

    // Databases moves to .11: .10 is let go, and Reporting may have it.
    instantiate(&r, &at("Databases", &a, &[(&a, "10.10.0.11")])).await.unwrap();
    instantiate(&r, &second).await.expect("the address was let go");
    let err = instantiate(&r, &at("Databases", &a, &[(&a, "10.10.0.10")])).await.unwrap_err();
    assert!(err.message.contains("held by resource Reporting"), "{}", err.message);

    // Instantiated without static addresses, a resource holds none.
    instantiate(&r, &resource("Reporting", json!({"HostNames": [b.clone()]}))).await.unwrap();
    instantiate(&r, &at("Databases", &a, &[(&a, "10.10.0.10")])).await.expect("Reporting let it go");

    // A resource taken out of the manifests: its claims let go by name (`launch release`).
    let gone = drs_module::launch::claims::release(&r.clients, "Databases").await.unwrap();
    assert_eq!(gone.iter().map(|k| k.address.as_str()).collect::<Vec<_>>(), ["10.10.0.10"]);
    instantiate(&r, &at("Reporting", &b, &[(&b, "10.10.0.10")])).await.expect("released");
    assert!(drs_module::launch::claims::release(&r.clients, "Databases").await.unwrap().is_empty());
}

#[tokio::test]
async fn of_two_resources_instantiated_at_once_for_one_address_one_holds_it() {
    let r = rig().await;
    let (a, b) = two_servers(&r).await;
    let (one, two) = (at("Left", &a, &[(&a, "10.10.0.12")]), at("Right", &b, &[(&b, "10.10.0.12")]));
    let (x, y) = tokio::join!(instantiate(&r, &one), instantiate(&r, &two));
    assert!(x.is_ok() != y.is_ok(), "exactly one holds it: {x:?} {y:?}");
    let loser = x.err().or(y.err()).unwrap();
    assert!(loser.message.contains("held by resource"), "{}", loser.message);
    // The table holds one claim of the address, the winner's.
    let claims: Vec<Value> =
        r.ledger_items().await.into_iter().filter(|i| i["pk"].to_string().contains(&format!("{SUBNET}/10.10.0.12"))).collect();
    assert_eq!(claims.len(), 1, "{claims:?}");
}

/// An instantiate whose ledger writes fail halfway (every attempt at its third PutItem) leaves
/// no claim its resource's list does not name: the resource's next instantiate, asking one of
/// the two addresses only, lets the other go, and another resource can take it.
#[tokio::test]
async fn a_claim_cut_off_halfway_leaves_nothing_the_resource_cannot_let_go() {
    let r = rig().await;
    let (a, b) = two_servers(&r).await;
    let attempts = u64::from(r.clients.config().retry.max_attempts);
    let crash = json!({"service": "dynamodb", "operation": "PutItem", "at": "before", "nth": 3, "count": attempts});
    r.control.ok("PUT", "faults", Some(&json!({"crashes": [crash]}))).await.unwrap();
    let both = at("Databases", &a, &[(&a, "10.10.0.30"), (&b, "10.10.0.31")]);
    let cut = instantiate(&r, &both).await.unwrap_err();
    assert!(cut.message.contains("could not be claimed"), "{}", cut.message);
    r.control.ok("PUT", "faults", Some(&json!({}))).await.unwrap();

    instantiate(&r, &at("Databases", &b, &[(&b, "10.10.0.31")])).await.expect("it keeps .31 alone");
    instantiate(&r, &at("Reporting", &a, &[(&a, "10.10.0.30")])).await.expect(".30 was let go");
    let refused = instantiate(&r, &at("Other", &a, &[(&a, "10.10.0.31")])).await.unwrap_err();
    assert!(refused.message.contains("held by resource Databases"), "{}", refused.message);
}

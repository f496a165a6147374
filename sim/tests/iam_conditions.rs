//! A role's statements through the SDK: with the resource-tag condition on TerminateInstances,
//! an instance DRS does not manage is denied (and changes nothing) and one tagged
//! AWSElasticDisasterRecoveryManaged is served; CreateTags carries its tags as aws:TagKeys, so
//! a statement can refuse DRS's key; an explicit Deny wins over an Allow; a caller whose role
//! the simulator does not model is refused.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::Tag;
use common::*;
use drs_sim::generate::TARGET_ROLE;
use serde_json::json;

const MANAGED: &str = "AWSElasticDisasterRecoveryManaged";

/// The demo fleet whose target roles hold `statements` and nothing else.
fn fleet_with(statements: serde_json::Value) -> drs_sim::Fleet {
    let mut fleet = drs_sim::Fleet::demo();
    let statements = drs_sim::iam::policy::statements_of(&json!({ "Statement": statements })).unwrap();
    for r in fleet.roles.iter_mut().filter(|r| r.role_name == TARGET_ROLE) {
        r.allowed_actions = vec![];
        r.statements = statements.clone();
    }
    fleet
}

fn conditioned() -> drs_sim::Fleet {
    fleet_with(json!([
        {"Sid": "Reads", "Effect": "Allow", "Action": ["ec2:Describe*", "sts:GetCallerIdentity"], "Resource": "*"},
        {"Sid": "TagAnythingButDrsKey", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "arn:aws:ec2:*:*:instance/*",
         "Condition": {"ForAllValues:StringNotEqualsIgnoreCase": {"aws:TagKeys": [MANAGED]}}},
        {"Sid": "TerminateDrsManaged", "Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": "arn:aws:ec2:*:*:instance/*",
         "Condition": {"Null": {format!("aws:ResourceTag/{MANAGED}"): "false"}}},
        {"Sid": "NeverTheFirstOwner", "Effect": "Deny", "Action": "ec2:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/Owner": "team-pinned"}}}
    ]))
}

/// Two instances of account 1's origin region.
async fn two_instances(ec2: &aws_sdk_ec2::Client) -> (String, String) {
    let out = ec2.describe_instances().send().await.unwrap();
    let mut ids = out.reservations().iter().flat_map(|r| r.instances()).filter_map(|i| i.instance_id().map(str::to_owned));
    (ids.next().unwrap(), ids.next().unwrap())
}

async fn state(ec2: &aws_sdk_ec2::Client, id: &str) -> String {
    let out = ec2.describe_instances().instance_ids(id).send().await.unwrap();
    let i = &out.reservations()[0].instances()[0];
    i.state().and_then(|s| s.name()).map(|n| n.as_str().to_owned()).unwrap()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

#[tokio::test]
async fn terminate_reaches_only_drs_managed_instances_under_the_condition() {
    let sim = start(conditioned()).await;
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let (plain, managed) = two_instances(&ec2).await;
    // Tagged as DRS tags what it launches (set in the world: the policy refuses that tag).
    {
        let part = sim.server.world.partition(A1, WEST);
        let mut p = part.lock();
        p.ec2.instances.get_mut(&managed).unwrap().tags.insert(MANAGED.into(), "drs.amazonaws.com".into());
    }

    let err = ec2.terminate_instances().instance_ids(&plain).send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("UnauthorizedOperation"), "{err:?}");
    assert!(
        err.message().unwrap().contains("because no identity-based policy allows the ec2:TerminateInstances action"),
        "{err:?}"
    );
    assert_eq!(state(&ec2, &plain).await, "running", "a denied call changes nothing");
    // One unmanaged instance among managed ones denies the whole call.
    let err = ec2.terminate_instances().instance_ids(&managed).instance_ids(&plain).send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("UnauthorizedOperation"));
    assert_eq!(state(&ec2, &managed).await, "running");

    let done = ec2.terminate_instances().instance_ids(&managed).send().await.unwrap();
    let t = &done.terminating_instances()[0];
    assert_eq!(t.instance_id(), Some(managed.as_str()));
    assert_eq!(t.current_state().and_then(|s| s.code()), Some(48));
    assert_eq!(state(&ec2, &managed).await, "terminated");

    let calls = sim.control.calls().await.unwrap();
    let of = |op: &str, err: Option<&str>| calls.iter().filter(|c| c["operation"] == op && c["error"].as_str() == err).count();
    assert_eq!(of("TerminateInstances", Some("UnauthorizedOperation")), 2, "the call log records the denials");
    let served = calls.iter().find(|c| c["operation"] == "TerminateInstances" && c["status"] == 200).unwrap();
    assert_eq!(
        served["allowedBy"],
        json!([{"sid": "TerminateDrsManaged", "action": "ec2:TerminateInstances"}]),
        "the log names the statement that allowed it"
    );
}

#[tokio::test]
async fn create_tags_is_decided_on_the_keys_it_sets_in_any_case() {
    let sim = start(conditioned()).await;
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let (plain, _) = two_instances(&ec2).await;
    ec2.create_tags().resources(&plain).tags(tag("Owner", "team-x")).send().await.unwrap();
    for key in [MANAGED, "awselasticdisasterrecoverymanaged"] {
        let err = ec2.create_tags().resources(&plain).tags(tag("Note", "n")).tags(tag(key, "x")).send().await.unwrap_err();
        assert_eq!(err.into_service_error().code(), Some("UnauthorizedOperation"), "{key}");
    }
    let out = ec2.describe_instances().instance_ids(&plain).send().await.unwrap();
    let tags = out.reservations()[0].instances()[0].tags().to_vec();
    assert!(tags.iter().any(|t| t.key() == Some("Owner")), "{tags:?}");
    assert!(
        !tags.iter().any(|t| t.key().is_some_and(|k| k.eq_ignore_ascii_case(MANAGED)) || t.key() == Some("Note")),
        "{tags:?}"
    );
}

#[tokio::test]
async fn an_explicit_deny_wins_over_every_allow() {
    let sim = start(conditioned()).await;
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let (plain, _) = two_instances(&ec2).await;
    ec2.create_tags().resources(&plain).tags(tag("Owner", "team-pinned")).send().await.unwrap();
    // Now the instance carries the tag the Deny names: even a harmless tag is refused.
    let err = ec2.create_tags().resources(&plain).tags(tag("Note", "n")).send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("UnauthorizedOperation"));
    assert!(err.message().unwrap().contains("with an explicit deny in an identity-based policy"), "{err:?}");
}

#[tokio::test]
async fn without_the_condition_any_instance_can_be_terminated() {
    let sim = start(drs_sim::Fleet::demo()).await;
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let (plain, _) = two_instances(&ec2).await;
    ec2.terminate_instances().instance_ids(&plain).send().await.unwrap();
    assert_eq!(state(&ec2, &plain).await, "terminated");
    let err = ec2.terminate_instances().instance_ids("i-0000000000000dead").send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("InvalidInstanceID.NotFound"));
}

#[tokio::test]
async fn a_caller_whose_role_is_not_modelled_is_refused() {
    let sim = start(drs_sim::Fleet::demo()).await;
    let cfg = target(&sim, A1, EAST).await;
    // The role is removed after its session was issued: its credentials still authenticate.
    sim.server.world.roles.write().retain(|r| !(r.account_id == A1 && r.role_name == TARGET_ROLE));
    let err = aws_sdk_drs::Client::new(&cfg).describe_source_servers().send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("AccessDeniedException".into(), 403));
    // GetCallerIdentity needs no permission.
    aws_sdk_sts::Client::new(&cfg).get_caller_identity().send().await.unwrap();
}

//! The resource-tag condition on a role's destructive EC2 actions: with it, TerminateInstances
//! on an instance DRS does not manage is denied (and changes nothing), on one tagged
//! AWSElasticDisasterRecoveryManaged it is served; without it, both are served.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::Tag;
use common::*;
use drs_sim::conditions::ResourceTagCondition;
use drs_sim::generate::TARGET_ROLE;

const MANAGED: &str = "AWSElasticDisasterRecoveryManaged";

fn fleet(conditioned: bool) -> drs_sim::Fleet {
    let mut fleet = drs_sim::Fleet::demo();
    if conditioned {
        for r in fleet.roles.iter_mut().filter(|r| r.role_name == TARGET_ROLE) {
            r.resource_tag_conditions = vec![ResourceTagCondition {
                actions: vec!["ec2:TerminateInstances".into(), "ec2:DeleteVolume".into()],
                tag_key: MANAGED.into(),
            }];
        }
    }
    fleet
}

/// Two instances of account 1's origin region: one left as is, one tagged as DRS tags its own.
async fn two_instances(ec2: &aws_sdk_ec2::Client) -> (String, String) {
    let out = ec2.describe_instances().send().await.unwrap();
    let mut ids = out.reservations().iter().flat_map(|r| r.instances()).filter_map(|i| i.instance_id().map(str::to_owned));
    let (plain, managed) = (ids.next().unwrap(), ids.next().unwrap());
    let tag = Tag::builder().key(MANAGED).value("drs.amazonaws.com").build();
    ec2.create_tags().resources(&managed).tags(tag).send().await.unwrap();
    (plain, managed)
}

async fn state(ec2: &aws_sdk_ec2::Client, id: &str) -> String {
    let out = ec2.describe_instances().instance_ids(id).send().await.unwrap();
    let i = &out.reservations()[0].instances()[0];
    i.state().and_then(|s| s.name()).map(|n| n.as_str().to_owned()).unwrap()
}

#[tokio::test]
async fn terminate_reaches_only_drs_managed_instances_under_the_condition() {
    let sim = start(fleet(true)).await;
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let (plain, managed) = two_instances(&ec2).await;

    let err = ec2.terminate_instances().instance_ids(&plain).send().await.unwrap_err().into_service_error();
    assert_eq!(err.code(), Some("UnauthorizedOperation"), "{err:?}");
    assert_eq!(state(&ec2, &plain).await, "running", "a denied call changes nothing");
    // One unmanaged instance among managed ones denies the whole call.
    let err = ec2.terminate_instances().instance_ids(&managed).instance_ids(&plain).send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("UnauthorizedOperation"));
    assert_eq!(state(&ec2, &managed).await, "running");

    let done = ec2.terminate_instances().instance_ids(&managed).send().await.unwrap();
    let t = &done.terminating_instances()[0];
    assert_eq!(t.instance_id(), Some(managed.as_str()));
    assert_eq!(t.current_state().and_then(|s| s.code()), Some(48));
    assert_eq!(t.previous_state().and_then(|s| s.code()), Some(16));
    assert_eq!(state(&ec2, &managed).await, "terminated");

    let calls = sim.server.world.calls.since(0);
    let denied =
        calls.iter().filter(|c| c.operation == "TerminateInstances" && c.error.as_deref() == Some("UnauthorizedOperation"));
    assert_eq!(denied.count(), 2, "the call log records the denials");
}

#[tokio::test]
async fn without_the_condition_any_instance_can_be_terminated() {
    let sim = start(fleet(false)).await;
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, WEST).await);
    let (plain, _) = two_instances(&ec2).await;
    ec2.terminate_instances().instance_ids(&plain).send().await.unwrap();
    assert_eq!(state(&ec2, &plain).await, "terminated");
    let err = ec2.terminate_instances().instance_ids("i-0000000000000dead").send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("InvalidInstanceID.NotFound"));
}

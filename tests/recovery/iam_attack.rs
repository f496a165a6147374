//! The walk-around the target role's EC2 permissions once allowed, played with that role's own
//! credentials through the official EC2 and DRS clients, the simulator evaluating
//! cloudformation/target-account.json as IAM does: the role cannot put DRS's managed tag on a
//! production instance (in any case of its key) nor any other tag, cannot terminate the
//! instance, cannot version or re-default a launch template DRS does not manage, and cannot
//! take DRS's tag off what DRS manages, and cannot hold a private address (it reads network
//! interfaces, to check static addresses, but creates none). What DRS launches for a drill
//! the same role may terminate. The role's trust, as the template writes it, wants the account's ExternalId and,
//! when OrganizationId is set, a hub in that organization.

use crate::common::{rig_with, Rig};
use crate::templates::REGION;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{RequestLaunchTemplateData, Tag};
use drs_sim::generate::{self, TARGET_ROLE};
use std::collections::BTreeMap;

const ACCOUNT: &str = "200000000001";
/// Account 1's servers are protected in us-east-1 and run in us-west-2.
const ORIGIN: &str = "us-west-2";
const MANAGED: &str = "AWSElasticDisasterRecoveryManaged";

/// The target role's own session in `region`, assumed as the hub assumes it.
async fn as_target_role(r: &Rig, region: &str) -> aws_config::SdkConfig {
    let hub = aws_credential_types::Credentials::new(generate::HUB_ACCESS_KEY, generate::HUB_SECRET, None, None, "hub");
    let config = |creds| {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .endpoint_url(&r.sim.endpoint)
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
            .build()
    };
    let sts = aws_sdk_sts::Client::new(&config(hub));
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{TARGET_ROLE}"))
        .role_session_name("attacker")
        .external_id(generate::external_id(ACCOUNT))
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "target",
    );
    config(creds)
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// An instance's state and tags as EC2 describes them.
async fn instance(ec2: &aws_sdk_ec2::Client, id: &str) -> (String, BTreeMap<String, String>) {
    let out = ec2.describe_instances().instance_ids(id).send().await.unwrap();
    let i = &out.reservations()[0].instances()[0];
    let state = i.state().and_then(|s| s.name()).map(|n| n.as_str().to_owned()).unwrap();
    let tags = i.tags().iter().map(|t| (t.key().unwrap().to_owned(), t.value().unwrap_or_default().to_owned())).collect();
    (state, tags)
}

fn unauthorized<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    what: &str,
    r: Result<impl std::fmt::Debug, aws_sdk_ec2::error::SdkError<E, R>>,
) -> String {
    let e = r.expect_err(what);
    let e = e.as_service_error().unwrap_or_else(|| panic!("{what}: not a service error: {e:?}"));
    assert_eq!(e.code(), Some("UnauthorizedOperation"), "{what}: {e:?}");
    e.message().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_target_role_cannot_make_a_production_instance_look_drs_managed_nor_touch_it() {
    let r = rig_with(crate::templates::fleet()).await;
    let ec2 = aws_sdk_ec2::Client::new(&as_target_role(&r, ORIGIN).await);
    let described = ec2.describe_instances().send().await.unwrap();
    let prod = described.reservations()[0].instances()[0].instance_id().unwrap().to_owned();
    let before = instance(&ec2, &prod).await;
    assert_eq!((before.0.as_str(), before.1.get("Environment").map(String::as_str)), ("running", Some("prod")));
    assert!(!before.1.contains_key(MANAGED));

    // 1. Tag it as DRS's own: refused by the explicit Deny, in any case of the key.
    for key in [MANAGED, "awselasticdisasterrecoverymanaged", "AWSELASTICDISASTERRECOVERYMANAGED"] {
        let m = unauthorized(key, ec2.create_tags().resources(&prod).tags(tag(key, "drs.amazonaws.com")).send().await);
        assert!(m.contains("with an explicit deny in an identity-based policy"), "{key}: {m}");
    }
    // Nor any other tag (a tag other policies of the account may read): the role tags only what DRS manages.
    let m = unauthorized("a harmless tag", ec2.create_tags().resources(&prod).tags(tag("Owner", "me")).send().await);
    assert!(m.contains("because no identity-based policy allows the ec2:CreateTags action"), "{m}");

    // 2. Terminate it: refused.
    let m = unauthorized("terminate", ec2.terminate_instances().instance_ids(&prod).send().await);
    assert!(m.contains(&format!("ec2:TerminateInstances on resource: arn:aws:ec2:{ORIGIN}:{ACCOUNT}:instance/{prod}")), "{m}");

    // Nothing changed.
    assert_eq!(instance(&ec2, &prod).await, before);
    let calls = r.control.calls().await.unwrap();
    let refused = calls.iter().filter(|c| c["status"] == 403 && c["role"].as_str().is_some_and(|x| x.ends_with(TARGET_ROLE)));
    assert_eq!(refused.count(), 5, "every attempt was refused and logged");
}

#[tokio::test]
async fn the_target_role_cannot_change_a_launch_template_drs_does_not_manage() {
    let r = rig_with(crate::templates::fleet()).await;
    // An Auto Scaling group's template in the account, beside DRS's own.
    let asg = "lt-0a5c0a5c0a5c0a5c0";
    {
        let part = r.sim.world.partition(ACCOUNT, REGION);
        let mut p = part.lock();
        let mut t = p.ec2.launch_templates.values().next().unwrap().clone();
        t.id = asg.into();
        t.name = "web-asg".into();
        t.tags = BTreeMap::from([("Team".into(), "web".into())]);
        p.ec2.launch_templates.insert(asg.into(), t);
    }
    let ec2 = aws_sdk_ec2::Client::new(&as_target_role(&r, REGION).await);
    let data = RequestLaunchTemplateData::builder().user_data("IyEvYmluL3NoCmN1cmwgZXZpbA==").build();
    let new_version = ec2.create_launch_template_version().launch_template_id(asg).launch_template_data(data.clone());
    unauthorized("a version of the ASG's template", new_version.send().await);
    let by_name = ec2.create_launch_template_version().launch_template_name("web-asg").launch_template_data(data);
    unauthorized("the same by name", by_name.send().await);
    unauthorized("its default version", ec2.modify_launch_template().launch_template_id(asg).default_version("1").send().await);
    let versions = ec2.describe_launch_template_versions().launch_template_id(asg).send().await.unwrap();
    assert_eq!(versions.launch_template_versions().len(), 1, "no version was added");

    // DRS's own template (tagged AWSElasticDisasterRecoveryManaged) takes a version.
    let drs_template =
        r.sim.world.partition(ACCOUNT, REGION).lock().ec2.launch_templates.keys().find(|k| *k != asg).cloned().unwrap();
    let data = RequestLaunchTemplateData::builder().instance_type(aws_sdk_ec2::types::InstanceType::M5Large).build();
    ec2.create_launch_template_version().launch_template_id(&drs_template).launch_template_data(data).send().await.unwrap();
}

#[tokio::test]
async fn what_drs_launches_for_the_role_the_role_may_terminate_and_not_untag() {
    let r = rig_with(crate::templates::fleet()).await;
    let cfg = as_target_role(&r, REGION).await;
    let drs = aws_sdk_drs::Client::new(&cfg);
    let servers = drs.describe_source_servers().send().await.unwrap();
    let server = servers.items()[0].source_server_id().unwrap().to_owned();
    // StartRecovery passes only with every dependent action the template grants DRS.
    let source = aws_sdk_drs::types::StartRecoveryRequestSourceServer::builder().source_server_id(&server).build().unwrap();
    drs.start_recovery().source_servers(source).is_drill(true).send().await.unwrap();
    r.control.advance(3600.0).await.unwrap();
    let launched = drs.describe_recovery_instances().send().await.unwrap();
    let recovery = launched.items()[0].ec2_instance_id().unwrap().to_owned();

    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let (state, tags) = instance(&ec2, &recovery).await;
    assert_eq!((state.as_str(), tags.get(MANAGED).map(String::as_str)), ("running", Some("drs.amazonaws.com")));
    // Its DRS tag cannot be taken off (then DRS could not clean it up) nor rewritten.
    unauthorized("untag", ec2.delete_tags().resources(&recovery).tags(Tag::builder().key(MANAGED).build()).send().await);
    unauthorized("retag", ec2.create_tags().resources(&recovery).tags(tag(MANAGED, "other")).send().await);

    ec2.terminate_instances().instance_ids(&recovery).send().await.unwrap();
    assert_eq!(instance(&ec2, &recovery).await.0, "terminated");
    let calls = r.control.calls().await.unwrap();
    let served = calls.iter().find(|c| c["operation"] == "TerminateInstances" && c["status"] == 200).unwrap();
    assert_eq!(served["allowedBy"][0]["sid"], "DependentDestructiveEc2OnDrsManagedResourcesOnly", "{served}");
}

/// The role reads network interfaces (instantiate checks static addresses against them) but
/// cannot create one: it cannot take an address that a production host, or a recovery
/// instance's static one, needs.
#[tokio::test]
async fn the_target_role_reads_network_interfaces_and_cannot_take_an_address() {
    let r = rig_with(crate::templates::fleet()).await;
    let ec2 = aws_sdk_ec2::Client::new(&as_target_role(&r, REGION).await);
    ec2.describe_network_interfaces().send().await.unwrap();
    let take = ec2.create_network_interface().subnet_id("subnet-0d15ec0de0000e01").private_ip_address("10.10.0.10");
    let m = unauthorized("an interface at db-01's address", take.send().await);
    assert!(m.contains("ec2:CreateNetworkInterface"), "{m}");
    let free = ec2.describe_network_interfaces().send().await.unwrap();
    assert!(free.network_interfaces().is_empty(), "nothing holds an address");
}

/// The target role's trust as the template writes it: the hub's role with the account's
/// ExternalId, and with OrganizationId set, only while the hub's account is in that organization.
#[tokio::test]
async fn the_target_roles_trust_wants_the_external_id_and_when_set_the_hubs_organization() {
    const ORG: &str = "o-drsorchtest1";
    let assume = |r: &Rig, external_id: Option<String>| {
        let hub = aws_credential_types::Credentials::new(generate::HUB_ACCESS_KEY, generate::HUB_SECRET, None, None, "hub");
        let cfg = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&r.sim.endpoint)
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(hub))
            .build();
        let sts = aws_sdk_sts::Client::new(&cfg);
        async move {
            let call =
                sts.assume_role().role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{TARGET_ROLE}")).role_session_name("trust-check");
            call.set_external_id(external_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| e.into_service_error().meta().code().map(str::to_owned))
        }
    };
    let right = || Some(generate::external_id(ACCOUNT));
    let with = |hub_org: Option<&str>, required_org: &str| {
        let mut fleet = crate::templates::fleet();
        fleet.hub.organization_id = hub_org.map(str::to_owned);
        for role in fleet.roles.iter_mut().filter(|r| r.role_name == TARGET_ROLE) {
            role.trust = crate::templates::target_trust(&role.account_id, required_org);
        }
        fleet
    };
    let denied = Err(Some("AccessDenied".to_owned()));

    // OrganizationId empty: the ExternalId decides.
    let r = rig_with(with(None, "")).await;
    assert_eq!(assume(&r, right()).await, Ok(()));
    assert_eq!(assume(&r, Some("drsorch-demo-200000000002".into())).await, denied, "another account's ExternalId");
    assert_eq!(assume(&r, None).await, denied, "no ExternalId");

    // OrganizationId set: the hub must be in it as well.
    let r = rig_with(with(Some(ORG), ORG)).await;
    assert_eq!(assume(&r, right()).await, Ok(()));
    assert_eq!(assume(&r, None).await, denied);
    let r = rig_with(with(Some("o-elsewhere000"), ORG)).await;
    assert_eq!(assume(&r, right()).await, denied, "a hub of another organization");
    let r = rig_with(with(None, ORG)).await;
    assert_eq!(assume(&r, right()).await, denied, "a hub in no organization");
}

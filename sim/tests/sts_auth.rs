//! STS and authentication through the official SDKs: AssumeRole trust and ExternalId,
//! session duration, expiry on the simulator's clock, signatures, unknown keys, unsigned
//! requests and the assumed role's identity policy.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_credential_types::Credentials;
use common::*;
use drs_sim::generate::{external_id, HUB_ACCOUNT, HUB_ROLE, TARGET_ROLE};

fn target_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{TARGET_ROLE}")
}

#[tokio::test]
async fn assume_role_with_external_id_acts_in_the_target_account() {
    let sim = demo().await;
    let sts = aws_sdk_sts::Client::new(&hub(&sim, EAST));
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(HUB_ACCOUNT));
    // The hub acts as a role session, as a Lambda does.
    assert_eq!(me.arn(), Some(format!("arn:aws:sts::{HUB_ACCOUNT}:assumed-role/{HUB_ROLE}/{HUB_ROLE}").as_str()));

    let out =
        sts.assume_role().role_arn(target_arn(A2)).role_session_name("wave-1").external_id(external_id(A2)).send().await.unwrap();
    let user = out.assumed_role_user().unwrap();
    assert_eq!(user.arn(), format!("arn:aws:sts::{A2}:assumed-role/{TARGET_ROLE}/wave-1"));
    assert!(user.assumed_role_id().ends_with(":wave-1"));
    let c = out.credentials().unwrap();
    assert!(c.access_key_id().starts_with("ASIA"));
    assert!(!c.session_token().is_empty());

    let assumed = aws_sdk_sts::Client::new(&config_with(&sim, creds_of(c), EAST));
    let id = assumed.get_caller_identity().send().await.unwrap();
    assert_eq!(id.account(), Some(A2));
    assert_eq!(id.arn(), Some(format!("arn:aws:sts::{A2}:assumed-role/{TARGET_ROLE}/wave-1").as_str()));
    assert!(id.user_id().unwrap().ends_with(":wave-1"));

    // The call log knows who called, and never holds the ExternalId in full.
    let calls = sim.control.calls().await.unwrap();
    let assume = calls.iter().find(|c| c["operation"] == "AssumeRole").expect("AssumeRole is logged");
    assert_eq!(assume["service"], "sts");
    assert_eq!(assume["status"], 200);
    assert_eq!(assume["account"], HUB_ACCOUNT);
    assert_eq!(assume["request"]["RoleArn"], target_arn(A2));
    let last = calls.last().unwrap();
    assert_eq!((last["operation"].as_str(), last["account"].as_str()), (Some("GetCallerIdentity"), Some(A2)));
    assert_eq!(last["role"], target_arn(A2));
    assert!(!call_log_text(&sim).await.contains(&external_id(A2)), "the ExternalId leaked into the call log");
}

#[tokio::test]
async fn trust_and_external_id_are_enforced() {
    let mut fleet = drs_sim::Fleet::demo();
    add_role(&mut fleet, A1, "someone-elses", "arn:aws:iam::999999999999:role/other", None, &[]);
    let sim = start(fleet).await;
    let sts = aws_sdk_sts::Client::new(&hub(&sim, EAST));
    let assume =
        |arn: String, ext: Option<String>| sts.assume_role().role_arn(arn).role_session_name("s1").set_external_id(ext).send();

    let missing = assume(target_arn(A1), None).await.unwrap_err();
    assert_eq!((code(&missing), status(&missing)), ("AccessDenied".into(), 403));
    let wrong = assume(target_arn(A1), Some(external_id(A2))).await.unwrap_err();
    assert_eq!((code(&wrong), status(&wrong)), ("AccessDenied".into(), 403));
    let no_role = assume(format!("arn:aws:iam::{A1}:role/no-such-role"), Some(external_id(A1))).await.unwrap_err();
    assert_eq!(code(&no_role), "AccessDenied");
    let untrusted = assume(format!("arn:aws:iam::{A1}:role/someone-elses"), None).await.unwrap_err();
    assert_eq!((code(&untrusted), status(&untrusted)), ("AccessDenied".into(), 403));
    assert!(format!("{untrusted:?}").contains("someone-elses"), "the message names the role");
    // The right ExternalId still works after the refusals.
    assume(target_arn(A1), Some(external_id(A1))).await.unwrap();

    let calls = sim.control.calls().await.unwrap();
    let refused: Vec<_> = calls.iter().filter(|c| c["operation"] == "AssumeRole" && c["status"] == 403).collect();
    assert_eq!(refused.len(), 4);
    assert!(refused.iter().all(|c| c["error"] == "AccessDenied"));
    let text = call_log_text(&sim).await;
    assert!(!text.contains(&external_id(A1)) && !text.contains(&external_id(A2)), "an ExternalId leaked: {text}");
}

#[tokio::test]
async fn duration_below_fifteen_minutes_is_a_validation_error() {
    let sim = demo().await;
    let sts = aws_sdk_sts::Client::new(&hub(&sim, EAST));
    let err = sts
        .assume_role()
        .role_arn(target_arn(A1))
        .role_session_name("short")
        .external_id(external_id(A1))
        .duration_seconds(899)
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&err), status(&err)), ("ValidationError".into(), 400));
    assert!(format!("{err:?}").contains("durationSeconds"));
    let ok = sts
        .assume_role()
        .role_arn(target_arn(A1))
        .role_session_name("short")
        .external_id(external_id(A1))
        .duration_seconds(900)
        .send()
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn credentials_expire_on_the_simulator_clock_at_its_speed() {
    let sim = demo().await;
    let cfg = target(&sim, A1, EAST).await;
    let sts = aws_sdk_sts::Client::new(&cfg);
    assert_eq!(sts.get_caller_identity().send().await.unwrap().account(), Some(A1));
    let drs = aws_sdk_drs::Client::new(&cfg);
    drs.describe_source_servers().send().await.unwrap();

    // A jump moves jobs, not credential lifetimes: the client could not see it.
    sim.control.advance(7200.0).await.unwrap();
    sts.get_caller_identity().send().await.expect("a jump does not expire credentials");
    // Time that passes at the clock's speed does (3600x: 1 s is an hour).
    sim.control.ok("POST", "clock", Some(&serde_json::json!({"speed": 3600.0}))).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    sim.control.ok("POST", "clock", Some(&serde_json::json!({"speed": 0.0}))).await.unwrap();
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("ExpiredToken".into(), 403));
    let err = drs.describe_source_servers().send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("ExpiredTokenException".into(), 403));
    // The hub's long-term key does not expire; a fresh AssumeRole works again.
    let fresh = target(&sim, A1, EAST).await;
    aws_sdk_drs::Client::new(&fresh).describe_source_servers().send().await.unwrap();
}

#[tokio::test]
async fn bad_signatures_and_unknown_keys_are_refused_per_protocol() {
    let sim = demo().await;
    let h = &sim.server.world.hub;
    let forged = config_with(&sim, Credentials::new(&h.access_key_id, "not-the-secret", None, None, "forged"), EAST);
    let e = aws_sdk_sts::Client::new(&forged).get_caller_identity().send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("SignatureDoesNotMatch".into(), 403));
    let e = aws_sdk_ec2::Client::new(&forged).describe_instances().send().await.unwrap_err();
    assert_eq!(code(&e), "SignatureDoesNotMatch");
    let e = aws_sdk_drs::Client::new(&forged).describe_source_servers().send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("InvalidSignatureException".into(), 403));

    let stranger = config_with(&sim, Credentials::new("AKIAUNKNOWN000000000", "whatever", None, None, "stranger"), EAST);
    let e = aws_sdk_sts::Client::new(&stranger).get_caller_identity().send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("InvalidClientTokenId".into(), 403));
    let e = aws_sdk_ec2::Client::new(&stranger).describe_instances().send().await.unwrap_err();
    assert_eq!(code(&e), "AuthFailure");
    let e = aws_sdk_drs::Client::new(&stranger).describe_source_servers().send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("UnrecognizedClientException".into(), 403));

    // Assumed-role credentials without their session token are not recognized either.
    let sts = aws_sdk_sts::Client::new(&hub(&sim, EAST));
    let out =
        sts.assume_role().role_arn(target_arn(A1)).role_session_name("s1").external_id(external_id(A1)).send().await.unwrap();
    let c = out.credentials().unwrap();
    let tokenless = config_with(&sim, Credentials::new(c.access_key_id(), c.secret_access_key(), None, None, "t"), EAST);
    let e = aws_sdk_sts::Client::new(&tokenless).get_caller_identity().send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidClientTokenId");
}

#[tokio::test]
async fn unsigned_requests_are_refused() {
    let sim = demo().await;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let (status, _, body) = unsigned(&sim, "POST", "/", &form, "Action=GetCallerIdentity&Version=2011-06-15").await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>MissingAuthenticationToken</Code>"), "{body}");

    let json = [("content-type", "application/json")];
    let (status, kind, _) = unsigned(&sim, "POST", "/DescribeSourceServers", &json, "{}").await;
    assert_eq!((status, kind.as_str()), (403, "MissingAuthenticationTokenException"));

    let target = [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "AWSStepFunctions.SendTaskHeartbeat")];
    let (status, _, body) = unsigned(&sim, "POST", "/", &target, r#"{"taskToken":"x"}"#).await;
    assert_eq!(status, 403);
    assert!(body.contains("MissingAuthenticationToken"), "{body}");

    let calls = sim.control.calls().await.unwrap();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c["status"] == 403 && c["role"] == ""), "{calls:?}");
}

#[tokio::test]
async fn denied_actions_refuse_only_those_actions() {
    let mut fleet = drs_sim::Fleet::demo();
    let hub_arn = format!("arn:aws:iam::{HUB_ACCOUNT}:role/{HUB_ROLE}");
    add_role(&mut fleet, A1, "read-only", &hub_arn, Some("ro-ext"), &["drs:StartRecovery", "ec2:Create*"]);
    fleet.clock.speed = 0.0;
    let sim = start(fleet).await;
    let sts = aws_sdk_sts::Client::new(&hub(&sim, EAST));
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{A1}:role/read-only"))
        .role_session_name("ro")
        .external_id("ro-ext")
        .send()
        .await
        .unwrap();
    let cfg = config_with(&sim, creds_of(out.credentials().unwrap()), EAST);

    let drs = aws_sdk_drs::Client::new(&cfg);
    let servers = drs.describe_source_servers().send().await.unwrap();
    let id = servers.items()[0].source_server_id().unwrap().to_owned();
    let err = drs
        .start_recovery()
        .source_servers(aws_sdk_drs::types::StartRecoveryRequestSourceServer::builder().source_server_id(&id).build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&err), status(&err)), ("AccessDeniedException".into(), 403));
    assert!(format!("{err:?}").contains("drs:StartRecovery"));

    let ec2 = aws_sdk_ec2::Client::new(&config_with(&sim, creds_of(out.credentials().unwrap()), WEST));
    let instances = ec2.describe_instances().send().await.unwrap();
    let iid = instances.reservations()[0].instances()[0].instance_id().unwrap().to_owned();
    let err = ec2
        .create_tags()
        .resources(&iid)
        .tags(aws_sdk_ec2::types::Tag::builder().key("k").value("v").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&err), status(&err)), ("UnauthorizedOperation".into(), 403));

    // Nothing was started: the denied call never reached DRS.
    let jobs = drs.describe_jobs().send().await.unwrap();
    assert!(jobs.items().is_empty());
    let calls = sim.control.calls().await.unwrap();
    let denied: Vec<_> = calls.iter().filter(|c| c["status"] == 403).collect();
    assert_eq!(denied.len(), 2);
    assert!(denied.iter().all(|c| c["role"] == format!("arn:aws:iam::{A1}:role/read-only")));
}

/// Changes a request after the SDK signed it, as a party between the client and AWS would.
#[derive(Debug)]
struct Tamper(fn(&mut aws_smithy_runtime_api::http::Request));

impl aws_smithy_runtime_api::client::interceptors::Intercept for Tamper {
    fn name(&self) -> &'static str {
        "tamper"
    }

    fn modify_before_transmit(
        &self,
        ctx: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        (self.0)(ctx.request_mut());
        Ok(())
    }
}

/// A signed request whose body, payload hash or credential scope changed in transit is
/// refused before anything is served, each with AWS's reason.
#[tokio::test]
async fn requests_changed_after_signing_are_refused() {
    use sha2::Digest;
    let sim = demo().await;
    let cfg = target(&sim, A1, EAST).await;
    let drs_with = |t: Tamper| aws_sdk_drs::Client::from_conf(aws_sdk_drs::config::Builder::from(&cfg).interceptor(t).build());

    // A body swapped, with the hash header of the body that was signed.
    let swap = Tamper(|req| {
        let signed = req.body().bytes().unwrap_or_default().to_vec();
        req.headers_mut().insert("x-amz-content-sha256", hex::encode(sha2::Sha256::digest(&signed)));
        *req.body_mut() = aws_smithy_types::body::SdkBody::from(r#"{"maxResults":1000}"#);
        req.headers_mut().insert("content-length", "19");
    });
    let e = drs_with(swap).describe_source_servers().max_results(1).send().await.unwrap_err();
    assert_eq!((code(&e), status(&e)), ("InvalidSignatureException".into(), 403));
    assert!(format!("{e:?}").contains("x-amz-content-sha256"), "{e:?}");

    // The scope names another service than the request speaks (an EC2 call scoped to STS).
    let rescope = Tamper(|req| {
        let auth = req.headers().get("authorization").unwrap_or_default().replacen("/ec2/aws4_request", "/sts/aws4_request", 1);
        req.headers_mut().insert("authorization", auth);
    });
    let ec2 = aws_sdk_ec2::Client::from_conf(aws_sdk_ec2::config::Builder::from(&cfg).interceptor(rescope).build());
    let e = ec2.describe_instances().send().await.unwrap_err();
    assert_eq!(code(&e), "SignatureDoesNotMatch");
    assert!(format!("{e:?}").contains("Credential should be scoped to correct service: 'ec2'"), "{e:?}");

    // Nothing was served: every call was refused with 4xx before its operation ran.
    let calls = sim.control.calls().await.unwrap();
    let tampered: Vec<_> = calls.iter().filter(|c| c["operation"] != "AssumeRole").collect();
    assert_eq!(tampered.len(), 2, "{calls:?}");
    assert!(tampered.iter().all(|c| c["status"] == 403), "{tampered:?}");
}

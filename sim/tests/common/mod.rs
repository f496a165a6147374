//! Shared by the simulator's tests: start a fleet, and SDK configurations pointed at it.
#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use drs_sim::client::Control;
use drs_sim::generate::{self, Spec};
use drs_sim::{Fleet, SimServer};

pub struct Sim {
    pub server: SimServer,
    pub control: Control,
}

impl Sim {
    pub fn endpoint(&self) -> &str {
        &self.server.endpoint
    }
}

pub async fn start(fleet: Fleet) -> Sim {
    let server = drs_sim::start(fleet, 0).await.expect("the simulator starts");
    let control = Control::new(&server.endpoint);
    Sim { server, control }
}

/// The demo fleet with its clock frozen, so tests move time explicitly.
pub async fn demo() -> Sim {
    let mut fleet = Fleet::demo();
    fleet.clock.speed = 0.0;
    start(fleet).await
}

/// The demo fleet with its clock frozen at `at`: for tests whose snapshots or schedules
/// must not depend on the wall clock.
pub async fn demo_at(at: chrono::DateTime<chrono::Utc>) -> Sim {
    let mut fleet = Fleet::demo();
    fleet.clock.speed = 0.0;
    fleet.clock.start = Some(at);
    start(fleet).await
}

pub async fn generated(servers: usize, accounts: usize, regions: usize) -> Sim {
    let mut fleet = generate::fleet(&Spec { servers, accounts, regions }).unwrap();
    fleet.clock.speed = 0.0;
    start(fleet).await
}

pub fn config_with(sim: &Sim, creds: Credentials, region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(sim.endpoint())
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
        .build()
}

/// The hub's own long-term identity.
pub fn hub(sim: &Sim, region: &str) -> SdkConfig {
    let h = &sim.server.world.hub;
    config_with(sim, Credentials::new(&h.access_key_id, &h.secret_access_key, None, None, "hub"), region)
}

/// Assumes the target role of `account` with its ExternalId; returns a config acting there.
pub async fn target(sim: &Sim, account: &str, region: &str) -> SdkConfig {
    let sts = aws_sdk_sts::Client::new(&hub(sim, region));
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{}", generate::TARGET_ROLE))
        .role_session_name("sim-test")
        .external_id(generate::external_id(account))
        .send()
        .await
        .expect("assume the target role");
    let c = out.credentials().expect("credentials");
    let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), None, "assumed");
    config_with(sim, creds, region)
}

pub const A1: &str = "200000000001";
pub const A2: &str = "200000000002";
pub const EAST: &str = "us-east-1";
pub const WEST: &str = "us-west-2";

pub async fn drs(sim: &Sim, account: &str, region: &str) -> aws_sdk_drs::Client {
    aws_sdk_drs::Client::new(&target(sim, account, region).await)
}

/// The error code of an SDK error (`ThrottlingException`, `AccessDenied`, ...).
pub fn code<E, R>(e: &aws_sdk_drs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_drs::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_drs::error::SdkError::ServiceError(s) => s.err().code().unwrap_or("<none>").to_owned(),
        other => format!("<not a service error: {other:?}>"),
    }
}

/// The HTTP status of a service error (0 when there was no response).
pub fn status<E>(e: &aws_sdk_drs::error::SdkError<E, aws_sdk_drs::config::http::HttpResponse>) -> u16 {
    e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)
}

/// Static credentials as the SDK would get them from STS.
pub fn creds_of(c: &aws_sdk_sts::types::Credentials) -> Credentials {
    Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), None, "assumed")
}

/// Adds a role to `fleet` in `account` that the hub may assume with `external_id`.
pub fn add_role(fleet: &mut Fleet, account: &str, name: &str, trusted: &str, external_id: Option<&str>, denied: &[&str]) {
    fleet.roles.push(drs_sim::fleet::Role {
        account_id: account.to_owned(),
        role_name: name.to_owned(),
        trusted_principals: vec![trusted.to_owned()],
        external_id: external_id.map(str::to_owned),
        allowed_actions: vec!["*".into()],
        denied_actions: denied.iter().map(|s| s.to_string()).collect(),
        statements: vec![],
        trust: vec![],
        max_session_seconds: 3600,
    });
}

/// The call log as one JSON text (for "never appears in full" checks).
pub async fn call_log_text(sim: &Sim) -> String {
    serde_json::Value::Array(sim.control.calls().await.unwrap()).to_string()
}

/// Sends an unsigned request to the simulator: (status, x-amzn-errortype, body).
pub async fn unsigned(sim: &Sim, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let mut req = http::Request::builder().method(method).uri(format!("{}{path}", sim.endpoint()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(http_body_util::Full::new(bytes::Bytes::from(body.to_owned()))).unwrap();
    let res = client.request(req).await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, kind, String::from_utf8_lossy(&body).into_owned())
}

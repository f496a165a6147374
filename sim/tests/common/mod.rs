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

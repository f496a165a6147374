//! drs-sim: a local AWS endpoint that speaks the real wire protocols of DRS (restJson1),
//! STS (awsQuery), EC2 (ec2Query), Step Functions and DynamoDB (awsJson1_0), SSM and Secrets
//! Manager (awsJson1_1) for many simulated accounts and regions, so that the official AWS SDK
//! clients run unchanged against it.

pub mod calls;
pub mod client;
pub mod clock;
pub mod control;
pub mod ctx;
pub mod drs;
pub mod dynamodb;
pub mod ec2;
pub mod faults;
pub mod fleet;
pub mod generate;
pub mod iam;
pub mod identity;
pub mod ids;
pub mod protocol;
pub mod s3;
pub mod secrets;
pub mod server;
pub mod sfn;
pub mod sigv4;
pub mod sts;
pub mod world;

pub use fleet::Fleet;
pub use server::SimServer;
pub use world::World;

/// Starts a simulator for `fleet` on 127.0.0.1:`port` (0: any free port).
pub async fn start(fleet: Fleet, port: u16) -> std::io::Result<SimServer> {
    SimServer::start(World::new(fleet), port).await
}

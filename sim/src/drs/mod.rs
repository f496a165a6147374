//! DRS (restJson1): every operation is `POST /<Operation>` with a JSON body, except the
//! tag operations on `/tags/{resourceArn}`.

pub mod config;
pub mod config_shape;
pub mod input;
pub mod instances;
pub mod jobs;
pub mod model;
pub mod page;
pub mod partition;
pub mod placement;
pub mod plans;
pub mod progress;
pub mod servers;
pub mod snapshots;
pub mod staging;
pub mod tags;

use crate::ctx::{Ctx, Request};
use crate::protocol::{ApiError, Reply};

pub fn handle(ctx: &Ctx, op: &str, req: &Request) -> Result<Reply, ApiError> {
    let body = input::body(&req.body)?;
    if let Some(answer) = plans::handle(ctx, op, &body) {
        return answer;
    }
    match op {
        "DescribeSourceServers" => servers::describe(ctx, &body),
        "StartRecovery" => jobs::start_recovery(ctx, &body),
        "DescribeJobs" => jobs::describe(ctx, &body),
        "DescribeJobLogItems" => jobs::log_items(ctx, &body),
        "TerminateRecoveryInstances" => jobs::terminate(ctx, &body),
        "DescribeRecoveryInstances" => instances::describe(ctx, &body),
        "DescribeRecoverySnapshots" => snapshots::describe(ctx, &body),
        "DisconnectRecoveryInstance" => instances::disconnect(ctx, &body),
        "ReverseReplication" => instances::reverse_replication(ctx, &body),
        "GetLaunchConfiguration" => config::get(ctx, &body, config::Kind::Launch),
        "UpdateLaunchConfiguration" => config::update(ctx, &body, config::Kind::Launch),
        "GetReplicationConfiguration" => config::get(ctx, &body, config::Kind::Replication),
        "UpdateReplicationConfiguration" => config::update(ctx, &body, config::Kind::Replication),
        "TagResource" | "UntagResource" | "ListTagsForResource" => tags::handle(ctx, op, req, &body),
        "ListStagingAccounts" => staging::list_staging_accounts(ctx, req),
        "ListExtensibleSourceServers" => staging::list_extensible(ctx, &body),
        "CreateExtendedSourceServer" => staging::create_extended(ctx, &body),
        other => Err(ApiError::new(
            404,
            "UnknownOperationException",
            format!("operation {other} (the path /{other}) is not simulated"),
        )),
    }
}

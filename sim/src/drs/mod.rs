//! DRS (restJson1): every operation is `POST /<Operation>` with a JSON body, except the
//! tag operations on `/tags/{resourceArn}`.

pub mod config;
pub mod input;
pub mod instances;
pub mod jobs;
pub mod model;
pub mod progress;
pub mod servers;
pub mod tags;

use crate::protocol::{ApiError, Reply};
use crate::server::{Ctx, Request};
use crate::world::Partition;
use serde_json::Value;

pub fn handle(ctx: &Ctx, op: &str, req: &Request) -> Result<Reply, ApiError> {
    let body = input::body(&req.body)?;
    match op {
        "DescribeSourceServers" => servers::describe(ctx, &body),
        "StartRecovery" => jobs::start_recovery(ctx, &body),
        "DescribeJobs" => jobs::describe(ctx, &body),
        "DescribeJobLogItems" => jobs::log_items(ctx, &body),
        "TerminateRecoveryInstances" => jobs::terminate(ctx, &body),
        "DescribeRecoveryInstances" => instances::describe(ctx, &body),
        "DisconnectRecoveryInstance" => instances::disconnect(ctx, &body),
        "ReverseReplication" => instances::reverse_replication(ctx, &body),
        "GetLaunchConfiguration" => config::get(ctx, &body, config::Kind::Launch),
        "UpdateLaunchConfiguration" => config::update(ctx, &body, config::Kind::Launch),
        "GetReplicationConfiguration" => config::get(ctx, &body, config::Kind::Replication),
        "UpdateReplicationConfiguration" => config::update(ctx, &body, config::Kind::Replication),
        "TagResource" | "UntagResource" | "ListTagsForResource" => tags::handle(ctx, op, req, &body),
        other => Err(ApiError::new(404, "UnknownOperationException", format!("operation {other} is not simulated"))),
    }
}

/// Runs `f` on the caller's partition after bringing its jobs up to the simulator's clock.
pub fn with_partition<T>(ctx: &Ctx, f: impl FnOnce(&mut Partition) -> Result<T, ApiError>) -> Result<T, ApiError> {
    let part = ctx.world.partition(ctx.account(), &ctx.region);
    let mut p = part.lock();
    if !p.drs_initialized {
        return Err(ApiError::new(
            400,
            "UninitializedAccountException",
            format!("Account {} is not initialized for Elastic Disaster Recovery in {}", ctx.account(), ctx.region),
        ));
    }
    progress::advance(&mut p, ctx.now());
    f(&mut p)
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<S> {
    items: Vec<S>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The reply `{"items": [...], "nextToken": ...}` for one page of `all`, rendering only
/// that page, straight to bytes.
pub fn page<T, S: serde::Serialize>(all: &[T], body: &Value, render: impl Fn(&T) -> S) -> Result<Reply, ApiError> {
    let (start, size) = input::page_window(body, all.len())?;
    let end = (start + size).min(all.len());
    let page = Page {
        items: all[start..end].iter().map(render).collect(),
        next_token: (end < all.len()).then(|| input::token_for(end)),
    };
    let bytes = serde_json::to_vec(&page).map_err(|e| ApiError::new(500, "InternalServerException", e.to_string()))?;
    Ok(crate::protocol::bytes_reply(200, bytes))
}

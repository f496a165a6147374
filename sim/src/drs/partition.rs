//! The caller's DRS partition, brought up to the simulator's clock before an operation
//! reads or changes it: its jobs, then its recovery plans' executions.

use super::progress;
use crate::ctx::Ctx;
use crate::protocol::ApiError;
use crate::world::Partition;

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
    let now = ctx.now();
    progress::advance(&mut p, now);
    super::plans::progress::advance(&mut p, &ctx.world.quotas.read(), now);
    f(&mut p)
}

//! The caller's EC2 partition, with its DRS jobs brought up to the simulator's clock first
//! (a launch makes EC2 instances).

use crate::ctx::Ctx;
use crate::protocol::ApiError;
use crate::world::Partition;

/// Runs `f` on the caller's partition after bringing its jobs up to the simulator's clock.
pub fn with_partition<T>(ctx: &Ctx, f: impl FnOnce(&mut Partition) -> Result<T, ApiError>) -> Result<T, ApiError> {
    let part = ctx.world.partition(ctx.account(), &ctx.region);
    let mut p = part.lock();
    crate::drs::progress::advance(&mut p, ctx.now());
    f(&mut p)
}

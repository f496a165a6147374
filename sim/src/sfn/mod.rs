//! Step Functions (awsJson1_0): SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat
//! (`tasks.rs`) against a registry of task tokens (`registry.rs`) that tests mint through
//! `/_sim/tokens`, and the executions of approval gates (StartExecution, DescribeExecution,
//! StopExecution in `executions.rs`), each waiting on a task token of the same registry.

pub mod execution;
pub mod executions;
pub mod input;
pub mod registry;
pub mod tasks;

use crate::ctx::Ctx;
use crate::protocol::{ApiError, Reply};
use serde_json::Value;

pub fn handle(ctx: &Ctx, op: &str, body: &[u8]) -> Result<Reply, ApiError> {
    if let Some(deep) = crate::protocol::depth::past(body, crate::protocol::depth::STATES) {
        let (depth, within, limit) = (deep.depth, deep.within(), crate::protocol::depth::STATES);
        return Err(ApiError::new(
            400,
            "SerializationException",
            format!(
                "the request body nests {depth} levels deep or more{within}; no Step Functions request nests more than {limit}"
            ),
        ));
    }
    let input: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, "SerializationException", format!("the request body is not JSON: {e}")))?;
    match op {
        "StartExecution" | "DescribeExecution" | "StopExecution" => return executions::handle(ctx, op, &input),
        "SendTaskSuccess" | "SendTaskFailure" | "SendTaskHeartbeat" => {}
        other => {
            return Err(ApiError::new(
                400,
                "UnknownOperationException",
                format!("X-Amz-Target: operation {other} is not served by this endpoint"),
            ))
        }
    }
    tasks::handle(ctx, op, &input)
}

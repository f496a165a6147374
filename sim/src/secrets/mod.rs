//! SSM Parameter Store (GetParameter) and Secrets Manager (GetSecretValue), both awsJson1_1:
//! where the hub reads its module configuration when it is not inline. The values are seeded
//! through the control endpoint (`POST /_sim/parameters`, `POST /_sim/secrets`) and kept per
//! account and region; the call log holds the requests only, never the values answered.

pub mod control;
pub mod secretsmanager;
pub mod ssm;
pub mod store;

use crate::ctx::Ctx;
use crate::protocol::{ApiError, Reply};
use serde_json::Value;

/// The `X-Amz-Target` prefixes of the two services.
pub const SSM_TARGET: &str = "AmazonSSM.";
pub const SECRETS_MANAGER_TARGET: &str = "secretsmanager.";

pub fn handle(ctx: &Ctx, service: &str, op: &str, body: &[u8]) -> Result<Reply, ApiError> {
    if let Some(deep) = crate::protocol::depth::past(body, crate::protocol::depth::SECRETS) {
        let (depth, within, limit) = (deep.depth, deep.within(), crate::protocol::depth::SECRETS);
        return Err(ApiError::new(
            400,
            "SerializationException",
            format!(
                "the request body nests {depth} levels deep or more{within}; no Secrets Manager request nests more than {limit}"
            ),
        ));
    }
    let input: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, "SerializationException", format!("the request body is not JSON: {e}")))?;
    match (service, op) {
        ("ssm", "GetParameter") => ssm::get_parameter(ctx, &input),
        ("secretsmanager", "GetSecretValue") => secretsmanager::get_secret_value(ctx, &input),
        _ => Err(ApiError::new(
            400,
            "UnknownOperationException",
            format!("X-Amz-Target: operation {op} is not served by this endpoint"),
        )),
    }
}

/// A required string member of a request, or the service's validation error naming it.
fn required<'a>(input: &'a Value, member: &str) -> Result<&'a str, ApiError> {
    input[member].as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::new(
            400,
            "ValidationException",
            format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must not be null"),
        )
    })
}

//! Secrets Manager GetSecretValue: the current version of a secret by name or ARN.

use super::required;
use crate::ctx::Ctx;
use crate::protocol::{json_reply, ApiError, Reply};
use serde_json::{json, Value};

pub fn get_secret_value(ctx: &Ctx, input: &Value) -> Result<Reply, ApiError> {
    let id = required(input, "SecretId")?;
    let s = ctx.world.secrets.secret(ctx.account(), &ctx.region, id).ok_or_else(|| {
        // Secrets Manager's error shapes spell the member `Message`.
        let message = "Secrets Manager can't find the specified secret.";
        ApiError::new(400, "ResourceNotFoundException", message).with("Message", message)
    })?;
    Ok(json_reply(
        200,
        &json!({
            "ARN": s.arn,
            "Name": s.name,
            "VersionId": s.version_id,
            "SecretString": s.value,
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": s.created.timestamp_millis() as f64 / 1000.0,
        }),
    ))
}

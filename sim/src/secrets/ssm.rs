//! SSM GetParameter: a parameter by name (or ARN); a SecureString read without
//! `WithDecryption` answers its ciphertext, as SSM does.

use super::required;
use crate::ctx::Ctx;
use crate::protocol::{json_reply, ApiError, Reply};
use crate::secrets::store::ParameterType;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn get_parameter(ctx: &Ctx, input: &Value) -> Result<Reply, ApiError> {
    let given = required(input, "Name")?;
    let prefix = format!("arn:aws:ssm:{}:{}:parameter", ctx.region, ctx.account());
    let name = given.strip_prefix(&prefix).unwrap_or(given);
    let decrypt = input["WithDecryption"].as_bool().unwrap_or(false);
    let p = ctx
        .world
        .secrets
        .parameter(ctx.account(), &ctx.region, name)
        .ok_or_else(|| ApiError::new(400, "ParameterNotFound", format!("Parameter {name} not found.")))?;
    let value = if p.kind == ParameterType::SecureString && !decrypt { ciphertext(&p.value) } else { p.value.clone() };
    let arn = format!("{prefix}{}{}", if p.name.starts_with('/') { "" } else { "/" }, p.name);
    Ok(json_reply(
        200,
        &json!({"Parameter": {
            "Name": p.name,
            "Type": p.kind.as_str(),
            "Value": value,
            "Version": p.version,
            "LastModifiedDate": p.modified.timestamp_millis() as f64 / 1000.0,
            "ARN": arn,
            "DataType": "text",
        }}),
    ))
}

/// Stands in for KMS ciphertext: opaque, stable, and nothing of the value.
fn ciphertext(value: &str) -> String {
    format!("AQICAH{}", hex::encode(Sha256::digest(value.as_bytes())))
}

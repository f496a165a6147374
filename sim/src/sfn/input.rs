//! Reading Step Functions input as the service model bounds it: required and optional
//! strings, names, `error` and `cause`, and state machine and execution ARNs of the caller.

use crate::ctx::Ctx;
use crate::protocol::ApiError;
use serde_json::Value;

/// Execution input and output are at most 256 KiB (SensitiveData in the model).
pub const MAX_DATA: usize = 262_144;
/// ARNs are at most 256 characters (Arn in the model).
pub const MAX_ARN: usize = 256;

/// A name of a state machine, alias or execution: 1 to 80 characters, none of them white
/// space, brackets, wildcards, the listed specials or control characters.
pub fn valid_name(name: &str) -> bool {
    let bad = |c: char| {
        c.is_whitespace()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || matches!(c as u32, 0x00..=0x1F | 0x7F..=0x9F | 0xFFFE..=0xFFFF)
    };
    (1..=80).contains(&name.chars().count()) && !name.chars().any(bad)
}

/// The field is named: a caller sending several ARNs learns which one is wrong.
pub fn invalid_arn(field: &str, arn: &str) -> ApiError {
    ApiError::new(400, "InvalidArn", format!("Invalid Arn at '{field}': '{arn}'"))
}

pub fn required(input: &Value, field: &str) -> Result<String, ApiError> {
    match input.get(field) {
        None | Some(Value::Null) => Err(ApiError::new(
            400,
            "ValidationException",
            format!("1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"),
        )
        .with("reason", "MISSING_REQUIRED_PARAMETER")),
        Some(Value::String(s)) => {
            if s.is_empty() || s.chars().count() > MAX_ARN {
                return Err(too_long(field, MAX_ARN).with("reason", "fieldValidationFailed"));
            }
            Ok(s.clone())
        }
        Some(_) => Err(ApiError::new(400, "SerializationException", format!("'{field}' must be a string"))),
    }
}

pub fn too_long(field: &str, max: usize) -> ApiError {
    ApiError::new(
        400,
        "ValidationException",
        format!("1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"),
    )
}

pub fn optional_str<'a>(input: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::new(400, "SerializationException", format!("'{field}' must be a string"))),
    }
}

/// `error` (SensitiveError, at most 256) and `cause` (SensitiveCause, at most 32,768).
pub fn check_error_and_cause(input: &Value) -> Result<(), ApiError> {
    for (field, max) in [("error", 256), ("cause", 32768)] {
        if input.get(field).and_then(Value::as_str).is_some_and(|v| v.chars().count() > max) {
            return Err(too_long(field, max));
        }
    }
    Ok(())
}

/// The parts of an ARN `arn:<partition>:states:<region>:<account>:<kind>:<rest...>`.
pub struct Arn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub rest: Vec<&'a str>,
}

pub fn parse_arn<'a>(arn: &'a str, kind: &str) -> Option<Arn<'a>> {
    let parts: Vec<&str> = arn.split(':').collect();
    let [prefix, partition, service, region, account, k, rest @ ..] = parts.as_slice() else { return None };
    let region_ok = !region.is_empty() && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ok = *prefix == "arn"
        && partition.starts_with("aws")
        && *service == "states"
        && region_ok
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && *k == kind;
    ok.then(|| Arn { partition, region, account, rest: rest.to_vec() })
}

/// Checks that an ARN's region and account are the caller's.
pub fn ours(ctx: &Ctx, field: &str, a: &Arn, arn: &str, missing: ApiError) -> Result<(), ApiError> {
    if a.region != ctx.region {
        return Err(ApiError::new(
            400,
            "InvalidArn",
            format!("Invalid Arn at '{field}': 'Region {} does not match the region of the request: {arn}'", a.region),
        ));
    }
    if a.account != ctx.account() {
        return Err(missing);
    }
    Ok(())
}

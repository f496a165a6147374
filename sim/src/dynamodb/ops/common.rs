//! What every item operation reads the same way: the table a request names (by name or ARN)
//! in the caller's account and region, ReturnValues and ReturnValuesOnConditionCheckFailure,
//! and the JSON an answer is written as.

use crate::ctx::Ctx;
use crate::dynamodb::error::DdbError;
use crate::dynamodb::tables::Address;
use serde::Serialize;

/// The table a request names, in the caller's account and region. An ARN is accepted for
/// a name, as DynamoDB accepts it; one of another account or region names no table here.
pub fn address(ctx: &Ctx, table_name: Option<&str>, member: &str) -> Result<Address, DdbError> {
    let given = table_name.ok_or_else(|| DdbError::missing(member))?;
    let name = match given.strip_prefix("arn:aws:dynamodb:") {
        Some(rest) => {
            let expected = format!("{}:{}:table/", ctx.region, ctx.account());
            rest.strip_prefix(&expected).ok_or_else(|| DdbError::table_not_found(given))?
        }
        None => given,
    };
    check_name(name, member)?;
    Ok(Address::new(ctx.account(), &ctx.region, name))
}

/// 3 to 255 characters of `[a-zA-Z0-9_.-]`.
pub fn check_name(name: &str, member: &str) -> Result<(), DdbError> {
    let refuse = |constraint: &str| {
        Err(DdbError::Validation(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: {constraint}"
        )))
    };
    if name.len() < 3 {
        return refuse("Member must have length greater than or equal to 3");
    }
    if name.len() > 255 {
        return refuse("Member must have length less than or equal to 255");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return refuse("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
    Ok(())
}

/// ReturnValues: what a write answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnValues {
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

impl ReturnValues {
    pub fn parse(text: Option<&str>) -> Result<ReturnValues, DdbError> {
        Ok(match text.unwrap_or("NONE") {
            "NONE" => ReturnValues::None,
            "ALL_OLD" => ReturnValues::AllOld,
            "UPDATED_OLD" => ReturnValues::UpdatedOld,
            "ALL_NEW" => ReturnValues::AllNew,
            "UPDATED_NEW" => ReturnValues::UpdatedNew,
            other => {
                return Err(DdbError::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'returnValues' failed to satisfy constraint: \
                     Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
                )))
            }
        })
    }

    /// PutItem and DeleteItem answer NONE or ALL_OLD only.
    pub fn parse_old_only(text: Option<&str>) -> Result<ReturnValues, DdbError> {
        match ReturnValues::parse(text)? {
            r @ (ReturnValues::None | ReturnValues::AllOld) => Ok(r),
            _ => Err(DdbError::Validation(format!(
                "Return values set to invalid value; ReturnValues: {}",
                text.unwrap_or_default()
            ))),
        }
    }
}

/// ReturnValuesOnConditionCheckFailure: true for ALL_OLD (the failure carries the item).
pub fn old_on_failure(text: Option<&str>) -> Result<bool, DdbError> {
    match text.unwrap_or("NONE") {
        "NONE" => Ok(false),
        "ALL_OLD" => Ok(true),
        other => Err(DdbError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: \
             Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

pub fn to_json<T: Serialize>(output: &T) -> serde_json::Value {
    serde_json::to_value(output).unwrap_or_default()
}

//! TransactWriteItems: up to 100 puts, updates, deletes and condition checks on distinct
//! items, of at most 4 MB between them (items, keys and expression values, measured as
//! DynamoDB measures items), all applied or none. Every action is judged before any is committed; when one
//! would not apply, TransactionCanceledException lists a reason per action in request order
//! (`None` for those that would have). A ClientRequestToken seen in the last 10 minutes
//! with the same request answers success again without applying anything (the SDKs send
//! one on every call, so a retry after a lost reply does not apply the transaction twice).

use super::common::address;
use super::write::{Outcome, Write};
use crate::ctx::Ctx;
use crate::dynamodb::error::{CancellationReason, DdbError};
use crate::dynamodb::input::{required, TransactWriteItem, TransactWriteItemsInput};
use crate::dynamodb::tables::Registry;
use std::collections::HashSet;

const MAX_ACTIONS: usize = 100;
/// The most a transaction may carry: 4 MB (1 MB = 1024 x 1024 bytes).
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// `request` is the body as it arrived: with a client token, its items are what the token is
/// compared by (read as JSON only then).
pub fn transact_write_items(ctx: &Ctx, input: TransactWriteItemsInput, request: &[u8]) -> Result<serde_json::Value, DdbError> {
    let entries = required(input.transact_items, "transactItems")?;
    check_count(entries.len())?;
    let mut registry = ctx.world.tables.lock();
    let fingerprint = match &input.client_request_token {
        Some(_) => serde_json::from_slice::<serde_json::Value>(request)
            .map_err(|e| DdbError::Serialization(format!("the request body is not JSON: {e}")))?["TransactItems"]
            .take(),
        None => serde_json::Value::Null,
    };
    if let Some(token) = &input.client_request_token {
        if registry.seen_token(ctx.account(), token, &fingerprint, ctx.now())? {
            return Ok(serde_json::json!({}));
        }
    }
    let writes = entries.into_iter().map(|entry| prepare(ctx, &registry, entry)).collect::<Result<Vec<_>, _>>()?;
    let mut targets = HashSet::new();
    if !writes.iter().all(|w| targets.insert((w.table, w.key.clone()))) {
        return Err(DdbError::Validation("Transaction request cannot include multiple operations on one item".into()));
    }
    let bytes: usize = writes.iter().map(|w| w.bytes).sum();
    if bytes > MAX_TRANSACTION_BYTES {
        return Err(DdbError::Validation(format!(
            "Transaction request size has exceeded the maximum allowed size of 4 MB; transaction size: {bytes}"
        )));
    }
    let judged: Vec<Result<Outcome, DdbError>> = writes.iter().map(|w| judge(&registry, w)).collect();
    if judged.iter().any(Result::is_err) {
        let reasons =
            judged.into_iter().map(|j| j.map_or_else(CancellationReason::from_error, |_| CancellationReason::none())).collect();
        return Err(DdbError::TransactionCanceled { reasons });
    }
    for (write, outcome) in writes.iter().zip(judged.into_iter().flatten()) {
        if let Some(table) = registry.by_id_mut(write.table) {
            write.commit(table, &outcome);
        }
    }
    if let Some(token) = &input.client_request_token {
        registry.remember_token(ctx.account(), token, fingerprint, ctx.now());
    }
    Ok(serde_json::json!({}))
}

fn check_count(count: usize) -> Result<(), DdbError> {
    let constraint = match count {
        0 => "Member must have length greater than or equal to 1",
        n if n > MAX_ACTIONS => "Member must have length less than or equal to 100",
        _ => return Ok(()),
    };
    Err(DdbError::Validation(format!(
        "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: {constraint}"
    )))
}

/// One action, read and checked like the single-item operation it stands for.
fn prepare(ctx: &Ctx, registry: &Registry, entry: TransactWriteItem) -> Result<Write, DdbError> {
    let one_of = |n: usize| {
        if n == 1 {
            Ok(())
        } else {
            Err(DdbError::Validation("TransactItems can only contain one of Check, Put, Update or Delete".into()))
        }
    };
    let TransactWriteItem { condition_check, put, delete, update } = entry;
    one_of([condition_check.is_some(), put.is_some(), delete.is_some(), update.is_some()].iter().filter(|x| **x).count())?;
    if let Some(put) = put {
        let at = address(ctx, put.table_name.as_deref(), "put.tableName")?;
        return Write::put(registry, &at, put);
    }
    if let Some(update) = update {
        let at = address(ctx, update.table_name.as_deref(), "update.tableName")?;
        return Write::update(registry, &at, update);
    }
    if let Some(delete) = delete {
        let at = address(ctx, delete.table_name.as_deref(), "delete.tableName")?;
        return Write::delete(registry, &at, delete, false);
    }
    let check = required(condition_check, "conditionCheck")?;
    let at = address(ctx, check.table_name.as_deref(), "conditionCheck.tableName")?;
    Write::delete(registry, &at, check, true)
}

fn judge(registry: &Registry, write: &Write) -> Result<Outcome, DdbError> {
    let table = registry.by_id(write.table).ok_or_else(|| DdbError::ResourceNotFound("Requested resource not found".into()))?;
    write.judge(table)
}

//! PutItem, GetItem, UpdateItem and DeleteItem: one item by its key, a condition judged
//! against the item stored now, and ReturnValues as each operation allows them.

use super::common::{address, to_json, ReturnValues};
use super::write::{Outcome, Write};
use crate::ctx::Ctx;
use crate::dynamodb::error::DdbError;
use crate::dynamodb::expr::parser::parse_projection;
use crate::dynamodb::expr::{ExpressionKind, Substitutions};
use crate::dynamodb::input::{required, DeleteInput, GetInput, PutInput, UpdateInput};
use crate::dynamodb::projection::project;
use crate::dynamodb::tables::Registry;
use crate::dynamodb::value::{item_from_wire, Item};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WriteOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    attributes: Option<Item>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<Item>,
}

/// Judges and commits one write under the registry's lock.
fn judge_and_commit(registry: &mut Registry, write: &Write) -> Result<Outcome, DdbError> {
    let table =
        registry.by_id_mut(write.table).ok_or_else(|| DdbError::ResourceNotFound("Requested resource not found".into()))?;
    let outcome = write.judge(table)?;
    write.commit(table, &outcome);
    Ok(outcome)
}

pub fn put_item(ctx: &Ctx, input: PutInput) -> Result<serde_json::Value, DdbError> {
    let returns = ReturnValues::parse_old_only(input.return_values.as_deref())?;
    let address = address(ctx, input.table_name.as_deref(), "tableName")?;
    let mut registry = ctx.world.tables.lock();
    let write = Write::put(&registry, &address, input)?;
    let outcome = judge_and_commit(&mut registry, &write)?;
    let attributes = if returns == ReturnValues::AllOld { outcome.old } else { None };
    Ok(to_json(&WriteOutput { attributes }))
}

pub fn delete_item(ctx: &Ctx, input: DeleteInput) -> Result<serde_json::Value, DdbError> {
    let returns = ReturnValues::parse_old_only(input.return_values.as_deref())?;
    let address = address(ctx, input.table_name.as_deref(), "tableName")?;
    let mut registry = ctx.world.tables.lock();
    let write = Write::delete(&registry, &address, input, false)?;
    let outcome = judge_and_commit(&mut registry, &write)?;
    let attributes = if returns == ReturnValues::AllOld { outcome.old } else { None };
    Ok(to_json(&WriteOutput { attributes }))
}

pub fn update_item(ctx: &Ctx, input: UpdateInput) -> Result<serde_json::Value, DdbError> {
    let returns = ReturnValues::parse(input.return_values.as_deref())?;
    let address = address(ctx, input.table_name.as_deref(), "tableName")?;
    let mut registry = ctx.world.tables.lock();
    let write = Write::update(&registry, &address, input)?;
    let Outcome { old, new } = judge_and_commit(&mut registry, &write)?;
    let updated = |item: Option<Item>| item.map(|i| project(&i, &write.updated_paths())).filter(|i| !i.is_empty());
    let attributes = match returns {
        ReturnValues::None => None,
        ReturnValues::AllOld => old,
        ReturnValues::AllNew => new,
        ReturnValues::UpdatedOld => updated(old),
        ReturnValues::UpdatedNew => updated(new),
    };
    Ok(to_json(&WriteOutput { attributes }))
}

pub fn get_item(ctx: &Ctx, input: GetInput) -> Result<serde_json::Value, DdbError> {
    input.legacy().refuse()?;
    let address = address(ctx, input.table_name.as_deref(), "tableName")?;
    let projection_text = input.projection_expression.as_deref();
    let mut subs = Substitutions::new(input.expression_attribute_names, None, projection_text.is_some())?;
    let projection =
        projection_text.map(|p| parse_projection(p, &mut subs).map_err(|e| e.within(ExpressionKind::Projection))).transpose()?;
    subs.check_all_used()?;
    let registry = ctx.world.tables.lock();
    let table = registry.table(&address)?;
    let key = table.schema.key_of(&item_from_wire(required(input.key, "key")?)?)?;
    let item = table.get(&key).map(|item| match &projection {
        Some(paths) => project(item, paths),
        None => item.clone(),
    });
    Ok(to_json(&GetOutput { item }))
}

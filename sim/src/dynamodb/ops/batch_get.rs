//! BatchGetItem: up to 100 keys over one or more tables, each table with its own
//! projection. Every key is served at once (UnprocessedKeys is always empty: the simulator
//! has no capacity to run out of); items that do not exist are simply absent.

use super::common::{address, to_json};
use crate::ctx::Ctx;
use crate::dynamodb::error::DdbError;
use crate::dynamodb::expr::parser::parse_projection;
use crate::dynamodb::expr::{ExpressionKind, Substitutions};
use crate::dynamodb::input::{required, BatchGetItemInput, KeysAndAttributes};
use crate::dynamodb::projection::project;
use crate::dynamodb::tables::Registry;
use crate::dynamodb::value::{item_from_wire, Item};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

const MAX_KEYS: usize = 100;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BatchGetOutput {
    responses: BTreeMap<String, Vec<Item>>,
    unprocessed_keys: BTreeMap<String, serde_json::Value>,
}

pub fn batch_get_item(ctx: &Ctx, input: BatchGetItemInput) -> Result<serde_json::Value, DdbError> {
    let requests = required(input.request_items, "requestItems")?;
    if requests.is_empty() {
        return Err(DdbError::Validation(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
        ));
    }
    let total: usize = requests.values().map(|r| r.keys.as_ref().map_or(0, Vec::len)).sum();
    if total > MAX_KEYS {
        return Err(DdbError::Validation(format!(
            "Too many items requested for the BatchGetItem call; RequestItems: {total} keys, at most {MAX_KEYS}"
        )));
    }
    let registry = ctx.world.tables.lock();
    let mut responses = BTreeMap::new();
    for (name, request) in requests {
        let items = table_items(ctx, &registry, &name, request)?;
        responses.insert(name, items);
    }
    Ok(to_json(&BatchGetOutput { responses, unprocessed_keys: BTreeMap::new() }))
}

fn table_items(ctx: &Ctx, registry: &Registry, name: &str, request: KeysAndAttributes) -> Result<Vec<Item>, DdbError> {
    request.legacy().refuse()?;
    let address = address(ctx, Some(name), "requestItems")?;
    let table = registry.table(&address)?;
    let projection_text = request.projection_expression.as_deref();
    let mut subs = Substitutions::new(request.expression_attribute_names, None, projection_text.is_some())?;
    let projection =
        projection_text.map(|p| parse_projection(p, &mut subs).map_err(|e| e.within(ExpressionKind::Projection))).transpose()?;
    subs.check_all_used()?;
    let keys = required(request.keys, "keys")?;
    if keys.is_empty() {
        return Err(DdbError::Validation(
            "1 validation error detected: Value at 'requestItems.keys' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
        ));
    }
    let mut seen = HashSet::new();
    let mut items = vec![];
    for wire in keys {
        let key = table.schema.key_of(&item_from_wire(wire)?)?;
        if !seen.insert(key.clone()) {
            return Err(DdbError::Validation("Provided list of item keys contains duplicates".into()));
        }
        if let Some(item) = table.get(&key) {
            items.push(projection.as_ref().map_or_else(|| item.clone(), |paths| project(item, paths)));
        }
    }
    Ok(items)
}

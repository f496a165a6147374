//! Query: the items of one partition in sort key order (or reversed), from after
//! ExclusiveStartKey, matching the sort key condition; a page ends after `Limit` items read
//! or before the item that would take it past 1 MB, and then names its LastEvaluatedKey.
//! FilterExpression drops items after they are read (they count in ScannedCount, not Count).

use super::common::{address, to_json};
use super::key_condition::{self, KeyCondition};
use crate::ctx::Ctx;
use crate::dynamodb::document::Path;
use crate::dynamodb::error::DdbError;
use crate::dynamodb::expr::ast::Condition;
use crate::dynamodb::expr::eval::holds;
use crate::dynamodb::expr::parser::{parse_condition, parse_projection};
use crate::dynamodb::expr::{ExpressionKind, Substitutions};
use crate::dynamodb::input::QueryInput;
use crate::dynamodb::key::{KeyValue, PrimaryKey};
use crate::dynamodb::projection::project;
use crate::dynamodb::size::{item_size, MAX_PAGE_BYTES};
use crate::dynamodb::table::Table;
use crate::dynamodb::value::{item_from_wire, Item};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct QueryOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Vec<Item>>,
    count: usize,
    scanned_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_evaluated_key: Option<Item>,
}

/// What a Query asked for, read and checked.
struct Plan {
    key: KeyCondition,
    filter: Option<Condition>,
    projection: Option<Vec<Path>>,
    count_only: bool,
    forward: bool,
    limit: Option<usize>,
    start: Option<PrimaryKey>,
}

pub fn query(ctx: &Ctx, input: QueryInput) -> Result<serde_json::Value, DdbError> {
    let address = address(ctx, input.table_name.as_deref(), "tableName")?;
    let registry = ctx.world.tables.lock();
    let table = registry.table(&address)?;
    let plan = plan(table, input)?;
    Ok(to_json(&run(table, &plan)))
}

fn plan(table: &Table, input: QueryInput) -> Result<Plan, DdbError> {
    input.legacy().refuse()?;
    if let Some(index) = &input.index_name {
        return Err(DdbError::Validation(format!("The table does not have the specified index: {index}")));
    }
    let limit = match input.limit {
        Some(n) if n < 1 => {
            return Err(DdbError::Validation(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )))
        }
        n => n.map(|n| n as usize),
    };
    let count_only = select_count(input.select.as_deref(), input.projection_expression.is_some())?;
    let key_text = input.key_condition_expression.as_deref().ok_or_else(|| {
        DdbError::Validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.".into(),
        )
    })?;
    let mut subs = Substitutions::new(input.expression_attribute_names, input.expression_attribute_values, true)?;
    let key_condition = parse_condition(key_text, &mut subs).map_err(|e| e.within(ExpressionKind::KeyCondition))?;
    let filter = input
        .filter_expression
        .as_deref()
        .map(|f| parse_condition(f, &mut subs).map_err(|e| e.within(ExpressionKind::Filter)))
        .transpose()?;
    let projection = input
        .projection_expression
        .as_deref()
        .map(|p| parse_projection(p, &mut subs).map_err(|e| e.within(ExpressionKind::Projection)))
        .transpose()?;
    subs.check_all_used()?;
    let key = key_condition::read(key_condition, &table.schema)?;
    let start = input.exclusive_start_key.map(|k| start_key(table, &key, k)).transpose()?;
    Ok(Plan { key, filter, projection, count_only, forward: input.scan_index_forward.unwrap_or(true), limit, start })
}

/// Select: true for COUNT; the item-returning choices must agree with ProjectionExpression.
fn select_count(select: Option<&str>, projection: bool) -> Result<bool, DdbError> {
    let refuse = |m: &str| Err(DdbError::Validation(m.into()));
    match select {
        None => Ok(false),
        Some("ALL_ATTRIBUTES") if projection => {
            refuse("Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES")
        }
        Some("COUNT") if projection => refuse("Cannot specify the ProjectionExpression when choosing to get only the COUNT"),
        Some("SPECIFIC_ATTRIBUTES") if !projection => {
            refuse("Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression or AttributesToGet")
        }
        Some("ALL_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES") => Ok(false),
        Some("COUNT") => Ok(true),
        Some("ALL_PROJECTED_ATTRIBUTES") => refuse("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
        Some(other) => Err(DdbError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: \
             Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        ))),
    }
}

/// ExclusiveStartKey: the table's whole key, in the partition queried.
fn start_key(table: &Table, condition: &KeyCondition, wire: crate::dynamodb::value::WireItem) -> Result<PrimaryKey, DdbError> {
    let key = table
        .schema
        .key_of(&item_from_wire(wire)?)
        .map_err(|e| DdbError::Validation(format!("The provided starting key is invalid: {e}")))?;
    if key.partition != condition.partition {
        return Err(DdbError::Validation(
            "The provided starting key is outside query boundaries based on provided conditions".into(),
        ));
    }
    Ok(key)
}

/// Whether an item lies past the start key in the direction read.
fn past_start(plan: &Plan, sort: &Option<KeyValue>) -> bool {
    match &plan.start {
        None => true,
        Some(start) if plan.forward => *sort > start.sort,
        Some(start) => *sort < start.sort,
    }
}

fn run(table: &Table, plan: &Plan) -> QueryOutput {
    let partition: Vec<_> = table.partition(&plan.key.partition).collect();
    let ordered: Box<dyn Iterator<Item = _>> =
        if plan.forward { Box::new(partition.into_iter()) } else { Box::new(partition.into_iter().rev()) };
    let in_range = ordered.filter(|(sort, _)| {
        past_start(plan, sort) && plan.key.sort.as_ref().is_none_or(|c| sort.as_ref().is_some_and(|s| c.matches(s)))
    });
    let (mut items, mut count, mut scanned, mut bytes, mut last) = (vec![], 0, 0, 0, None);
    let mut more = false;
    for (sort, item) in in_range {
        let size = item_size(item);
        if scanned > 0 && bytes + size > MAX_PAGE_BYTES {
            more = true;
            break;
        }
        bytes += size;
        scanned += 1;
        last = Some(PrimaryKey { partition: plan.key.partition.clone(), sort: sort.clone() });
        if plan.filter.as_ref().is_none_or(|f| holds(f, Some(item))) {
            count += 1;
            if !plan.count_only {
                items.push(plan.projection.as_ref().map_or_else(|| item.clone(), |paths| project(item, paths)));
            }
        }
        if plan.limit == Some(scanned) {
            more = true;
            break;
        }
    }
    QueryOutput {
        items: (!plan.count_only).then_some(items),
        count,
        scanned_count: scanned,
        last_evaluated_key: last.filter(|_| more).map(|k| table.schema.key_item(&k)),
    }
}

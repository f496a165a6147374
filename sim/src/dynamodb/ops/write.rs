//! One write (a put, an update, a delete or a transaction's condition check) in three steps,
//! shared by the item operations and TransactWriteItems: `prepare` reads and checks the
//! request against the table's schema (expressions parsed, every placeholder used), `judge`
//! decides it against the item stored now without changing anything, `commit` stores the
//! outcome. A transaction judges every write before it commits any.

use super::common::old_on_failure;
use crate::dynamodb::error::DdbError;
use crate::dynamodb::expr::ast::{Condition, UpdateAction};
use crate::dynamodb::expr::eval::holds;
use crate::dynamodb::expr::parser::parse_condition;
use crate::dynamodb::expr::update::parse_update;
use crate::dynamodb::expr::{ExpressionKind, Substitutions};
use crate::dynamodb::input::{required, DeleteInput, PutInput, UpdateInput};
use crate::dynamodb::key::PrimaryKey;
use crate::dynamodb::size::{item_size, MAX_ITEM_BYTES};
use crate::dynamodb::table::Table;
use crate::dynamodb::tables::{Address, Registry, TableId};
use crate::dynamodb::update;
use crate::dynamodb::value::{item_from_wire, Item};

#[derive(Debug)]
pub enum Action {
    Put(Item),
    Update(Vec<UpdateAction>),
    Delete,
    Check,
}

#[derive(Debug)]
pub struct Write {
    pub table: TableId,
    pub key: PrimaryKey,
    pub action: Action,
    condition: Option<Condition>,
    old_on_failure: bool,
    /// What the request carries for this write (its item or key, and its expression values),
    /// measured as DynamoDB measures items: what a transaction's 4 MB counts.
    pub bytes: usize,
}

/// The item before and after a write that may apply (`new` None: the item is gone).
#[derive(Debug)]
pub struct Outcome {
    pub old: Option<Item>,
    pub new: Option<Item>,
}

fn parse_condition_of(expression: Option<&str>, subs: &mut Substitutions) -> Result<Option<Condition>, DdbError> {
    expression.map(|c| parse_condition(c, subs).map_err(|e| e.within(ExpressionKind::Condition))).transpose()
}

fn too_large() -> DdbError {
    DdbError::Validation("Item size has exceeded the maximum allowed size".into())
}

impl Write {
    pub fn put(registry: &Registry, address: &Address, input: PutInput) -> Result<Write, DdbError> {
        input.legacy().refuse()?;
        let id = registry.id(address)?;
        let table = registry.table(address)?;
        let item = item_from_wire(required(input.item, "item")?)?;
        let key = table.schema.key_of_item(&item)?;
        if item_size(&item) > MAX_ITEM_BYTES {
            return Err(too_large());
        }
        let condition_text = input.condition_expression.as_deref();
        let mut subs =
            Substitutions::new(input.expression_attribute_names, input.expression_attribute_values, condition_text.is_some())?;
        let condition = parse_condition_of(condition_text, &mut subs)?;
        subs.check_all_used()?;
        let old_on_failure = old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
        let bytes = item_size(&item) + subs.values_size();
        Ok(Write { table: id, key, action: Action::Put(item), condition, old_on_failure, bytes })
    }

    pub fn update(registry: &Registry, address: &Address, input: UpdateInput) -> Result<Write, DdbError> {
        input.legacy().refuse()?;
        let id = registry.id(address)?;
        let table = registry.table(address)?;
        let key = table.schema.key_of(&item_from_wire(required(input.key, "key")?)?)?;
        let (update_text, condition_text) = (input.update_expression.as_deref(), input.condition_expression.as_deref());
        let mut subs = Substitutions::new(
            input.expression_attribute_names,
            input.expression_attribute_values,
            update_text.is_some() || condition_text.is_some(),
        )?;
        let actions = match update_text {
            Some(text) => parse_update(text, &mut subs).map_err(|e| e.within(ExpressionKind::Update))?,
            None => vec![],
        };
        if let Some(key_attribute) = actions.iter().map(|a| a.path().top()).find(|top| table.schema.is_key(top)) {
            return Err(DdbError::Validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {key_attribute}. This attribute is part of the key"
            )));
        }
        let condition = parse_condition_of(condition_text, &mut subs)?;
        subs.check_all_used()?;
        let old_on_failure = old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
        let bytes = item_size(&table.schema.key_item(&key)) + subs.values_size();
        Ok(Write { table: id, key, action: Action::Update(actions), condition, old_on_failure, bytes })
    }

    /// A DeleteItem, or (`check`) a transaction's ConditionCheck, whose condition is required.
    pub fn delete(registry: &Registry, address: &Address, input: DeleteInput, check: bool) -> Result<Write, DdbError> {
        input.legacy().refuse()?;
        let id = registry.id(address)?;
        let table = registry.table(address)?;
        let key = table.schema.key_of(&item_from_wire(required(input.key, "key")?)?)?;
        let condition_text = input.condition_expression.as_deref();
        if check && condition_text.is_none() {
            return Err(DdbError::missing("conditionCheck.conditionExpression"));
        }
        let mut subs =
            Substitutions::new(input.expression_attribute_names, input.expression_attribute_values, condition_text.is_some())?;
        let condition = parse_condition_of(condition_text, &mut subs)?;
        subs.check_all_used()?;
        let old_on_failure = old_on_failure(input.return_values_on_condition_check_failure.as_deref())?;
        let action = if check { Action::Check } else { Action::Delete };
        let bytes = item_size(&table.schema.key_item(&key)) + subs.values_size();
        Ok(Write { table: id, key, action, condition, old_on_failure, bytes })
    }

    /// Decides the write against the item stored now; changes nothing.
    pub fn judge(&self, table: &Table) -> Result<Outcome, DdbError> {
        let old = table.get(&self.key);
        if let Some(condition) = &self.condition {
            if !holds(condition, old) {
                let item = old.filter(|_| self.old_on_failure).cloned();
                return Err(DdbError::ConditionalCheckFailed { item });
            }
        }
        let new = match &self.action {
            Action::Put(item) => Some(item.clone()),
            Action::Update(actions) => {
                let item = update::apply(actions, old, table.schema.key_item(&self.key))?;
                if item_size(&item) > MAX_ITEM_BYTES {
                    return Err(DdbError::Validation("Item size to update has exceeded the maximum allowed size".into()));
                }
                Some(item)
            }
            Action::Delete => None,
            Action::Check => old.cloned(),
        };
        Ok(Outcome { old: old.cloned(), new })
    }

    /// Stores what `judge` decided.
    pub fn commit(&self, table: &mut Table, outcome: &Outcome) {
        match (&self.action, &outcome.new) {
            (Action::Check, _) => {}
            (_, Some(item)) => {
                table.put(self.key.clone(), item.clone());
            }
            (_, None) => {
                table.delete(&self.key);
            }
        }
    }

    /// The paths an update action touched (for ReturnValues UPDATED_OLD and UPDATED_NEW).
    pub fn updated_paths(&self) -> Vec<crate::dynamodb::document::Path> {
        match &self.action {
            Action::Update(actions) => actions.iter().map(|a| a.path().clone()).collect(),
            _ => vec![],
        }
    }
}

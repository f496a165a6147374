//! Applies an UpdateExpression's actions to an item. Every SET value is computed from the item
//! as it was before the update (`SET a = :x, b = a` gives `b` the old `a`), then SET, REMOVE
//! (highest list index first, so indexes name the old positions), ADD and DELETE apply.

use super::document::{self, Path};
use super::error::DdbError;
use super::expr::ast::{SetOperand, SetValue, UpdateAction};
use super::value::{Item, Value};

fn wrong_type() -> DdbError {
    DdbError::Validation("An operand in the update expression has an incorrect data type".into())
}

fn number_error(e: super::number::NumberError) -> DdbError {
    DdbError::Validation(e.to_string())
}

/// DynamoDB's refusal of an action, naming the action's path (which DynamoDB's message does
/// not) unless it already does.
fn at(path: &Path) -> impl Fn(DdbError) -> DdbError + '_ {
    move |e| match e {
        DdbError::Validation(m) if !m.contains("; document path: ") => {
            DdbError::Validation(format!("{m}; document path: [{path}]"))
        }
        other => other,
    }
}

/// The item after `actions`, starting from `old` (or, for an item not there, its key).
pub fn apply(actions: &[UpdateAction], old: Option<&Item>, key: Item) -> Result<Item, DdbError> {
    let original = old.cloned().unwrap_or(key);
    let mut sets = vec![];
    for action in actions {
        if let UpdateAction::Set(path, value) = action {
            sets.push((path, evaluate(value, &original).map_err(at(path))?));
        }
    }
    let mut item = original.clone();
    for (path, value) in sets {
        document::set(&mut item, path, value)?;
    }
    let mut removals: Vec<&Path> =
        actions.iter().filter_map(|a| if let UpdateAction::Remove(p) = a { Some(p) } else { None }).collect();
    removals.sort_by(|a, b| b.cmp(a));
    for path in removals {
        document::remove(&mut item, path)?;
    }
    for action in actions {
        match action {
            UpdateAction::Add(path, value) => add(&mut item, path, value).map_err(at(path))?,
            UpdateAction::Delete(path, value) => delete(&mut item, path, value).map_err(at(path))?,
            UpdateAction::Set(..) | UpdateAction::Remove(_) => {}
        }
    }
    Ok(item)
}

fn evaluate(value: &SetValue, item: &Item) -> Result<Value, DdbError> {
    match value {
        SetValue::Operand(operand) => operand_value(operand, item),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            let (Value::N(x), Value::N(y)) = (operand_value(a, item)?, operand_value(b, item)?) else { return Err(wrong_type()) };
            let result = if matches!(value, SetValue::Plus(..)) { x.add(&y) } else { x.sub(&y) };
            Ok(Value::N(result.map_err(number_error)?))
        }
    }
}

fn operand_value(operand: &SetOperand, item: &Item) -> Result<Value, DdbError> {
    match operand {
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::Path(path) => document::get(item, path).cloned().ok_or_else(|| {
            DdbError::Validation(format!(
                "The provided expression refers to an attribute that does not exist in the item; document path: [{path}]"
            ))
        }),
        SetOperand::IfNotExists(path, fallback) => match document::get(item, path) {
            Some(v) => Ok(v.clone()),
            None => operand_value(fallback, item),
        },
        SetOperand::ListAppend(a, b) => match (operand_value(a, item)?, operand_value(b, item)?) {
            (Value::L(mut x), Value::L(y)) => {
                x.extend(y);
                Ok(Value::L(x))
            }
            _ => Err(wrong_type()),
        },
    }
}

/// ADD: a number is added (to 0 when absent); a set's members join the set (or make it).
fn add(item: &mut Item, path: &Path, value: &Value) -> Result<(), DdbError> {
    let sum = match (document::get(item, path), value) {
        (None, v) => v.clone(),
        (Some(Value::N(x)), Value::N(y)) => Value::N(x.add(y).map_err(number_error)?),
        (Some(Value::Ss(x)), Value::Ss(y)) => Value::Ss(x.union(y).cloned().collect()),
        (Some(Value::Ns(x)), Value::Ns(y)) => Value::Ns(x.union(y).cloned().collect()),
        (Some(Value::Bs(x)), Value::Bs(y)) => Value::Bs(x.union(y).cloned().collect()),
        _ => return Err(wrong_type()),
    };
    document::set(item, path, sum)
}

/// DELETE: a set's members leave the set; a set left empty is removed (sets are never empty).
fn delete(item: &mut Item, path: &Path, value: &Value) -> Result<(), DdbError> {
    let rest = match (document::get(item, path), value) {
        (None, _) => return Ok(()),
        (Some(Value::Ss(x)), Value::Ss(y)) => Value::Ss(x.difference(y).cloned().collect()),
        (Some(Value::Ns(x)), Value::Ns(y)) => Value::Ns(x.difference(y).cloned().collect()),
        (Some(Value::Bs(x)), Value::Bs(y)) => Value::Bs(x.difference(y).cloned().collect()),
        _ => return Err(wrong_type()),
    };
    let empty = matches!(&rest, Value::Ss(s) if s.is_empty())
        || matches!(&rest, Value::Ns(s) if s.is_empty())
        || matches!(&rest, Value::Bs(s) if s.is_empty());
    if empty {
        document::remove(item, path)
    } else {
        document::set(item, path, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::expr::update::parse_update;
    use crate::dynamodb::expr::Substitutions;
    use crate::dynamodb::value::item_from_wire;
    use serde_json::json;

    fn run(expression: &str, item: serde_json::Value) -> Result<serde_json::Value, DdbError> {
        let values = serde_json::from_value(json!({
            ":one": {"N": "1"}, ":l": {"L": [{"S": "z"}]}, ":ss": {"SS": ["b", "c"]}, ":v": {"S": "v"}
        }))
        .unwrap();
        let mut subs = Substitutions::new(None, Some(values), true).unwrap();
        let actions = parse_update(expression, &mut subs).unwrap();
        let item = item_from_wire(serde_json::from_value(item).unwrap()).unwrap();
        Ok(serde_json::to_value(apply(&actions, Some(&item), Item::new())?).unwrap())
    }

    #[test]
    fn values_come_from_the_item_before_the_update() {
        let out = run("SET a = :one, b = a", json!({"a": {"N": "5"}})).unwrap();
        assert_eq!(out, json!({"a": {"N": "1"}, "b": {"N": "5"}}));
    }

    #[test]
    fn add_delete_list_append_if_not_exists() {
        let out = run(
            "ADD n :one, s :ss DELETE t :ss SET l = list_append(if_not_exists(l, :l), :l), c = if_not_exists(c, :one) + :one",
            json!({"n": {"N": "9"}, "s": {"SS": ["a"]}, "t": {"SS": ["b"]}}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"n": {"N": "10"}, "s": {"SS": ["a", "b", "c"]}, "l": {"L": [{"S": "z"}, {"S": "z"}]}, "c": {"N": "2"}})
        );
    }

    #[test]
    fn removes_list_elements_by_their_old_index() {
        let out = run("REMOVE l[0], l[2]", json!({"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]}})).unwrap();
        assert_eq!(out, json!({"l": {"L": [{"N": "1"}, {"N": "3"}]}}));
    }

    #[test]
    fn refusals() {
        let missing = run("SET a = b + :one", json!({})).unwrap_err().to_string();
        assert!(missing.contains("refers to an attribute that does not exist"), "{missing}");
        let typed = run("ADD a :one", json!({"a": {"S": "x"}})).unwrap_err().to_string();
        assert!(typed.contains("incorrect data type"), "{typed}");
        let nested = run("SET w.x = :v", json!({})).unwrap_err().to_string();
        assert!(nested.contains("invalid for update"), "{nested}");
    }
}

//! A KeyConditionExpression read against the table's key schema: `pk = :v`, optionally AND
//! one condition on the sort key (`=`, `<`, `<=`, `>`, `>=`, BETWEEN or begins_with), and
//! nothing else, refused in DynamoDB's words.

use crate::dynamodb::error::DdbError;
use crate::dynamodb::expr::ast::{Comparator, Condition, Operand};
use crate::dynamodb::key::{KeySchema, KeyValue};
use crate::dynamodb::value::Value;

const MEMBER: &str = "KeyConditionExpression";

#[derive(Debug, Clone, PartialEq)]
pub enum SortCondition {
    Compare(Comparator, KeyValue),
    Between(KeyValue, KeyValue),
    BeginsWith(KeyValue),
}

impl SortCondition {
    pub fn matches(&self, sort: &KeyValue) -> bool {
        match self {
            SortCondition::Compare(c, v) => match c {
                Comparator::Eq => sort == v,
                Comparator::Lt => sort < v,
                Comparator::Le => sort <= v,
                Comparator::Gt => sort > v,
                Comparator::Ge => sort >= v,
                Comparator::Ne => false,
            },
            SortCondition::Between(lo, hi) => lo <= sort && sort <= hi,
            SortCondition::BeginsWith(prefix) => match (sort, prefix) {
                (KeyValue::S(s), KeyValue::S(p)) => s.starts_with(p.as_str()),
                (KeyValue::B(b), KeyValue::B(p)) => b.starts_with(p),
                _ => false,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub partition: KeyValue,
    pub sort: Option<SortCondition>,
}

fn operator(name: &str) -> DdbError {
    DdbError::invalid(MEMBER, format!("Invalid operator used in KeyConditionExpression: {name}"))
}

fn unsupported() -> DdbError {
    DdbError::Validation("Query key condition not supported".into())
}

/// The conditions joined by AND; anything else joining them is refused.
fn leaves(condition: Condition, out: &mut Vec<Condition>) -> Result<(), DdbError> {
    match condition {
        Condition::And(a, b) => {
            leaves(*a, out)?;
            leaves(*b, out)
        }
        Condition::Or(..) => Err(operator("OR")),
        Condition::Not(_) => Err(operator("NOT")),
        Condition::In(..) => Err(operator("IN")),
        Condition::Exists(_) => Err(operator("attribute_exists")),
        Condition::NotExists(_) => Err(operator("attribute_not_exists")),
        Condition::HasType(..) => Err(operator("attribute_type")),
        Condition::Contains(..) => Err(operator("contains")),
        Condition::Compare(_, Comparator::Ne, _) => Err(operator("<>")),
        leaf => {
            out.push(leaf);
            Ok(())
        }
    }
}

/// One condition on one key attribute, its values not yet checked against the schema.
enum Leaf {
    Compare(Comparator, Value),
    Between(Value, Value),
    BeginsWith(Value),
}

/// The top-level attribute a leaf constrains, and how.
fn leaf(condition: Condition) -> Result<(String, Leaf), DdbError> {
    let top = |operand: &Operand| match operand {
        Operand::Path(p) if p.steps.len() == 1 => Ok(p.top().to_owned()),
        Operand::Size(_) => Err(operator("size")),
        _ => Err(unsupported()),
    };
    match condition {
        Condition::Compare(subject, comparator, Operand::Value(v)) => Ok((top(&subject)?, Leaf::Compare(comparator, v))),
        Condition::Between { subject, lower: Operand::Value(lo), upper: Operand::Value(hi) } => {
            Ok((top(&subject)?, Leaf::Between(lo, hi)))
        }
        Condition::BeginsWith(path, Operand::Value(prefix)) => Ok((top(&Operand::Path(path))?, Leaf::BeginsWith(prefix))),
        _ => Err(unsupported()),
    }
}

fn one_per_key() -> DdbError {
    DdbError::Validation("KeyConditionExpressions must only contain one condition per key".into())
}

pub fn read(condition: Condition, schema: &KeySchema) -> Result<KeyCondition, DdbError> {
    let mut found = vec![];
    leaves(condition, &mut found)?;
    let (mut partition, mut sort) = (None, None);
    for condition in found {
        let (name, leaf) = leaf(condition)?;
        if name == schema.partition.name {
            let Leaf::Compare(Comparator::Eq, value) = leaf else { return Err(unsupported()) };
            if partition.replace(key_value(&value, schema.partition.kind)?).is_some() {
                return Err(one_per_key());
            }
            continue;
        }
        let Some(sort_key) = schema.sort.as_ref().filter(|s| s.name == name) else { return Err(unsupported()) };
        let kind = sort_key.kind;
        let condition = match leaf {
            Leaf::Compare(comparator, v) => SortCondition::Compare(comparator, key_value(&v, kind)?),
            Leaf::Between(lo, hi) => SortCondition::Between(key_value(&lo, kind)?, key_value(&hi, kind)?),
            Leaf::BeginsWith(prefix) => SortCondition::BeginsWith(key_value(&prefix, kind)?),
        };
        if sort.replace(condition).is_some() {
            return Err(one_per_key());
        }
    }
    let partition = partition
        .ok_or_else(|| DdbError::Validation(format!("Query condition missed key schema element: {}", schema.partition.name)))?;
    Ok(KeyCondition { partition, sort })
}

fn key_value(value: &Value, kind: crate::dynamodb::key::ScalarType) -> Result<KeyValue, DdbError> {
    KeyValue::from_value(value).filter(|k| k.kind() == kind).ok_or_else(|| {
        DdbError::Validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::expr::parser::parse_condition;
    use crate::dynamodb::expr::Substitutions;
    use crate::dynamodb::key::{KeyAttribute, ScalarType};
    use serde_json::json;

    fn read_text(text: &str) -> Result<KeyCondition, DdbError> {
        let schema = KeySchema {
            partition: KeyAttribute { name: "pk".into(), kind: ScalarType::S },
            sort: Some(KeyAttribute { name: "sk".into(), kind: ScalarType::S }),
        };
        let values =
            serde_json::from_value(json!({":p": {"S": "run"}, ":s": {"S": "a"}, ":t": {"S": "b"}, ":n": {"N": "1"}})).unwrap();
        let mut subs = Substitutions::new(None, Some(values), true).unwrap();
        read(parse_condition(text, &mut subs).unwrap(), &schema)
    }

    #[test]
    fn partition_and_one_sort_condition() {
        let c = read_text("pk = :p AND begins_with(sk, :s)").unwrap();
        assert_eq!(c.sort, Some(SortCondition::BeginsWith(KeyValue::S("a".into()))));
        assert!(c.sort.unwrap().matches(&KeyValue::S("abc".into())));
        let c = read_text("sk BETWEEN :s AND :t AND pk = :p").unwrap();
        assert!(c.sort.as_ref().unwrap().matches(&KeyValue::S("a1".into())));
        assert!(!c.sort.unwrap().matches(&KeyValue::S("c".into())));
    }

    #[test]
    fn refusals() {
        let message = |t| read_text(t).unwrap_err().to_string();
        assert_eq!(message("sk = :s"), "Query condition missed key schema element: pk");
        assert_eq!(
            message("pk = :p OR sk = :s"),
            "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR"
        );
        assert_eq!(message("pk = :p AND pk = :p"), "KeyConditionExpressions must only contain one condition per key");
        assert_eq!(message("pk > :p"), "Query key condition not supported");
        assert_eq!(message("pk = :p AND extra = :s"), "Query key condition not supported");
        assert!(message("pk = :n").contains("Condition parameter type does not match schema type"));
    }
}

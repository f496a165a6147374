//! Evaluates a condition against an item (or no item: a write to a key that holds none).
//! As DynamoDB does: an attribute that is not there makes comparisons false (and `<>` true),
//! values of different types are never equal or ordered, numbers compare as numbers,
//! strings and binaries by their bytes.

use super::ast::{Comparator, Condition, Operand};
use crate::dynamodb::document::{self, Path};
use crate::dynamodb::number::Number;
use crate::dynamodb::value::{Item, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

pub fn holds(condition: &Condition, item: Option<&Item>) -> bool {
    let get = |path: &Path| item.and_then(|i| document::get(i, path));
    match condition {
        Condition::Compare(left, comparator, right) => compare(resolve(left, item), *comparator, resolve(right, item)),
        Condition::Between { subject, lower, upper } => {
            let (v, lo, hi) = (resolve(subject, item), resolve(lower, item), resolve(upper, item));
            compare(v.clone(), Comparator::Ge, lo) && compare(v, Comparator::Le, hi)
        }
        Condition::In(subject, options) => {
            let v = resolve(subject, item);
            options.iter().any(|o| compare(v.clone(), Comparator::Eq, resolve(o, item)))
        }
        Condition::Exists(path) => get(path).is_some(),
        Condition::NotExists(path) => get(path).is_none(),
        Condition::HasType(path, Value::S(name)) => get(path).is_some_and(|v| v.kind().descriptor() == name),
        Condition::HasType(..) => false,
        Condition::BeginsWith(path, prefix) => match (get(path), resolve(prefix, item).as_deref()) {
            (Some(Value::S(s)), Some(Value::S(p))) => s.starts_with(p.as_str()),
            (Some(Value::B(b)), Some(Value::B(p))) => b.starts_with(p),
            _ => false,
        },
        Condition::Contains(path, operand) => get(path).zip(resolve(operand, item)).is_some_and(|(v, o)| contains(v, &o)),
        Condition::And(a, b) => holds(a, item) && holds(b, item),
        Condition::Or(a, b) => holds(a, item) || holds(b, item),
        Condition::Not(c) => !holds(c, item),
    }
}

/// An operand's value for this item; None when the attribute is not there.
fn resolve<'a>(operand: &'a Operand, item: Option<&'a Item>) -> Option<Cow<'a, Value>> {
    match operand {
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Path(p) => item.and_then(|i| document::get(i, p)).map(Cow::Borrowed),
        Operand::Size(p) => {
            let size = size_of(item.and_then(|i| document::get(i, p))?)?;
            Some(Cow::Owned(Value::N(Number::from_i64(size as i64))))
        }
    }
}

/// `size()`: characters of a string, bytes of a binary, members of a set, list or map.
fn size_of(value: &Value) -> Option<usize> {
    Some(match value {
        Value::S(s) => s.chars().count(),
        Value::B(b) => b.len(),
        Value::Ss(s) => s.len(),
        Value::Ns(s) => s.len(),
        Value::Bs(s) => s.len(),
        Value::L(l) => l.len(),
        Value::M(m) => m.len(),
        Value::N(_) | Value::Bool(_) | Value::Null => return None,
    })
}

fn compare(left: Option<Cow<Value>>, comparator: Comparator, right: Option<Cow<Value>>) -> bool {
    let (Some(l), Some(r)) = (left, right) else { return comparator == Comparator::Ne };
    match comparator {
        Comparator::Eq => l == r,
        Comparator::Ne => l != r,
        Comparator::Lt => scalar_cmp(&l, &r) == Some(Ordering::Less),
        Comparator::Le => matches!(scalar_cmp(&l, &r), Some(Ordering::Less | Ordering::Equal)),
        Comparator::Gt => scalar_cmp(&l, &r) == Some(Ordering::Greater),
        Comparator::Ge => matches!(scalar_cmp(&l, &r), Some(Ordering::Greater | Ordering::Equal)),
    }
}

/// The order of two values of the same scalar type (S, N, B); None for anything else.
pub fn scalar_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::S(x), Value::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::N(x), Value::N(y)) => Some(x.cmp(y)),
        (Value::B(x), Value::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn contains(haystack: &Value, needle: &Value) -> bool {
    match (haystack, needle) {
        (Value::S(s), Value::S(n)) => s.contains(n.as_str()),
        (Value::Ss(set), Value::S(n)) => set.contains(n),
        (Value::Ns(set), Value::N(n)) => set.contains(n),
        (Value::Bs(set), Value::B(n)) => set.contains(n),
        (Value::L(list), n) => list.contains(n),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamodb::expr::parser::parse_condition;
    use crate::dynamodb::expr::Substitutions;
    use crate::dynamodb::value::item_from_wire;
    use serde_json::json;

    fn check(condition: &str, item: serde_json::Value) -> bool {
        let values = serde_json::from_value(json!({
            ":ten": {"N": "10"}, ":nine": {"N": "9"}, ":p": {"S": "run#"}, ":s": {"S": "b"}, ":two": {"N": "2"},
            ":type": {"S": "SS"}, ":one": {"N": "1.0"}
        }))
        .unwrap();
        let mut subs = Substitutions::new(None, Some(values), true).unwrap();
        let c = parse_condition(condition, &mut subs).unwrap();
        let item = item_from_wire(serde_json::from_value(item).unwrap()).unwrap();
        holds(&c, Some(&item))
    }

    #[test]
    fn numbers_compare_as_numbers() {
        let item = json!({"n": {"N": "10"}, "t": {"S": "10"}});
        assert!(check("n > :nine", item.clone()), "10 > 9 as numbers");
        assert!(!check("t > :nine", item.clone()), "a string is never ordered against a number");
        assert!(check("n BETWEEN :nine AND :ten", item.clone()));
        assert!(check("n IN (:nine, :ten)", item.clone()));
        assert!(check("n <> :nine", item));
        assert!(check("n = :one", json!({"n": {"N": "1"}})), "1 = 1.0");
    }

    #[test]
    fn missing_attributes() {
        let item = json!({"a": {"S": "x"}});
        assert!(!check("absent = :ten", item.clone()));
        assert!(check("absent <> :ten", item.clone()));
        assert!(!check("absent < :ten", item.clone()));
        assert!(check("attribute_not_exists(absent) AND attribute_exists(a)", item));
    }

    #[test]
    fn functions() {
        let item = json!({
            "sk": {"S": "run#42"}, "tags": {"SS": ["a", "b"]}, "l": {"L": [{"N": "2"}]}, "m": {"M": {"x": {"L": [{"S": "b"}]}}}
        });
        assert!(check("begins_with(sk, :p)", item.clone()));
        assert!(check("contains(tags, :s) AND contains(l, :two) AND contains(m.x, :s)", item.clone()));
        assert!(check("attribute_type(tags, :type)", item.clone()));
        assert!(check("size(tags) = :two AND size(sk) > :two", item.clone()));
        assert!(check("m.x[0] = :s", item.clone()));
        assert!(!check("NOT (m.x[0] = :s)", item));
    }
}

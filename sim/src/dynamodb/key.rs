//! A table's primary key: its schema (a partition key and an optional sort key, each S, N or
//! B), key values ordered as DynamoDB orders them (strings and binaries by bytes, numbers as
//! numbers), and the checks a key or an item must pass, in DynamoDB's words.

use super::error::DdbError;
use super::number::Number;
use super::value::{Item, Value};
use serde::{Deserialize, Serialize};

/// The types a key attribute may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    pub fn descriptor(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }
}

/// One key attribute: its name and type (`{"name": "pk", "type": "S"}` in a fleet file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ScalarType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    pub partition: KeyAttribute,
    pub sort: Option<KeyAttribute>,
}

/// A key attribute's value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyValue {
    S(String),
    N(Number),
    B(Vec<u8>),
}

impl KeyValue {
    pub fn from_value(value: &Value) -> Option<KeyValue> {
        match value {
            Value::S(s) => Some(KeyValue::S(s.clone())),
            Value::N(n) => Some(KeyValue::N(n.clone())),
            Value::B(b) => Some(KeyValue::B(b.clone())),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            KeyValue::S(s) => Value::S(s.clone()),
            KeyValue::N(n) => Value::N(n.clone()),
            KeyValue::B(b) => Value::B(b.clone()),
        }
    }

    pub fn kind(&self) -> ScalarType {
        match self {
            KeyValue::S(_) => ScalarType::S,
            KeyValue::N(_) => ScalarType::N,
            KeyValue::B(_) => ScalarType::B,
        }
    }

    fn byte_len(&self) -> usize {
        match self {
            KeyValue::S(s) => s.len(),
            KeyValue::N(n) => super::size::number_size(n),
            KeyValue::B(b) => b.len(),
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, KeyValue::S(s) if s.is_empty()) || matches!(self, KeyValue::B(b) if b.is_empty())
    }
}

/// An item's address in its table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrimaryKey {
    pub partition: KeyValue,
    pub sort: Option<KeyValue>,
}

const PARTITION_KEY_MAX_BYTES: usize = 2048;
const SORT_KEY_MAX_BYTES: usize = 1024;

fn invalid(reason: impl std::fmt::Display) -> DdbError {
    DdbError::Validation(format!("One or more parameter values were invalid: {reason}"))
}

fn schema_mismatch() -> DdbError {
    DdbError::Validation("The provided key element does not match the schema".into())
}

impl KeySchema {
    pub fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.partition).chain(self.sort.as_ref())
    }

    pub fn is_key(&self, name: &str) -> bool {
        self.attributes().any(|a| a.name == name)
    }

    /// The key of a `Key` member (GetItem, UpdateItem, DeleteItem, ...): exactly the key
    /// attributes, each of its type.
    pub fn key_of(&self, key: &Item) -> Result<PrimaryKey, DdbError> {
        if key.len() != self.attributes().count() {
            return Err(schema_mismatch());
        }
        let read = |attribute: &KeyAttribute| -> Result<KeyValue, DdbError> {
            let value = key.get(&attribute.name).and_then(KeyValue::from_value).ok_or_else(schema_mismatch)?;
            if value.kind() != attribute.kind {
                return Err(schema_mismatch());
            }
            check_value(&attribute.name, &value)?;
            Ok(value)
        };
        let key = PrimaryKey { partition: read(&self.partition)?, sort: self.sort.as_ref().map(read).transpose()? };
        self.check_sizes(&key)?;
        Ok(key)
    }

    /// The key of an item to put: every key attribute present and of its type.
    pub fn key_of_item(&self, item: &Item) -> Result<PrimaryKey, DdbError> {
        let read = |attribute: &KeyAttribute| -> Result<KeyValue, DdbError> {
            let value =
                item.get(&attribute.name).ok_or_else(|| invalid(format!("Missing the key {} in the item", attribute.name)))?;
            let key = KeyValue::from_value(value).filter(|k| k.kind() == attribute.kind).ok_or_else(|| {
                invalid(format!(
                    "Type mismatch for key {} expected: {} actual: {}",
                    attribute.name,
                    attribute.kind.descriptor(),
                    value.kind().descriptor()
                ))
            })?;
            check_value(&attribute.name, &key)?;
            Ok(key)
        };
        let key = PrimaryKey { partition: read(&self.partition)?, sort: self.sort.as_ref().map(read).transpose()? };
        self.check_sizes(&key)?;
        Ok(key)
    }

    fn check_sizes(&self, key: &PrimaryKey) -> Result<(), DdbError> {
        if key.partition.byte_len() > PARTITION_KEY_MAX_BYTES {
            let name = &self.partition.name;
            return Err(invalid(format!(
                "Size of hashkey has exceeded the maximum size limit of2048 bytes; attribute: '{name}'"
            )));
        }
        if let (Some(attribute), Some(sort)) = (&self.sort, &key.sort) {
            if sort.byte_len() > SORT_KEY_MAX_BYTES {
                let name = &attribute.name;
                return Err(invalid(format!(
                    "Aggregated size of all range keys has exceeded the size limit of 1024 bytes; attribute: '{name}'"
                )));
            }
        }
        Ok(())
    }

    /// The key as the attributes of an item.
    pub fn key_item(&self, key: &PrimaryKey) -> Item {
        let mut item = Item::new();
        item.insert(self.partition.name.clone(), key.partition.to_value());
        if let (Some(attribute), Some(value)) = (&self.sort, &key.sort) {
            item.insert(attribute.name.clone(), value.to_value());
        }
        item
    }
}

fn check_value(name: &str, value: &KeyValue) -> Result<(), DdbError> {
    if value.is_empty() {
        let kind = if value.kind() == ScalarType::B { "binary" } else { "string" };
        return Err(DdbError::Validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> KeySchema {
        KeySchema {
            partition: KeyAttribute { name: "pk".into(), kind: ScalarType::S },
            sort: Some(KeyAttribute { name: "sk".into(), kind: ScalarType::N }),
        }
    }

    fn item(pairs: &[(&str, Value)]) -> Item {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn keys_must_match_the_schema() {
        let s = schema();
        let ok = item(&[("pk", Value::S("a".into())), ("sk", Value::N("1".parse().unwrap()))]);
        assert!(s.key_of(&ok).is_ok());
        let wrong_type = item(&[("pk", Value::S("a".into())), ("sk", Value::S("1".into()))]);
        assert!(s.key_of(&wrong_type).unwrap_err().to_string().contains("does not match the schema"));
        let extra = item(&[("pk", Value::S("a".into())), ("sk", Value::N("1".parse().unwrap())), ("x", Value::Null)]);
        assert!(s.key_of(&extra).is_err());
        let empty = item(&[("pk", Value::S("".into())), ("sk", Value::N("1".parse().unwrap()))]);
        assert!(s.key_of(&empty).unwrap_err().to_string().contains("empty string value. Key: pk"));
    }

    #[test]
    fn items_name_the_missing_or_mistyped_key() {
        let s = schema();
        let missing = item(&[("pk", Value::S("a".into()))]);
        assert!(s.key_of_item(&missing).unwrap_err().to_string().contains("Missing the key sk in the item"));
        let mistyped = item(&[("pk", Value::N("1".parse().unwrap())), ("sk", Value::N("1".parse().unwrap()))]);
        assert!(s.key_of_item(&mistyped).unwrap_err().to_string().contains("Type mismatch for key pk expected: S actual: N"));
    }

    #[test]
    fn numbers_order_as_numbers() {
        let n = |s: &str| KeyValue::N(s.parse().unwrap());
        assert!(n("9") < n("10"));
        assert!(KeyValue::S("10".into()) < KeyValue::S("9".into()));
    }
}

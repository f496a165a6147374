//! Attribute values as DynamoDB keeps them: typed (numbers as decimals, binaries as bytes,
//! sets without repeats), read from and written as the wire's AttributeValue
//! (`{"S": "x"}`, `{"N": "1"}`, `{"B": "<base64>"}`, `{"NULL": true}`, ...).

use super::number::Number;
use base64::Engine;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};

/// An item: attribute names to values.
pub type Item = BTreeMap<String, Value>;

/// DynamoDB's limit on nesting maps and lists in one another.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(BTreeMap<String, Value>),
    L(Vec<Value>),
    Ss(BTreeSet<String>),
    Ns(BTreeSet<Number>),
    Bs(BTreeSet<Vec<u8>>),
}

/// The type descriptors of the wire (`S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    S,
    N,
    B,
    Bool,
    Null,
    M,
    L,
    Ss,
    Ns,
    Bs,
}

impl Type {
    pub const ALL: [Type; 10] =
        [Type::B, Type::Null, Type::Ss, Type::Bool, Type::L, Type::Bs, Type::N, Type::Ns, Type::S, Type::M];

    pub fn descriptor(self) -> &'static str {
        match self {
            Type::S => "S",
            Type::N => "N",
            Type::B => "B",
            Type::Bool => "BOOL",
            Type::Null => "NULL",
            Type::M => "M",
            Type::L => "L",
            Type::Ss => "SS",
            Type::Ns => "NS",
            Type::Bs => "BS",
        }
    }

    pub fn from_descriptor(text: &str) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.descriptor() == text)
    }

    /// The spelling of UpdateExpression's operand type errors (`typeSet` messages).
    pub fn long_name(self) -> &'static str {
        match self {
            Type::S => "STRING",
            Type::N => "NUMBER",
            Type::B => "BINARY",
            Type::Bool => "BOOLEAN",
            Type::Null => "NULL",
            Type::M => "MAP",
            Type::L => "LIST",
            Type::Ss => "STRING_SET",
            Type::Ns => "NUMBER_SET",
            Type::Bs => "BINARY_SET",
        }
    }
}

impl Value {
    pub fn kind(&self) -> Type {
        match self {
            Value::S(_) => Type::S,
            Value::N(_) => Type::N,
            Value::B(_) => Type::B,
            Value::Bool(_) => Type::Bool,
            Value::Null => Type::Null,
            Value::M(_) => Type::M,
            Value::L(_) => Type::L,
            Value::Ss(_) => Type::Ss,
            Value::Ns(_) => Type::Ns,
            Value::Bs(_) => Type::Bs,
        }
    }

    /// The value as DynamoDB's messages show it: `AttributeValue: {N:10}`.
    pub fn describe(&self) -> String {
        let shown = match self {
            Value::S(s) => s.clone(),
            Value::N(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "true".into(),
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        format!("AttributeValue: {{{}:{shown}}}", self.kind().descriptor())
    }
}

/// An AttributeValue as it arrives: every type member optional, so that an empty one or one
/// with two types set is refused in DynamoDB's words rather than serde's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireValue {
    #[serde(rename = "S")]
    s: Option<String>,
    #[serde(rename = "N")]
    n: Option<String>,
    #[serde(rename = "B")]
    b: Option<String>,
    #[serde(rename = "BOOL")]
    bool: Option<bool>,
    #[serde(rename = "NULL")]
    null: Option<bool>,
    #[serde(rename = "M")]
    m: Option<BTreeMap<String, WireValue>>,
    #[serde(rename = "L")]
    l: Option<Vec<WireValue>>,
    #[serde(rename = "SS")]
    ss: Option<Vec<String>>,
    #[serde(rename = "NS")]
    ns: Option<Vec<String>>,
    #[serde(rename = "BS")]
    bs: Option<Vec<String>>,
}

/// An item as it arrives.
pub type WireItem = BTreeMap<String, WireValue>;

/// Why an AttributeValue is refused, in DynamoDB's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// A well-formed value DynamoDB does not accept (ValidationException).
    #[error("{0}")]
    Invalid(String),
    /// A binary that is not base64 (SerializationException).
    #[error("{0}")]
    NotBase64(String),
}

impl ValueError {
    /// The same refusal naming the attribute it is about (`...; attribute: 'm.x[2]'`): DynamoDB's
    /// own message names none, which leaves a caller of a many-attribute item guessing.
    fn at(self, path: &str) -> ValueError {
        match self {
            ValueError::Invalid(m) => ValueError::Invalid(format!("{m}; attribute: '{path}'")),
            ValueError::NotBase64(m) => ValueError::NotBase64(format!("{m}; attribute: '{path}'")),
        }
    }
}

/// A refusal inside a value, and the steps from the value down to where it sits (innermost
/// first, as they are added on the way out).
struct Located {
    error: ValueError,
    steps: Vec<String>,
}

impl From<ValueError> for Located {
    fn from(error: ValueError) -> Located {
        Located { error, steps: vec![] }
    }
}

impl Located {
    fn within(mut self, step: String) -> Located {
        self.steps.push(step);
        self
    }

    fn path(&self) -> String {
        self.steps.iter().rev().map(String::as_str).collect()
    }
}

fn invalid(reason: impl std::fmt::Display) -> ValueError {
    ValueError::Invalid(format!("One or more parameter values were invalid: {reason}"))
}

fn number(text: &str) -> Result<Number, ValueError> {
    text.parse().map_err(|e| ValueError::Invalid(format!("{e}")))
}

fn binary(text: &str) -> Result<Vec<u8>, ValueError> {
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| {
        ValueError::NotBase64(format!("Base64 encoded length is expected a multiple of 4 bytes but found: {}", text.len()))
    })
}

/// A set's members, refused when empty or repeated (DynamoDB's `Input collection ... contains duplicates`).
fn set<T: Ord>(items: Vec<T>, shown: &[String], name: &str) -> Result<BTreeSet<T>, ValueError> {
    if items.is_empty() {
        return Err(invalid(format!("An {name} set  may not be empty")));
    }
    let count = items.len();
    let set: BTreeSet<T> = items.into_iter().collect();
    if set.len() != count {
        return Err(invalid(format!("Input collection [{}] contains duplicates.", shown.join(", "))));
    }
    Ok(set)
}

impl WireValue {
    /// The value, or DynamoDB's refusal of it (not saying where inside it; see `item_from_wire`).
    pub fn into_value(self) -> Result<Value, ValueError> {
        self.at_depth(0).map_err(|l| l.error)
    }

    fn at_depth(self, depth: usize) -> Result<Value, Located> {
        if depth > MAX_DEPTH {
            return Err(invalid("Nesting Levels have exceeded supported limits").into());
        }
        let set_members = [
            self.s.is_some(),
            self.n.is_some(),
            self.b.is_some(),
            self.bool.is_some(),
            self.null.is_some(),
            self.m.is_some(),
            self.l.is_some(),
            self.ss.is_some(),
            self.ns.is_some(),
            self.bs.is_some(),
        ];
        match set_members.iter().filter(|x| **x).count() {
            0 => {
                return Err(ValueError::Invalid(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into(),
                )
                .into())
            }
            1 => {}
            _ => return Err(ValueError::Invalid(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                    .into(),
            )
            .into()),
        }
        Ok(match self {
            WireValue { s: Some(s), .. } => Value::S(s),
            WireValue { n: Some(n), .. } => Value::N(number(&n)?),
            WireValue { b: Some(b), .. } => Value::B(binary(&b)?),
            WireValue { bool: Some(b), .. } => Value::Bool(b),
            WireValue { null: Some(true), .. } => Value::Null,
            WireValue { null: Some(false), .. } => {
                return Err(invalid("Null attribute value types must have the value of true").into())
            }
            WireValue { m: Some(m), .. } => Value::M(
                m.into_iter()
                    .map(|(k, v)| {
                        let value = v.at_depth(depth + 1).map_err(|l| l.within(format!(".{k}")))?;
                        Ok((k, value))
                    })
                    .collect::<Result<_, Located>>()?,
            ),
            WireValue { l: Some(l), .. } => Value::L(
                l.into_iter()
                    .enumerate()
                    .map(|(i, v)| v.at_depth(depth + 1).map_err(|l| l.within(format!("[{i}]"))))
                    .collect::<Result<_, _>>()?,
            ),
            WireValue { ss: Some(ss), .. } => Value::Ss(set(ss.clone(), &ss, "string")?),
            WireValue { ns: Some(ns), .. } => {
                Value::Ns(set(ns.iter().map(|n| number(n)).collect::<Result<_, _>>()?, &ns, "number")?)
            }
            WireValue { bs: Some(bs), .. } => {
                Value::Bs(set(bs.iter().map(|b| binary(b)).collect::<Result<_, _>>()?, &bs, "binary")?)
            }
            WireValue { .. } => return Err(ValueError::Invalid("Supplied AttributeValue is empty".into()).into()),
        })
    }
}

/// Reads an item (or a key) off the wire; a value refused names its attribute's path.
pub fn item_from_wire(wire: WireItem) -> Result<Item, ValueError> {
    wire.into_iter()
        .map(|(k, v)| {
            let value = v.at_depth(0).map_err(|l| {
                let path = format!("{k}{}", l.path());
                l.error.at(&path)
            })?;
            Ok((k, value))
        })
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        let key = self.kind().descriptor();
        match self {
            Value::S(s) => map.serialize_entry(key, s)?,
            Value::N(n) => map.serialize_entry(key, &n.to_string())?,
            Value::B(b) => map.serialize_entry(key, &base64(b))?,
            Value::Bool(b) => map.serialize_entry(key, b)?,
            Value::Null => map.serialize_entry(key, &true)?,
            Value::M(m) => map.serialize_entry(key, m)?,
            Value::L(l) => map.serialize_entry(key, l)?,
            Value::Ss(s) => map.serialize_entry(key, s)?,
            Value::Ns(s) => map.serialize_entry(key, &s.iter().map(Number::to_string).collect::<Vec<_>>())?,
            Value::Bs(s) => map.serialize_entry(key, &s.iter().map(|b| base64(b)).collect::<Vec<_>>())?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: serde_json::Value) -> Result<Value, ValueError> {
        serde_json::from_value::<WireValue>(v).unwrap().into_value()
    }

    #[test]
    fn round_trips_every_type() {
        let wire = json!({"M": {
            "s": {"S": "x"}, "n": {"N": "1.5"}, "b": {"B": "AAE="}, "t": {"BOOL": true}, "z": {"NULL": true},
            "l": {"L": [{"S": "a"}, {"N": "2"}]}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "10"]}, "bs": {"BS": ["AA=="]}
        }});
        let value = read(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(&value).unwrap(), wire);
    }

    #[test]
    fn refuses_what_dynamodb_refuses() {
        let message = |v| read(v).unwrap_err().to_string();
        assert!(message(json!({})).contains("is empty"));
        assert!(message(json!({"S": "a", "N": "1"})).contains("more than one datatypes"));
        assert!(message(json!({"N": "ten"})).contains("cannot be converted into a number"));
        assert!(message(json!({"SS": []})).contains("An string set  may not be empty"));
        assert!(message(json!({"NS": ["1", "1.0"]})).contains("contains duplicates"));
        assert!(message(json!({"NULL": false})).contains("must have the value of true"));
        let wire = serde_json::from_value(json!({"ok": {"S": "x"}, "m": {"M": {"x": {"L": [{"N": "1"}, {}]}}}})).unwrap();
        assert_eq!(
            item_from_wire(wire).unwrap_err().to_string(),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes; attribute: 'm.x[1]'",
            "an item's refusal names the attribute"
        );
        let mut deep = json!({"S": "x"});
        for _ in 0..40 {
            deep = json!({"L": [deep]});
        }
        assert!(message(deep).contains("Nesting Levels"));
    }
}

//! The small values of a DRS resource's parameters, each checked as it is deserialized so
//! that an error names the field (serde_path_to_error adds the path) and says what is wrong
//! in words: account ids, regions, host names, tag values, the execution id and tenant.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A string newtype checked as it is deserialized: `$check` returns why a value is refused,
/// and serde_path_to_error puts the field's path in front of it.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&s).map(|()| $name(s))
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

checked_string!(
    /// A 12-digit AWS account id.
    AccountId,
    |s| if is_account(s) { Ok(()) } else { Err(format!("'{s}' is not a 12-digit account id")) }
);

checked_string!(
    /// An AWS region name (`us-east-1`, `us-gov-west-1`).
    Region,
    |s| if is_region(s) { Ok(()) } else { Err(format!("'{s}' is not a region (as in us-east-1)")) }
);

checked_string!(
    /// `ExecutionId`: 1 to 40 letters, digits, '-' or '_' (it becomes a tag value and part of
    /// approval execution names).
    ExecutionId,
    |s| {
        let ok = (1..=40).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok { Ok(()) } else { Err("1 to 40 letters, digits, '-' or '_'".into()) }
    }
);

checked_string!(
    /// A tenant or hook name: 1 to 64 letters, digits, '.', '-' or '_'.
    Name,
    |s| {
        let ok = (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if ok { Ok(()) } else { Err(format!("'{s}' is not a name (1 to 64 letters, digits, '.', '-' or '_')")) }
    }
);

pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// As the schema's region pattern: `us-east-1`, `us-gov-west-1`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let (cc, rest) = match parts.as_slice() {
        [cc, "gov", w, n] => (cc, [w, n]),
        [cc, w, n] => (cc, [w, n]),
        _ => return false,
    };
    cc.len() == 2 && lower(cc) && lower(rest[0]) && rest[1].len() == 1 && rest[1].bytes().all(|b| b.is_ascii_digit())
}

/// A tag's accepted values: one string, or a non-empty list of strings (any of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TagValues(pub Vec<String>);

/// One tag value: tag values are strings, and a number is refused with how to write it.
struct TagValue(String);

fn number_error<E: de::Error>(n: impl fmt::Display) -> E {
    E::custom(format_args!("tag values are strings: write \"{n}\", not {n}"))
}

impl<'de> Deserialize<'de> for TagValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TagValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TagValue, E> {
                Ok(TagValue(s.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<TagValue, E> {
                Err(number_error(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<TagValue, E> {
                Err(number_error(n))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<TagValue, E> {
                Err(number_error(n))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for TagValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagValues;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TagValues, E> {
                Ok(TagValues(vec![s.to_owned()]))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<TagValues, E> {
                Err(number_error(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<TagValues, E> {
                Err(number_error(n))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<TagValues, E> {
                Err(number_error(n))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TagValues, A::Error> {
                let mut out = vec![];
                while let Some(TagValue(v)) = seq.next_element()? {
                    out.push(v);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("an empty list matches nothing"));
                }
                Ok(TagValues(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `RecoverBefore`: an RFC 3339 time with its offset (`2026-12-01T02:10:00Z`,
/// `2026-12-01T03:10:00+01:00`), kept in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Instant(pub chrono::DateTime<chrono::Utc>);

impl TryFrom<String> for Instant {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| Instant(t.with_timezone(&chrono::Utc)))
            .map_err(|e| format!("'{s}' is not an RFC 3339 time with its offset, as in 2026-12-01T02:10:00Z ({e})"))
    }
}

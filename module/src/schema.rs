//! JSON Schema validation whose errors name the field (as a JSON pointer) and the reason.
//! Each embedded schema is compiled once, on first use, not on every call.

use anyhow::bail;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use std::sync::OnceLock;

/// An embedded schema (draft 2020-12) and its validator, compiled on first use.
pub struct Schema {
    text: &'static str,
    compiled: OnceLock<(serde_json::Value, Validator)>,
}

/// A key the schema does not know where it stands, with the known name nearest to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// JSON pointer of the key (`/PauseBefor`).
    pub at: String,
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: not a known parameter", self.at)?;
        match &self.suggestion {
            Some(s) => write!(f, " (did you mean {s}?)"),
            None => Ok(()),
        }
    }
}

/// What a value breaks: unknown keys apart (a configuration may let them pass with a
/// warning), the other rules as lines.
#[derive(Debug, Default)]
pub struct Problems {
    pub unknown: Vec<UnknownKey>,
    pub other: Vec<String>,
}

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.unknown.is_empty() && self.other.is_empty()
    }

    /// Every problem, one line each.
    pub fn lines(&self) -> Vec<String> {
        self.unknown.iter().map(ToString::to_string).chain(self.other.iter().cloned()).collect()
    }
}

/// Problems reported at most.
const MAX_PROBLEMS: usize = 10;

impl Schema {
    pub const fn new(text: &'static str) -> Schema {
        Schema { text, compiled: OnceLock::new() }
    }

    fn compiled(&self) -> &(serde_json::Value, Validator) {
        // The schemas are files of this repository, checked by its tests: a broken one is a bug.
        self.compiled.get_or_init(|| {
            let schema: serde_json::Value = serde_json::from_str(self.text).expect("embedded schemas are JSON");
            let validator = jsonschema::validator_for(&schema).expect("embedded schemas compile");
            (schema, validator)
        })
    }

    /// Errors (at most 10) name the field as a JSON pointer and the rule it breaks, with the
    /// value masked: a secret in a wrong place must not reach a log through its schema error.
    /// A value that fits none of a `oneOf`/`anyOf`'s branches is explained by the branches of
    /// its own type ("at /Waves/0: \"Tags\" is a required property", not "not valid under any
    /// of the schemas listed in the 'oneOf' keyword"). A key the schema does not know is named
    /// with the known name nearest to it.
    pub fn validate(&self, value: &serde_json::Value, what: &str) -> anyhow::Result<()> {
        let problems = self.check(value);
        if !problems.is_empty() {
            bail!("{what} does not match its schema:\n  {}", problems.lines().join("\n  "));
        }
        Ok(())
    }

    /// What `value` breaks, unknown keys apart.
    pub fn check(&self, value: &serde_json::Value) -> Problems {
        let (schema, validator) = self.compiled();
        let mut problems = Problems::default();
        for e in validator.iter_errors(value) {
            explain(schema, &e, &mut problems);
            if problems.unknown.len() + problems.other.len() >= MAX_PROBLEMS {
                break;
            }
        }
        problems.unknown.dedup();
        problems.unknown.truncate(MAX_PROBLEMS);
        problems.other.truncate(MAX_PROBLEMS - problems.unknown.len());
        problems.other.dedup();
        problems
    }
}

/// The property names the schema object holding the failed `additionalProperties` lists (none
/// when that object is reached through a reference this lookup does not follow).
fn known_names(schema: &serde_json::Value, schema_path: &str) -> Vec<String> {
    let Some(parent) = schema_path.strip_suffix("/additionalProperties") else { return vec![] };
    schema
        .pointer(parent)
        .and_then(|node| node.get("properties"))
        .and_then(serde_json::Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

/// The known name a misspelt key most likely meant: the same name in another case, or the
/// one closest by edit distance when close enough to be a slip (a third of its length).
fn nearest(key: &str, known: &[String]) -> Option<String> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        return Some(k.clone());
    }
    let lower = key.to_lowercase();
    let length = lower.chars().count();
    known
        .iter()
        // The distance is at least the difference in length: a name too far by its length alone
        // is not measured (a megabyte key against each known name took its length times theirs).
        .filter(|k| length.abs_diff(k.chars().count()) <= (k.len() / 3).max(1))
        .map(|k| (strsim::levenshtein(&lower, &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

/// A key as one JSON pointer segment.
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// An unknown key with the known name nearest to it; any other error as
/// `at <pointer>: <reason>`; a failed `oneOf`/`anyOf` by the errors of the branches whose type
/// the value has, recursively (itself when no branch has).
fn explain(schema: &serde_json::Value, e: &ValidationError<'_>, problems: &mut Problems) {
    if let ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() {
        let known = known_names(schema, &e.schema_path().to_string());
        let at = e.instance_path().to_string();
        for key in unexpected {
            let suggestion = nearest(key, &known);
            problems.unknown.push(UnknownKey { at: format!("{at}/{}", escape_pointer(key)), suggestion });
        }
        return;
    }
    let out = &mut problems.other;
    let branches = match e.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => Some(context),
        _ => None,
    };
    let at = e.instance_path().to_string();
    let fitting: Vec<&Vec<ValidationError<'static>>> = branches
        .into_iter()
        .flatten()
        .filter(|b| !b.is_empty() && !b.iter().any(|x| x.kind().keyword() == "type" && x.instance_path().to_string() == at))
        .collect();
    let shown = if at.is_empty() { "/".to_owned() } else { at.clone() };
    if fitting.is_empty() {
        // Of no branch's type: the types it may have.
        let types: Vec<String> = branches
            .into_iter()
            .flatten()
            .flatten()
            .filter(|x| x.kind().keyword() == "type" && x.instance_path().to_string() == at)
            .map(|x| x.masked().to_string())
            .collect();
        let why = if types.is_empty() { e.masked().to_string() } else { types.join(", and ") };
        out.push(format!("at {shown}: {why}"));
        return;
    }
    // Branches that each want one more property: one line naming them all.
    let wanted: Vec<String> = fitting
        .iter()
        .filter_map(|b| match (b.len(), b.first().map(ValidationError::kind)) {
            (1, Some(ValidationErrorKind::Required { property })) => Some(property.to_string()),
            _ => None,
        })
        .collect();
    if fitting.len() > 1 && wanted.len() == fitting.len() {
        out.push(format!("at {shown}: needs one of {}", wanted.join(", ")));
        return;
    }
    for b in fitting {
        for x in b {
            explain(schema, x, problems);
        }
    }
}
#[cfg(test)]
mod tests {
    use super::Schema;
    use serde_json::json;

    static FORMS: Schema = Schema::new(
        r#"{"properties": {"w": {"oneOf": [{"type": "object", "required": ["k"]}, {"type": "array", "minItems": 2}]}}}"#,
    );

    #[test]
    fn a_key_too_long_to_be_a_slip_gets_no_suggestion_and_a_slip_gets_one() {
        let known: Vec<String> = ["PauseBefore", "Waves", "Tags"].map(String::from).to_vec();
        assert_eq!(super::nearest("PauseBefor", &known).as_deref(), Some("PauseBefore"));
        assert_eq!(super::nearest("waves", &known).as_deref(), Some("Waves"));
        assert_eq!(super::nearest(&"PauseBefore".repeat(100_000), &known), None);
    }

    #[test]
    fn a_value_of_no_branchs_type_is_told_the_types_and_one_of_a_type_its_branchs_rule() {
        let e = FORMS.validate(&json!({"w": 5}), "x").unwrap_err().to_string();
        assert!(e.contains("at /w:") && e.contains(r#""object""#) && e.contains(r#""array""#), "{e}");
        assert!(!e.contains('5'), "the value is masked: {e}");
        let e = FORMS.validate(&json!({"w": [1]}), "x").unwrap_err().to_string();
        assert!(e.contains("at /w:") && !e.contains("oneOf") && !e.contains(r#""k""#), "{e}");
        let e = FORMS.validate(&json!({"w": {}}), "x").unwrap_err().to_string();
        assert!(e.contains(r#"at /w: "k" is a required property"#), "{e}");
    }

    static STRICT: Schema = Schema::new(
        r#"{"additionalProperties": false, "properties": {"PauseBefore": {}, "Waves": {"type": "array", "items":
            {"type": "object", "additionalProperties": false, "properties": {"Name": {}, "DependsOn": {}}}}}}"#,
    );

    #[test]
    fn an_unknown_key_is_named_with_the_known_name_nearest_to_it() {
        let p = STRICT.check(&json!({"PauseBefor": ["web"], "Waves": [{"Name": "a", "dependson": []}], "Zzz": 1}));
        let lines = p.lines();
        assert_eq!(p.unknown.len(), 3, "{lines:?}");
        assert!(lines.contains(&"at /PauseBefor: not a known parameter (did you mean PauseBefore?)".to_owned()), "{lines:?}");
        assert!(
            lines.contains(&"at /Waves/0/dependson: not a known parameter (did you mean DependsOn?)".to_owned()),
            "{lines:?}"
        );
        assert!(lines.contains(&"at /Zzz: not a known parameter".to_owned()), "no guess when nothing is close: {lines:?}");
        assert!(p.other.is_empty(), "{:?}", p.other);
        assert!(STRICT.check(&json!({"PauseBefore": []})).is_empty());
    }
}

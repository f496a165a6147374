//! JSON Schema validation whose errors name the field (as a JSON pointer) and the reason.
//! Each embedded schema is compiled once, on first use, not on every call.

use anyhow::bail;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use std::sync::OnceLock;

/// An embedded schema (draft 2020-12) and its validator, compiled on first use.
pub struct Schema {
    text: &'static str,
    compiled: OnceLock<Validator>,
}

impl Schema {
    pub const fn new(text: &'static str) -> Schema {
        Schema { text, compiled: OnceLock::new() }
    }

    fn validator(&self) -> &Validator {
        // The schemas are files of this repository, checked by its tests: a broken one is a bug.
        self.compiled.get_or_init(|| {
            let schema: serde_json::Value = serde_json::from_str(self.text).expect("embedded schemas are JSON");
            jsonschema::validator_for(&schema).expect("embedded schemas compile")
        })
    }

    /// Errors (at most 10) name the field as a JSON pointer and the rule it breaks, with the
    /// value masked: a secret in a wrong place must not reach a log through its schema error.
    /// A value that fits none of a `oneOf`/`anyOf`'s branches is explained by the branches of
    /// its own type ("at /Waves/0: \"Tags\" is a required property", not "not valid under any
    /// of the schemas listed in the 'oneOf' keyword").
    pub fn validate(&self, value: &serde_json::Value, what: &str) -> anyhow::Result<()> {
        let mut errors = vec![];
        for e in self.validator().iter_errors(value) {
            explain(&e, &mut errors);
            if errors.len() >= 10 {
                break;
            }
        }
        errors.truncate(10);
        errors.dedup();
        if !errors.is_empty() {
            bail!("{what} does not match its schema:\n  {}", errors.join("\n  "));
        }
        Ok(())
    }
}

/// One error as `at <pointer>: <reason>`; a failed `oneOf`/`anyOf` by the errors of the
/// branches whose type the value has, recursively (itself when no branch has).
fn explain(e: &ValidationError<'_>, out: &mut Vec<String>) {
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
            explain(x, out);
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
    fn a_value_of_no_branchs_type_is_told_the_types_and_one_of_a_type_its_branchs_rule() {
        let e = FORMS.validate(&json!({"w": 5}), "x").unwrap_err().to_string();
        assert!(e.contains("at /w:") && e.contains(r#""object""#) && e.contains(r#""array""#), "{e}");
        assert!(!e.contains('5'), "the value is masked: {e}");
        let e = FORMS.validate(&json!({"w": [1]}), "x").unwrap_err().to_string();
        assert!(e.contains("at /w:") && !e.contains("oneOf") && !e.contains(r#""k""#), "{e}");
        let e = FORMS.validate(&json!({"w": {}}), "x").unwrap_err().to_string();
        assert!(e.contains(r#"at /w: "k" is a required property"#), "{e}");
    }
}

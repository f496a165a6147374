//! JSON Schema validation whose errors name the field (as a JSON pointer) and the reason.
//! Each embedded schema is compiled once, on first use, not on every call.

use anyhow::bail;
use jsonschema::Validator;
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
    pub fn validate(&self, value: &serde_json::Value, what: &str) -> anyhow::Result<()> {
        let errors: Vec<String> = self
            .validator()
            .iter_errors(value)
            .take(10)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("at {}: {}", if at.is_empty() { "/".into() } else { at }, e.masked())
            })
            .collect();
        if !errors.is_empty() {
            bail!("{what} does not match its schema:\n  {}", errors.join("\n  "));
        }
        Ok(())
    }
}

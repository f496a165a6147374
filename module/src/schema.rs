//! JSON Schema validation whose errors name the field (as a JSON pointer) and the reason.

use anyhow::bail;

pub fn validate(schema: &str, value: &serde_json::Value, what: &str) -> anyhow::Result<()> {
    let schema: serde_json::Value = serde_json::from_str(schema).expect("embedded schemas are JSON");
    let validator = jsonschema::validator_for(&schema).expect("embedded schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(10)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("at {}: {e}", if at.is_empty() { "/".into() } else { at })
        })
        .collect();
    if !errors.is_empty() {
        bail!("{what} does not match its schema:\n  {}", errors.join("\n  "));
    }
    Ok(())
}

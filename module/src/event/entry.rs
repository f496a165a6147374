//! The entries the hub's schedules and EventBridge rules call besides the platform's
//! lifecycle: `{"Entry": "readiness", "Manifest": [...]}` and `{"Entry": "tags-sync", ...}`.
//! Validated by `schemas/module-entry.schema.json`, then read into typed values once; an
//! invalid event is refused naming the field.

use crate::manifest::Layer;
use crate::schema::Schema;
use crate::tagsync::Rules;
use serde_json::Value;

pub static SCHEMA: Schema = Schema::new(include_str!("../../../schemas/module-entry.schema.json"));

#[derive(Debug)]
pub enum Entry {
    /// Judge each DRS resource of the manifest.
    Readiness { layers: Vec<Layer> },
    /// Copy EC2 tags onto DRS source servers; `instances`: only those of these EC2 instance
    /// ids (all when empty).
    TagsSync { rules: Rules, instances: Vec<String>, trigger: Option<String> },
}

/// Why an entry event was refused: the field and the reason.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The event breaks its schema (the reasons name the fields).
    #[error("{0}")]
    Schema(String),
    /// The manifest's DRS resources cannot be read (the field named).
    #[error("Manifest{0}")]
    Manifest(String),
}

impl Entry {
    /// Whether `raw` asks for an entry (it has `Entry`) rather than a lifecycle phase.
    pub fn is_entry(raw: &Value) -> bool {
        raw.get("Entry").is_some()
    }

    pub fn parse(raw: &Value) -> Result<Entry, EntryError> {
        SCHEMA.validate(raw, "the entry event").map_err(|e| EntryError::Schema(format!("{e:#}")))?;
        let strings = |k: &str| -> Vec<String> {
            raw.get(k).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
        };
        match raw["Entry"].as_str() {
            Some("readiness") => {
                // `layers` names the place in the manifest (`[0].resources[1].parameters...`).
                let layers = crate::manifest::layers(&raw["Manifest"]).map_err(|e| EntryError::Manifest(format!("{e:#}")))?;
                Ok(Entry::Readiness { layers })
            }
            _ => Ok(Entry::TagsSync {
                rules: Rules { keys: strings("Keys"), overwrite: raw["Overwrite"].as_bool().unwrap_or(false) },
                instances: strings("Instances").iter().map(|i| instance_id(i).to_owned()).collect(),
                trigger: raw["Trigger"].as_str().map(str::to_owned),
            }),
        }
    }

    /// What the audit records name the writes of this call after.
    pub fn label(&self) -> &'static str {
        match self {
            Entry::Readiness { .. } => "readiness",
            Entry::TagsSync { .. } => "tags-sync",
        }
    }
}

/// The instance id of an EC2 instance ARN (`arn:aws:ec2:r:a:instance/i-...`), or the id.
fn instance_id(arn_or_id: &str) -> &str {
    arn_or_id.rsplit_once("instance/").map_or(arn_or_id, |(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_read_into_types_and_bad_ones_name_the_field() {
        let manifest =
            json!([{"layer": 1, "resources": [{"action": "DRS", "resourceName": "Web", "parameters": {"Tags": {"T": "x"}}}]}]);
        match Entry::parse(&json!({"Entry": "readiness", "Manifest": manifest})).unwrap() {
            Entry::Readiness { layers } => assert_eq!(layers[0].resources[0].name, "Web"),
            other => panic!("{other:?}"),
        }
        let sync = json!({"Entry": "tags-sync", "Trigger": "tag-change", "Instances": ["arn:aws:ec2:us-west-2:200000000001:instance/i-0abc"]});
        match Entry::parse(&sync).unwrap() {
            Entry::TagsSync { instances, rules, .. } => {
                assert_eq!((instances, rules.overwrite), (vec!["i-0abc".to_string()], false))
            }
            other => panic!("{other:?}"),
        }
        for (bad, field) in [
            (json!({"Entry": "readiness"}), "Manifest"),
            (json!({"Entry": "scrub"}), "/Entry"),
            (json!({"Entry": "tags-sync", "Overwrite": "yes"}), "/Overwrite"),
            (json!({"Entry": "tags-sync", "Colour": 1}), "Colour"),
            (
                json!({"Entry": "readiness", "Manifest": [{"layer": 1, "resources": [{"action": "DRS", "resourceName": "W", "parameters": {"Tags": {"T": "x"}, "TargetRpoMinutes": 0}}]}]}),
                "Manifest[0].resources[0]",
            ),
        ] {
            let e = Entry::parse(&bad).unwrap_err().to_string();
            assert!(e.contains(field), "{field} not named in: {e}");
        }
        assert!(Entry::is_entry(&json!({"Entry": "x"})) && !Entry::is_entry(&json!({"LifeCyclePhase": "activate"})));
    }
}

//! The module event as the platform sends it: `StatePayload` (`action` or `resourceType`,
//! `resourceName`, `AccountId`, `parameters`), `LifeCyclePhase`, `status` (present: the
//! phase's status check), `lifecycle_output.Payload`, `TaskToken`, `RunId` (a token-less
//! caller's identity of the run: see `recovery::tags::execution_id`). Validated by
//! `schemas/module-event.schema.json`; an invalid event fails with the field named.

pub mod arc;
pub mod entry;

use crate::secret::Secret;
use anyhow::Context;
use serde::Serialize;
use serde_json::Value;

pub static SCHEMA: crate::schema::Schema = crate::schema::Schema::new(include_str!("../../../schemas/module-event.schema.json"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Instantiate,
    Activate,
    Replicate,
    Cleanup,
}

#[derive(Debug, Clone)]
pub struct ModuleEvent {
    /// The module name the platform routed on (`action`, or `resourceType` in older manifests).
    pub module: String,
    pub resource_name: String,
    pub account_id: Option<String>,
    pub parameters: Value,
    pub phase: Phase,
    /// True when the platform asks for `<phase>_status_check`.
    pub status_check: bool,
    /// What the phase returned, handed back to its status checks.
    pub payload: Option<Value>,
    pub task_token: Option<Secret>,
    /// The caller's identity of this run when there is no task token (the standalone state
    /// machine passes its execution's id); the same on a re-delivery, another for a re-run.
    pub run_id: Option<String>,
}

impl ModuleEvent {
    pub fn parse(event: &Value) -> anyhow::Result<ModuleEvent> {
        SCHEMA.validate(event, "the module event")?;
        let sp = &event["StatePayload"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let module = text(&sp["action"]).or_else(|| text(&sp["resourceType"])).context("StatePayload.action: missing")?;
        let phase = match event["LifeCyclePhase"].as_str().unwrap_or_default().to_ascii_lowercase().as_str() {
            "instantiate" => Phase::Instantiate,
            "activate" => Phase::Activate,
            "replicate" => Phase::Replicate,
            "cleanup" => Phase::Cleanup,
            other => anyhow::bail!("LifeCyclePhase: '{other}' is not instantiate, activate, replicate or cleanup"),
        };
        Ok(ModuleEvent {
            module,
            resource_name: text(&sp["resourceName"]).context("StatePayload.resourceName: missing")?,
            account_id: text(&sp["AccountId"]),
            parameters: sp["parameters"].clone(),
            phase,
            status_check: event.get("status").is_some(),
            payload: event.get("lifecycle_output").and_then(|o| o.get("Payload")).filter(|p| !p.is_null()).cloned(),
            task_token: text(&event["TaskToken"]).map(Secret::new),
            run_id: text(&event["RunId"]),
        })
    }

    /// The platform's name for what to run: `activate` or `activate_status_check`.
    pub fn operation(&self) -> String {
        let phase = serde_json::to_value(self.phase).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        if self.status_check {
            format!("{phase}_status_check")
        } else {
            phase
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "StatePayload": {"action": "DRS", "resourceName": "Web", "AccountId": "200000000001",
                             "parameters": {"Tags": {"Wave": "1"}}},
            "LifeCyclePhase": "activate"
        })
    }

    #[test]
    fn phase_and_status_check_name_the_operation() {
        let e = ModuleEvent::parse(&event()).unwrap();
        assert_eq!((e.phase, e.operation()), (Phase::Activate, "activate".to_string()));
        let mut v = event();
        v["status"] = json!(true);
        v["lifecycle_output"] = json!({"Payload": {"waves": 3}});
        v["TaskToken"] = json!("AQCEAAAAKgAAAAMAAAAAAAAAAaaaaaaaaaaaaaaaaaaaaaaaaa");
        v["StatePayload"] = json!({"resourceType": "DRS", "resourceName": "Web", "parameters": {}});
        v["LifeCyclePhase"] = json!("ACTIVATE");
        let e = ModuleEvent::parse(&v).unwrap();
        assert_eq!(e.operation(), "activate_status_check");
        assert_eq!(e.module, "DRS");
        assert_eq!(e.payload, Some(json!({"waves": 3})));
        assert!(!format!("{:?}", e.task_token).contains("aaaaaaaaaa"), "the token prints masked");
        assert_eq!(e.run_id, None);
        v["RunId"] = json!("arn:aws:states:us-east-1:100000000000:execution:drs-orch-standalone:x");
        assert_eq!(ModuleEvent::parse(&v).unwrap().run_id.as_deref(), v["RunId"].as_str());
    }

    #[test]
    fn invalid_events_name_the_field() {
        for (mutate, field) in [
            (json!({"LifeCyclePhase": "failover"}), "/LifeCyclePhase"),
            (json!({"StatePayload": {"action": "DRS", "resourceName": "Web"}}), "/StatePayload"),
            (
                json!({"StatePayload": {"action": "DRS", "resourceName": "Web", "parameters": {}, "AccountId": "12"}}),
                "/StatePayload/AccountId",
            ),
            (json!({"RunId": ""}), "/RunId"),
        ] {
            let mut v = event();
            for (k, x) in mutate.as_object().unwrap() {
                v[k] = x.clone();
            }
            let e = format!("{:#}", ModuleEvent::parse(&v).unwrap_err());
            assert!(e.contains(field), "{field} not named in: {e}");
        }
    }
}

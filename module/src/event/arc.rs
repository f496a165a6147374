//! ARC Region switch's custom-action Lambda invocation: the block's payload (`Resource`, the
//! DRS resource as the platform sends it in `StatePayload`, and an optional `Mode`) with the
//! keys ARC merges into its top level (`InvokedBy`, `PlanArn`, `ExecutionId`, `StepName`).
//! Validated by `schemas/arc-invocation.schema.json`, then read into a typed value once; an
//! invalid invocation is refused naming the field.

use crate::resource::Mode;
use crate::schema::Schema;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub static SCHEMA: Schema = Schema::new(include_str!("../../../schemas/arc-invocation.schema.json"));

/// The keys ARC merges into an object payload: any one of them marks an ARC invocation (a
/// payload missing the others is then refused naming them, not read as a lifecycle event).
pub const MERGED_KEYS: [&str; 4] = ["InvokedBy", "PlanArn", "ExecutionId", "StepName"];

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Invocation {
    pub invoked_by: String,
    pub plan_arn: String,
    /// The plan execution's id: the same on every retry of the step.
    pub execution_id: String,
    pub step_name: String,
    pub resource: StepResource,
    /// Replaces the resource's `parameters.Mode`.
    #[serde(default)]
    pub mode: Option<Mode>,
}

/// The DRS resource of the step, as `StatePayload` holds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepResource {
    pub action: String,
    #[serde(rename = "resourceName")]
    pub resource_name: String,
    #[serde(rename = "AccountId", default)]
    pub account_id: Option<String>,
    pub parameters: Map<String, Value>,
}

/// Why an ARC invocation was refused: the field and the reason.
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    /// The invocation breaks its schema (the reasons name the fields).
    #[error("{0}")]
    Schema(String),
    /// A field does not read as its type.
    #[error("{path}: {why}")]
    Field { path: String, why: String },
    /// The resource names its own run id: the step's run is the plan execution's.
    #[error(
        "Resource.parameters.ExecutionId: an ARC step's run is named by PlanArn, ExecutionId and StepName; \
         leave ExecutionId out of the resource"
    )]
    OwnExecutionId,
}

impl Invocation {
    /// Whether `raw` came from ARC: an object carrying one of the keys ARC merges.
    pub fn is_arc(raw: &Value) -> bool {
        raw.as_object().is_some_and(|m| MERGED_KEYS.iter().any(|k| m.contains_key(*k)))
    }

    pub fn parse(raw: &Value) -> Result<Invocation, InvocationError> {
        SCHEMA.validate(raw, "the ARC invocation").map_err(|e| InvocationError::Schema(format!("{e:#}")))?;
        let inv: Invocation = serde_path_to_error::deserialize(raw)
            .map_err(|e| InvocationError::Field { path: e.path().to_string(), why: e.inner().to_string() })?;
        if inv.resource.parameters.contains_key("ExecutionId") {
            return Err(InvocationError::OwnExecutionId);
        }
        Ok(inv)
    }

    /// The caller's identity of the run (`RunId`): a digest of the plan, its execution and
    /// the step, so that every retry of the step is the same run and another step, or
    /// another execution of the plan, another run. Fixed length whatever the ARN's.
    pub fn run_id(&self) -> String {
        let mut h = Sha256::new();
        // As a JSON array: no field can run into the next one.
        h.update(json!([self.plan_arn, self.execution_id, self.step_name]).to_string().as_bytes());
        format!("arc-{}", hex::encode(h.finalize()))
    }

    /// The resource as the platform's `StatePayload`, with `Mode` applied.
    pub fn state_payload(&self) -> Value {
        let mut parameters = self.resource.parameters.clone();
        if let Some(mode) = self.mode {
            parameters.insert("Mode".into(), json!(mode.as_str()));
        }
        let mut sp =
            json!({"action": self.resource.action, "resourceName": self.resource.resource_name, "parameters": parameters});
        if let Some(a) = &self.resource.account_id {
            sp["AccountId"] = json!(a);
        }
        sp
    }

    /// The lifecycle event this invocation is: activate, or (`reference` given) its status check.
    pub fn lifecycle_event(&self, reference: Option<&Value>) -> Value {
        let mut e = json!({"StatePayload": self.state_payload(), "LifeCyclePhase": "activate", "RunId": self.run_id()});
        if let Some(r) = reference {
            e["status"] = json!(true);
            e["lifecycle_output"] = json!({"Payload": r});
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn invocation() -> Value {
        json!({
            "InvokedBy": "ARC", "PlanArn": "arn:aws:arc-region-switch::100000000000:plan/shop:abc123",
            "ExecutionId": "exec-1", "StepName": "recover-shop",
            "Resource": {"action": "DRS", "resourceName": "ShopStack", "parameters": {"Tags": {"Application": "shop"}}},
            "Mode": "recovery"
        })
    }

    #[test]
    fn an_invocation_reads_into_one_run_per_step() {
        let raw = invocation();
        assert!(Invocation::is_arc(&raw) && !Invocation::is_arc(&json!({"LifeCyclePhase": "activate"})));
        let inv = Invocation::parse(&raw).unwrap();
        assert_eq!(inv.state_payload()["parameters"]["Mode"], "recovery");
        assert_eq!(inv.run_id(), Invocation::parse(&raw).unwrap().run_id(), "a retry is the same run");
        let mut other = raw.clone();
        other["StepName"] = json!("recover-shop-2");
        assert_ne!(inv.run_id(), Invocation::parse(&other).unwrap().run_id(), "another step is another run");
        let check = inv.lifecycle_event(Some(&json!({"v": 1})));
        assert_eq!((check["status"].clone(), check["RunId"].as_str().unwrap().len()), (json!(true), 68));
        crate::event::ModuleEvent::parse(&check).unwrap();
    }

    #[test]
    fn a_bad_invocation_names_the_field() {
        for (key, value, field) in [
            ("StepName", Value::Null, "StepName"),
            ("PlanArn", json!(7), "/PlanArn"),
            ("Mode", json!("failover"), "/Mode"),
            ("Colour", json!("red"), "Colour"),
            ("Resource", json!({"action": "EC2", "resourceName": "W", "parameters": {}}), "/Resource/action"),
            ("Resource", json!({"action": "DRS", "resourceName": "W", "parameters": {"ExecutionId": "x"}}), "ExecutionId"),
        ] {
            let mut raw = invocation();
            match value {
                Value::Null => _ = raw.as_object_mut().unwrap().remove(key),
                v => raw[key] = v,
            }
            let e = Invocation::parse(&raw).unwrap_err().to_string();
            assert!(e.contains(field), "{field} not named in: {e}");
        }
    }
}

//! A manifest's DRS resource, read once where the event or the manifest enters: its name, its
//! selection (scope, HostNames, Tags, policy), its recovery settings, its waves, its launch
//! settings and its hooks. The parameters are deserialized into types that check themselves
//! (serde, with `serde_path_to_error` naming the field), then the checks that span fields, then
//! the JSON Schema (`schemas/drs-resource.schema.json`, the contract shared with the platform)
//! catches anything the types let through. Everything downstream takes `&DrsResource`.

mod params;
pub mod recovery;
#[cfg(test)]
mod tests;
pub mod values;
pub mod waves;

pub use recovery::{CleanupScope, FailurePolicy, Mode, RecoveryParams, Targets, WaveSettings};
pub use waves::{WaveSpec, WavesSpec};

use crate::config::UnknownParameters;
use crate::launch::Desired;
use crate::schema::Schema;
use crate::selection::ResourceSelection;
use serde_json::Value;

pub static SCHEMA: Schema = Schema::new(include_str!("../../../schemas/drs-resource.schema.json"));

#[derive(Debug, Clone)]
pub struct DrsResource {
    pub name: String,
    pub selection: ResourceSelection,
    pub recovery: RecoveryParams,
    /// None: one wave of the whole group.
    pub waves: Option<WavesSpec>,
    pub launch: Option<Desired>,
    /// The resource as written (`action`, `resourceName`, `parameters`): what a local driver
    /// hands the module as the platform's StatePayload.
    pub source: Value,
    /// Parameters the schema does not know, let through because the configuration says
    /// `unknownParameters: warn` (else they are refused).
    pub unknown: Vec<crate::schema::UnknownKey>,
}

/// Why a resource was refused: the resource, the field and the reason.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResourceError {
    /// A field's value is wrong (its type, its form, or against another field).
    #[error("resource {resource}: {field}: {reason}")]
    Field { resource: String, field: String, reason: String },
    /// The parameters break the schema (the reasons name the fields; values are masked).
    #[error("resource {resource}: {reasons}")]
    Schema { resource: String, reasons: String },
    /// The resource has no name.
    #[error("resourceName: missing or not a string")]
    NoName,
}

impl DrsResource {
    /// A manifest resource: `{"action": "DRS", "resourceName": ..., "parameters": {...}}`.
    pub fn from_value(resource: &Value) -> Result<DrsResource, ResourceError> {
        let name = resource.get("resourceName").and_then(Value::as_str).ok_or(ResourceError::NoName)?;
        let parameters = resource.get("parameters").unwrap_or(&Value::Null);
        let mut r = params::parse(name, parameters, None, UnknownParameters::Refuse)?;
        r.source = resource.clone();
        Ok(r)
    }

    /// A resource from its name and parameters alone.
    pub fn new(name: &str, parameters: &Value) -> Result<DrsResource, ResourceError> {
        DrsResource::from_event(name, None, parameters)
    }

    /// The resource of a platform event: the event's `AccountId` is the scope when the
    /// parameters name no account.
    pub fn from_event(name: &str, account_id: Option<&str>, parameters: &Value) -> Result<DrsResource, ResourceError> {
        DrsResource::from_event_with(name, account_id, parameters, UnknownParameters::Refuse)
    }

    /// `from_event`, with unknown parameters refused or let through as the configuration says.
    pub fn from_event_with(
        name: &str,
        account_id: Option<&str>,
        parameters: &Value,
        unknown: UnknownParameters,
    ) -> Result<DrsResource, ResourceError> {
        let mut r = params::parse(name, parameters, account_id, unknown)?;
        r.source = serde_json::json!({"action": "DRS", "resourceName": name, "parameters": parameters});
        Ok(r)
    }

    pub fn mode(&self) -> Mode {
        self.recovery.mode
    }

    /// The resource's identity: its name and its canonical selection, hashed. The
    /// selection is read from its types, not its text: a tag value and a one-element list
    /// are the same, host names compare case-folded, every set is sorted and deduplicated,
    /// and the account scope is the one resolved (the event's AccountId when the parameters
    /// name none). A run is this identity plus an execution id; jobs carry it
    /// (`drs-orch:resource-id`), so that cleanup and replicate act only on what this resource
    /// launched, never on the instances of another resource that happens to have its name.
    pub fn identity(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.name.as_bytes());
        h.update([0]);
        h.update(self.selection.canonical().to_string().as_bytes());
        h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// SHA-256 of the parameters as canonical JSON (keys sorted): a call for a run with other
    /// parameters than the run was opened with is told apart from a re-delivery.
    pub fn params_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let p = self.source.get("parameters").unwrap_or(&Value::Null);
        Sha256::digest(p.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `params_digest` without the parameters that differ between runs of one definition
    /// (ExecutionId; Mode, as a recovery resource is drilled with Mode drill; RecoverBefore,
    /// the point an incident asks for): what readiness
    /// compares with the last successful drill's to tell whether the resource changed since.
    pub fn definition_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut p = self.source.get("parameters").cloned().unwrap_or(Value::Null);
        if let Some(map) = p.as_object_mut() {
            for per_run in RUN_PARAMETERS {
                map.remove(*per_run);
            }
        }
        Sha256::digest(p.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Parameters that name a run rather than define the resource.
const RUN_PARAMETERS: &[&str] = &["ExecutionId", "Mode", "RecoverBefore"];

//! The lifecycle payload: a reference to the run's record in the ledger, with a MAC. The
//! platform hands it back to every status check; it names the run (resource, identity,
//! execution) and nothing else, so its size does not grow with the fleet, and a payload
//! edited on its way back (or made up) is refused before any call: its MAC, keyed by the
//! module configuration's `ledger.payloadKey`, does not verify.

use crate::ledger::RunKey;
use crate::secret::Secret;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub static SCHEMA: crate::schema::Schema =
    crate::schema::Schema::new(include_str!("../../../schemas/lifecycle-payload.schema.json"));
/// 3: a reference to the run ledger (2 carried the plan itself).
pub const VERSION: u32 = 3;

/// Why a payload handed back is not this module's reference to a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// Written by another release of the module.
    #[error("lifecycle_output.Payload.v: version {0} was written by another release of the module, which reads version {VERSION}; start the activation again")]
    Version(u64),
    /// Not the reference's shape (the schema names the field).
    #[error("{0:#}")]
    Shape(anyhow::Error),
    /// Its MAC does not verify: it was changed, or not written by this module's key.
    #[error("lifecycle_output.Payload.mac: the payload does not verify against the module's key: it was changed on its way back, or written by another deployment")]
    Mac,
    /// The module configuration has no key to sign or verify with.
    #[error("ledger.payloadKey: missing from the module configuration: the lifecycle payload is signed with it (32 characters or more, kept secret)")]
    NoKey,
}

/// The lifecycle payload as the platform holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunReference {
    #[serde(rename = "v")]
    pub version: u32,
    pub phase: String,
    pub resource: String,
    /// The resource's identity (`DrsResource::identity`).
    #[serde(rename = "rid")]
    pub identity: String,
    pub execution: String,
    /// HMAC-SHA256 of the fields above, base64url without padding.
    pub mac: String,
}

impl RunReference {
    pub fn new(key: Option<&Secret>, resource: &str, identity: &str, execution: &str) -> Result<RunReference, ReferenceError> {
        let mut r = RunReference {
            version: VERSION,
            phase: "activate".into(),
            resource: resource.to_owned(),
            identity: identity.to_owned(),
            execution: execution.to_owned(),
            mac: String::new(),
        };
        let mac = mac_of(key.ok_or(ReferenceError::NoKey)?, &r)?;
        r.mac = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, mac.finalize().into_bytes());
        Ok(r)
    }

    /// The payload handed back, checked: its version, its shape, then its MAC.
    pub fn parse(v: &serde_json::Value, key: Option<&Secret>) -> Result<RunReference, ReferenceError> {
        if let Some(old) = v.get("v").and_then(serde_json::Value::as_u64).filter(|n| *n != u64::from(VERSION)) {
            return Err(ReferenceError::Version(old));
        }
        SCHEMA.validate(v, "lifecycle_output.Payload").map_err(ReferenceError::Shape)?;
        let r: RunReference = serde_path_to_error::deserialize(v)
            .map_err(|e| ReferenceError::Shape(anyhow::anyhow!("lifecycle_output.Payload.{}: {}", e.path(), e.inner())))?;
        let given =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &r.mac).map_err(|_| ReferenceError::Mac)?;
        // Constant-time comparison (`verify_slice`).
        mac_of(key.ok_or(ReferenceError::NoKey)?, &r)?.verify_slice(&given).map_err(|_| ReferenceError::Mac)?;
        Ok(r)
    }

    pub fn key(&self) -> RunKey {
        RunKey::new(&self.identity, &self.execution)
    }
}

/// The MAC over the named fields, written as a JSON array so that no field can run into the
/// next one.
fn mac_of(key: &Secret, r: &RunReference) -> Result<Hmac<Sha256>, ReferenceError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).map_err(|_| ReferenceError::NoKey)?;
    let fields = serde_json::json!([r.version, r.phase, r.resource, r.identity, r.execution]);
    mac.update(fields.to_string().as_bytes());
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::new("a-payload-key-of-thirty-two-chars-at-least")
    }

    #[test]
    fn a_reference_verifies_and_any_change_to_it_does_not() {
        let r = RunReference::new(Some(&key()), "ShopStack", "0123456789abcdef", "drill-1").unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(RunReference::parse(&v, Some(&key())).unwrap(), r);
        assert!(v.to_string().len() < 200, "{v}");
        for (field, value) in [("resource", "Billing"), ("rid", "fedcba9876543210"), ("execution", "drill-2")] {
            let mut edited = v.clone();
            edited[field] = value.into();
            assert!(matches!(RunReference::parse(&edited, Some(&key())), Err(ReferenceError::Mac)), "{field}");
        }
        let other = Secret::new("another-deployments-key-of-32-chars-or-more");
        assert!(matches!(RunReference::parse(&v, Some(&other)), Err(ReferenceError::Mac)));
        let mut extra = v.clone();
        extra["mode"] = "recovery".into();
        let e = RunReference::parse(&extra, Some(&key())).unwrap_err().to_string();
        assert!(e.contains("mode"), "{e}");
        let mut old = v.clone();
        old["v"] = 2.into();
        assert!(matches!(RunReference::parse(&old, Some(&key())), Err(ReferenceError::Version(2))));
        assert!(matches!(RunReference::parse(&v, None), Err(ReferenceError::NoKey)));
        assert!(!format!("{:?}", ReferenceError::Mac).contains("thirty-two"), "the key is never printed");
    }
}

//! How native plans are named and tagged after their resource, and the client tokens that make
//! their creation idempotent. Plan and step names take `[a-zA-Z0-9][a-zA-Z0-9 _-]*` (up to 256
//! characters): any other character of a resource's or wave's name becomes `-`.

use crate::config::Partition;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The tag every native plan of a resource carries: its identity. The target role may change
/// only plans that carry it (`cloudformation/target-account.json`).
pub const RESOURCE_ID: &str = crate::recovery::tags::RESOURCE_ID;
/// The resource's name.
pub const RESOURCE: &str = crate::recovery::tags::RESOURCE;
/// What keeps the plan.
pub const MANAGED_BY: &str = "drs-orch:managed-by";
pub const MANAGED_BY_VALUE: &str = "drs-orch native sync";

const NAME_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 1024;
const TAG_VALUE_MAX: usize = 256;

/// A name within the pattern: other characters as `-`, a leading one made alphanumeric.
fn clean(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == ' ' || c == '_' || c == '-' { c } else { '-' })
        .take(max)
        .collect();
    if !out.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        out = format!("w{}", out.chars().take(max - 1).collect::<String>());
    }
    out
}

/// `drs-orch <resource>`: one name in every account and region the resource touches.
pub fn plan_name(resource: &str) -> String {
    clean(&format!("drs-orch {resource}"), NAME_MAX)
}

pub fn step_name(text: &str) -> String {
    clean(text, NAME_MAX)
}

pub fn description(resource: &str, identity: &str) -> String {
    let text = format!(
        "The waves of drs-orch resource {resource} (identity {identity}) in this account and region, one step at a time: \
         the fallback when the orchestrator cannot run. Kept by `drs-orch native sync`; an edit by hand is reported as drift \
         and undone by the next sync."
    );
    text.chars().take(DESCRIPTION_MAX).collect()
}

/// The `RESOURCE` tag's value: the resource's name, cut to what a tag value holds.
pub fn resource_tag(resource: &str) -> String {
    resource.chars().take(TAG_VALUE_MAX).collect()
}

pub fn tags(resource: &str, identity: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (RESOURCE_ID.to_owned(), identity.to_owned()),
        (RESOURCE.to_owned(), resource_tag(resource)),
        (MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned()),
    ])
}

/// A source server's ARN when discovery did not give one.
pub fn server_arn(p: &Partition, id: &str) -> String {
    format!("arn:aws:drs:{}:{}:source-server/{id}", p.region, p.account)
}

/// A client token: the same for the same request, another for any other (at most 64
/// characters).
pub fn token(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("drs-orch-{}", hex::encode(&h.finalize()[..24]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_the_models_pattern() {
        assert_eq!(plan_name("ShopStack"), "drs-orch ShopStack");
        assert_eq!(plan_name("shop/stack: prod"), "drs-orch shop-stack- prod");
        assert_eq!(step_name("pause before web"), "pause before web");
        assert_eq!(step_name("Tier=db"), "Tier-db");
        assert_eq!(step_name("_db"), "w_db");
        assert_eq!(plan_name(&"x".repeat(400)).len(), 256);
        assert!(token(&["a", "b"]).len() <= 64);
        assert_ne!(token(&["a", "b"]), token(&["ab", ""]));
    }
}

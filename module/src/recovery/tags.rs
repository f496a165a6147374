//! The tags every job of an execution carries, and the execution id. Tags are how a
//! re-delivered or crashed call finds what it already started, and how cleanup finds what a
//! drill launched even when the payload is lost.

use crate::secret::Secret;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const EXECUTION: &str = "drs-orch:execution";
pub const RESOURCE: &str = "drs-orch:resource";
/// The resource's identity beyond its name (`DrsResource::identity`).
pub const RESOURCE_ID: &str = "drs-orch:resource-id";
pub const WAVE: &str = "drs-orch:wave";
pub const WAVE_NAME: &str = "drs-orch:wave-name";
pub const MODE: &str = "drs-orch:mode";
/// The tenant's hook decisions at the wave's start (`hook:point=decision;...`).
pub const HOOKS: &str = "drs-orch:hooks";
/// How many of the wave's servers hooks left out (each also tagged `drs-orch:skipped`).
pub const SKIPPED_COUNT: &str = "drs-orch:skipped-count";

/// The execution id: the resource's `ExecutionId` when given; else derived from the parent's
/// task token (one per platform run, the same on a re-delivery); else from the event itself.
pub fn execution_id(given: Option<&str>, token: Option<&Secret>, resource: &str, event_key: &str) -> String {
    if let Some(id) = given {
        return id.to_owned();
    }
    let mut h = Sha256::new();
    h.update(resource.as_bytes());
    h.update([0]);
    match token {
        Some(t) => h.update(t.expose().as_bytes()),
        None => h.update(event_key.as_bytes()),
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", if token.is_some() { "t" } else { "e" })
}

pub fn job_tags(execution: &str, resource: &str, wave: usize, wave_name: &str, mode: &str) -> HashMap<String, String> {
    HashMap::from([
        (EXECUTION.to_owned(), execution.to_owned()),
        (RESOURCE.to_owned(), cut(resource)),
        (WAVE.to_owned(), wave.to_string()),
        (WAVE_NAME.to_owned(), cut(wave_name)),
        (MODE.to_owned(), mode.to_owned()),
    ])
}

/// Tag values hold at most 256 characters.
fn cut(s: &str) -> String {
    s.chars().take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_token_gives_the_same_execution_and_another_a_new_one() {
        let t1 = Secret::new("token-one");
        let a = execution_id(None, Some(&t1), "Web", "{}");
        assert_eq!(a, execution_id(None, Some(&t1), "Web", "{\"other\":1}"));
        assert_ne!(a, execution_id(None, Some(&Secret::new("token-two")), "Web", "{}"));
        assert_ne!(a, execution_id(None, Some(&t1), "Db", "{}"), "two resources of one run are two executions");
        assert!(!a.contains("token"), "the id does not reveal the token");
        assert_eq!(execution_id(Some("drill-42"), Some(&t1), "Web", "{}"), "drill-42");
    }
}

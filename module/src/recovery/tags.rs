//! The tags every job of an execution carries, and the execution id (the run's identity).
//! Tags are how a re-delivered or crashed call finds what it already started, and how
//! cleanup finds what a drill launched even when the payload is lost.

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

/// What tells a run's jobs apart: its execution id and its resource's identity. Two
/// resources given one `ExecutionId` are two runs, and each reads only its own jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunTags<'a> {
    pub execution: &'a str,
    pub identity: &'a str,
}

impl RunTags<'_> {
    pub fn matches(&self, t: &HashMap<String, String>) -> bool {
        t.get(EXECUTION).map(String::as_str) == Some(self.execution)
            && t.get(RESOURCE_ID).map(String::as_str) == Some(self.identity)
    }
}

/// The execution tags name, if they do.
pub fn execution_of(t: Option<&HashMap<String, String>>) -> Option<String> {
    t?.get(EXECUTION).cloned()
}

/// An activate that cannot tell which run it is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityError {
    /// No task token, no `ExecutionId` and no caller's `RunId`.
    #[error(
        "RunId: missing: an activate without a TaskToken needs a run identity: the caller's RunId \
         (the standalone state machine passes $$.Execution.Id) or StatePayload.parameters.ExecutionId; \
         one derived from the event would take a later run of the same input for this one"
    )]
    Missing,
}

/// The execution id, first found of:
/// - the resource's `ExecutionId`, as given (an activate refuses one that already ended);
/// - the parent's task token, hashed (one per platform run, the same on a re-delivery);
/// - the caller's `RunId` (the standalone state machine's execution), hashed.
///
/// With none of them the activate is refused rather than given a fresh random identity: a
/// re-delivered activate (Lambda's retry after a crash past StartRecovery) would then be a
/// second run that cannot see the first one's jobs and launches its servers again once they
/// are free; and an identity derived from the event is what made a drill's input sent again
/// next month adopt the old run and answer "done" having done nothing. Only the caller
/// knows whether two deliveries are one run.
pub fn execution_id(
    given: Option<&str>,
    token: Option<&Secret>,
    run_id: Option<&str>,
    resource: &str,
) -> Result<String, IdentityError> {
    if let Some(id) = given {
        return Ok(id.to_owned());
    }
    let (kind, secret) = match (token, run_id) {
        (Some(t), _) => ("t", t.expose()),
        (None, Some(r)) => ("r", r),
        (None, None) => return Err(IdentityError::Missing),
    };
    let mut h = Sha256::new();
    h.update(resource.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    let digest = h.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(format!("{kind}-{hex}"))
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
        let a = execution_id(None, Some(&t1), None, "Web").unwrap();
        assert_eq!(a, execution_id(None, Some(&t1), Some("run-9"), "Web").unwrap(), "the token wins over a RunId");
        assert_ne!(a, execution_id(None, Some(&Secret::new("token-two")), None, "Web").unwrap());
        assert_ne!(a, execution_id(None, Some(&t1), None, "Db").unwrap(), "two resources of one run are two executions");
        assert!(!a.contains("token"), "the id does not reveal the token");
        assert_eq!(execution_id(Some("drill-42"), Some(&t1), None, "Web").unwrap(), "drill-42");
    }

    #[test]
    fn a_token_less_run_is_the_callers_run_or_refused() {
        let arn = "arn:aws:states:us-east-1:1:execution:drs-orch-standalone:a1";
        let a = execution_id(None, None, Some(arn), "Web").unwrap();
        assert_eq!(a, execution_id(None, None, Some(arn), "Web").unwrap(), "a re-delivery is the same run");
        assert_ne!(a, execution_id(None, None, Some("arn:...:a2"), "Web").unwrap(), "another execution, another run");
        assert!(a.starts_with("r-") && a.len() == 18, "{a}: short enough for approval names and tags");
        assert_eq!(execution_id(None, None, None, "Web"), Err(IdentityError::Missing));
        assert!(IdentityError::Missing.to_string().starts_with("RunId: missing"));
    }
}

//! Readiness verdicts and their reasons, typed by what was checked: a reader (the table, the
//! metrics, an alarm) decides on the kind and the verdict, never on the text.

use serde::Serialize;

/// How ready something is, worst last: the worst of its reasons is its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Every check passed.
    Ready,
    /// Nothing is known to fail, but readiness is unproven: never drilled, drilled too long
    /// ago, changed since its last drill, a check that could not be made.
    NeedsVerification,
    /// A recovery now would fail or miss its objective.
    NotReady,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "READY",
            Verdict::NeedsVerification => "NEEDS VERIFICATION",
            Verdict::NotReady => "NOT READY",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a reason is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Check {
    /// The server's DRS replication state.
    Replication,
    /// Replication lag against the resource's TargetRpoMinutes.
    Lag,
    /// An account x region's trust and permission probes.
    Permissions,
    /// Discovery of an account x region: its servers are unknown.
    Discovery,
    /// The run ledger (where a run opens, and where drills are looked up).
    Ledger,
    /// The selection and the waves (misses, conflicts, servers not ready, parameters).
    Selection,
    /// A server's launch configuration (unreadable, no launch template, starts stopped).
    LaunchSettings,
    /// Drift from the resource's LaunchSettings.
    LaunchDrift,
    /// Quota headroom for the plan's jobs.
    Quota,
    /// The target subnet and security groups.
    Network,
    /// The last successful drill: none, or too old.
    Drill,
    /// The resource changed since its last successful drill.
    Changed,
    /// Selection tags on the source EC2 instance only, not on the DRS source server.
    Tags,
}

/// One reason: what was checked, the verdict it gives, where (`account/region`, a server),
/// and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    pub check: Check,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub message: String,
}

impl Reason {
    pub fn new(check: Check, verdict: Verdict, message: impl Into<String>) -> Reason {
        Reason { check, verdict, at: None, message: message.into() }
    }

    pub fn at(check: Check, verdict: Verdict, at: impl ToString, message: impl Into<String>) -> Reason {
        Reason { check, verdict, at: Some(at.to_string()), message: message.into() }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{}: {at}: {}", self.verdict, self.message),
            None => write!(f, "{}: {}", self.verdict, self.message),
        }
    }
}

/// The worst verdict of `reasons`, READY when there is none.
pub fn worst<'a>(reasons: impl IntoIterator<Item = &'a Reason>) -> Verdict {
    reasons.into_iter().map(|r| r.verdict).max().unwrap_or(Verdict::Ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_reason_decides_and_none_is_ready() {
        assert_eq!(worst([]), Verdict::Ready);
        let r = [
            Reason::new(Check::Drill, Verdict::NeedsVerification, "never drilled"),
            Reason::at(Check::Replication, Verdict::NotReady, "db-01", "STALLED"),
        ];
        assert_eq!(worst(&r), Verdict::NotReady);
        assert_eq!(r[1].to_string(), "NOT READY: db-01: STALLED");
        assert_eq!(serde_json::to_value(Verdict::NeedsVerification).unwrap(), "NEEDS_VERIFICATION");
    }
}

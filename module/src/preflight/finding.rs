//! What a preflight found, typed by what it concerns: whether a finding blocks or warns, and
//! what a reader filters on (a dashboard, the readiness schedule), is read from its kind,
//! never from its text.

use serde::Serialize;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Concern {
    /// An account x region's probes: trust, permissions, quotas.
    Partition,
    /// A region where DRS is not initialized: it holds no source server.
    DrsNotInitialized,
    /// Discovery could not read an account x region: its servers are missing from the plan.
    Discovery,
    /// The run ledger or the key that signs the lifecycle payload.
    Ledger,
    /// A resource parameter the schema does not know, let through (`unknownParameters: warn`).
    Parameters,
    /// The selection: a miss, a conflict, a server not ready, as the resource's policy says.
    Selection,
    /// The waves cannot be planned.
    Waves,
    /// A server's launch configuration: unreadable, no launch template, launching stopped.
    LaunchSettings,
    /// Drift from the resource's LaunchSettings.
    LaunchDrift,
    /// LaunchSettings.Servers: a key that names no server of the group or several, a static
    /// private address that cannot be had (outside its subnet, reserved, given twice, taken).
    LaunchServers,
}

/// One finding: what it concerns, where (an `account/region`, a server), and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub concern: Concern,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub message: String,
}

impl Finding {
    pub fn new(concern: Concern, message: impl Into<String>) -> Finding {
        Finding { concern, at: None, message: message.into() }
    }

    pub fn at(concern: Concern, at: impl ToString, message: impl Into<String>) -> Finding {
        Finding { concern, at: Some(at.to_string()), message: message.into() }
    }
}

/// `<at>: <message>`, one line, as the platform's failure cause lists them.
impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What a server's launch configuration shows, when it is worth saying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "issue", content = "detail")]
pub enum LaunchIssue {
    /// It could not be read (the error).
    Unreadable(String),
    /// No EC2 launch template: DRS has nothing to launch from.
    NoTemplate,
    /// launchDisposition STOPPED: the recovery instance will not start.
    StartsStopped,
}

impl LaunchIssue {
    /// Whether it stops a recovery (else it is a warning).
    pub fn blocks(&self) -> bool {
        !matches!(self, LaunchIssue::StartsStopped)
    }
}

impl std::fmt::Display for LaunchIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchIssue::Unreadable(e) => f.write_str(e),
            LaunchIssue::NoTemplate => f.write_str("no EC2 launch template: DRS has nothing to launch from"),
            LaunchIssue::StartsStopped => f.write_str("launchDisposition is STOPPED: the recovery instance will not start"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_reads_as_one_line_and_serializes_its_kind() {
        let f = Finding::at(Concern::LaunchSettings, "200000000001/us-east-1:db-03", LaunchIssue::StartsStopped.to_string());
        assert_eq!(
            f.to_string(),
            "200000000001/us-east-1:db-03: launchDisposition is STOPPED: the recovery instance will not start"
        );
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["concern"], "launchSettings");
        assert_eq!(Finding::new(Concern::Ledger, "no key").to_string(), "no key");
        assert!(!LaunchIssue::StartsStopped.blocks() && LaunchIssue::NoTemplate.blocks());
    }
}

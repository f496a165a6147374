//! What the group's selection left out of a run, and why, as activate found it: servers not
//! ready under `onNotReady: skip`, HostNames entries or Tags that selected nothing under a
//! miss policy that lets the run go on, conflicts under `warn`, and servers a real recovery
//! leaves to an earlier one, servers without a recovery snapshot before RecoverBefore under
//! `onNotReady: skip`. Kept in the run's plan, so the run's report names every server
//! of the group, including those that never reached a wave (hook skips and servers given up
//! are the ledger's, read with the record).

use crate::selection::{Conflict, Resolution};
use serde::{Deserialize, Serialize};

/// Why something was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeftOutKind {
    /// Its replication is not CONTINUOUS (or lags past maxLagSeconds), under `onNotReady: skip`.
    NotReady,
    /// A HostNames entry or the Tags selected nothing, under `onMiss: warn` or `skip`.
    Miss,
    /// An entry matched several servers, or a server was claimed by another resource, under `onConflict: warn`.
    Conflict,
    /// It already runs as a recovery instance of an earlier real recovery.
    Recovered,
    /// A hook left it out of its wave.
    HookSkip,
    /// It stayed busy in another run's job past busyWaitMinutes.
    GivenUp,
    /// It has no recovery snapshot before RecoverBefore, under `onNotReady: skip`.
    NoRecoveryPoint,
}

impl LeftOutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LeftOutKind::NotReady => "not-ready",
            LeftOutKind::Miss => "miss",
            LeftOutKind::Conflict => "conflict",
            LeftOutKind::Recovered => "recovered",
            LeftOutKind::HookSkip => "hook-skip",
            LeftOutKind::GivenUp => "given-up",
            LeftOutKind::NoRecoveryPoint => "no-recovery-point",
        }
    }
}

/// One thing left out: a server (id, hostname, `account/region`) or a selection entry, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftOut {
    pub kind: LeftOutKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// The selection entry (`HostNames[2] 'web-99'`, `Tags`) for a miss or an ambiguous entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    pub reason: String,
}

/// What a resolution that let the run go on left out (a blocked one fails activation, naming
/// them in its error).
pub fn of_resolution(r: &Resolution, skipped_not_ready: bool) -> Vec<LeftOut> {
    let mut out = vec![];
    if skipped_not_ready {
        out.extend(r.not_ready.iter().map(|n| LeftOut {
            kind: LeftOutKind::NotReady,
            source_server_id: Some(n.server.source_server_id.clone()),
            hostname: Some(n.server.hostname.clone()),
            partition: Some(format!("{}/{}", n.server.account, n.server.region)),
            entry: None,
            reason: n.reason.clone(),
        }));
    }
    out.extend(r.misses.iter().map(|m| LeftOut {
        kind: LeftOutKind::Miss,
        source_server_id: None,
        hostname: None,
        partition: None,
        entry: Some(m.entry.clone()),
        reason: m.reason.clone(),
    }));
    for c in &r.conflicts {
        out.push(match c {
            Conflict::Ambiguous { entry, servers } => LeftOut {
                kind: LeftOutKind::Conflict,
                source_server_id: None,
                hostname: None,
                partition: None,
                entry: Some(entry.clone()),
                reason: format!(
                    "matches {} servers ({}); all of them are in the group",
                    servers.len(),
                    servers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
            },
            Conflict::Claimed { server, resources } => LeftOut {
                kind: LeftOutKind::Conflict,
                source_server_id: Some(server.source_server_id.clone()),
                hostname: Some(server.hostname.clone()),
                partition: Some(format!("{}/{}", server.account, server.region)),
                entry: None,
                reason: format!("selected by {} in one layer; left to {}", resources.join(" and "), resources[0]),
            },
        });
    }
    out
}

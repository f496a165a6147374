//! The report of a run: per resource, its waves on a timeline with per-server recovery
//! times (StartRecovery to LAUNCHED), failures with reasons, hook decisions, what the
//! selection left out and why, and the accounts and regions touched; every time on the run's
//! clock, stated. `collect.rs` reads it back from AWS at the end of a run, `from_ledger.rs`
//! adds the run's record; `build.rs` turns it into one document (`view.rs`) that
//! `markdown.rs` and `html.rs` render (the JSON is the structs below, serialized);
//! `publish.rs` writes it to the reports bucket (`store.rs`) when the run and its cleanup end.

mod achieved;
mod build;
pub mod collect;
mod evidence;
mod figures;
#[cfg(test)]
mod fixtures;
pub mod from_ledger;
pub mod html;
pub mod markdown;
pub mod publish;
pub mod store;
mod timeline;
mod view;

use crate::error::ErrorCode;
pub use crate::ledger::{Approval, Decision};
pub use crate::objectives::Objectives;
pub use crate::recovery::left_out::{LeftOut, LeftOutKind};
use crate::recovery::observe::LaunchStatus;
pub use crate::recovery::progress::{HookDecision, WaveState};
use crate::resource::Mode;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// The manifest (or event) the run came from.
    pub source: String,
    pub mode: Mode,
    /// The run's start and end on the run's clock (the ledger's record: the module's clock,
    /// the simulator's under it), never the wall time of whoever printed the report.
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// Which clock every time of the report is on, stated for the reader.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub clock: String,
    /// succeeded, or the error code of the first failure.
    pub outcome: Verdict,
    /// The phase that failed after activation (cleanup), when that was the first failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_phase: Option<String>,
    pub resources: Vec<ResourceReport>,
    /// Phases after activation (cleanup, replicate) and what they did.
    pub phases: Vec<PhaseReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReport {
    pub layer: u64,
    pub resource: String,
    pub execution: String,
    /// succeeded, or the error code (WaveFailed, ApprovalRejected, Timeout...).
    pub outcome: Verdict,
    pub error: Option<String>,
    /// "account/region" touched by the resource's jobs.
    pub partitions: Vec<String>,
    pub waves: Vec<WaveReport>,
    /// Servers and selection entries of the group that no wave ran, with why (not ready,
    /// misses, conflicts, already recovered; hook skips and given-up servers also show in
    /// their wave).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    /// RTO and RPO achieved, against the objectives (`objectives/`), with the critical path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<Objectives>,
    /// `RecoverBefore`, when the run recovered a point in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recover_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    /// 1 for the first wave.
    pub index: usize,
    pub name: String,
    /// waiting: never started.
    pub state: WaveState,
    /// The waves it waited for (its DependsOn as the run's plan resolved it): none for a wave
    /// that started with the run, so branches of the graph read apart.
    #[serde(default)]
    pub after: Vec<String>,
    /// First StartRecovery and last job end (service time).
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub duration_s: Option<f64>,
    pub servers: Vec<ServerReport>,
    pub hook_decisions: Vec<HookDecision>,
    /// The components that decided at the wave's boundary: hook name -> SHA-256 of its
    /// component, as the run's record holds its crossing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub components: BTreeMap<String, String>,
    /// Who answered the wave's approval gate and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// Why the wave waited (approval, quotas).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerReport {
    pub source_server_id: String,
    pub hostname: Option<String>,
    pub partition: String,
    pub job_id: Option<String>,
    pub status: ServerState,
    /// StartRecovery (the job's creation) and the recovery instance's launch.
    pub started: Option<DateTime<Utc>>,
    pub launched: Option<DateTime<Utc>>,
    pub recovery_s: Option<f64>,
    pub recovery_instance_id: Option<String>,
    pub reason: Option<String>,
    /// The point in time of the data it launched (the recovery instance's
    /// pointInTimeSnapshotDateTime), and its age at the run's start (its RPO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_s: Option<f64>,
    /// The recovery snapshot it launched (point-in-time runs); None: its latest data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_point: Option<crate::pitr::RecoveryPoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseReport {
    pub resource: String,
    pub phase: String,
    pub outcome: Verdict,
    pub detail: serde_json::Value,
    /// When the phase ended (its last check), on the run's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<DateTime<Utc>>,
}

/// How a resource, a phase or the run ended: `succeeded`, or the error code, as one string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Succeeded,
    Failed(ErrorCode),
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Succeeded => "succeeded",
            Verdict::Failed(code) => code.as_str(),
        }
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Verdict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == "succeeded" {
            return Ok(Verdict::Succeeded);
        }
        ErrorCode::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(&text)).map(Verdict::Failed)
    }
}

/// Where a server of the wave ended: its launch status in its job, or never in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServerState {
    Pending,
    InProgress,
    Launched,
    Failed,
    Terminated,
    /// In no job: its wave never reached it.
    NotStarted,
    /// Left out by a hook.
    Skipped,
}

impl ServerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerState::Pending => "PENDING",
            ServerState::InProgress => "IN_PROGRESS",
            ServerState::Launched => "LAUNCHED",
            ServerState::Failed => "FAILED",
            ServerState::Terminated => "TERMINATED",
            ServerState::NotStarted => "NOT_STARTED",
            ServerState::Skipped => "SKIPPED",
        }
    }
}

impl From<LaunchStatus> for ServerState {
    fn from(s: LaunchStatus) -> ServerState {
        match s {
            LaunchStatus::Pending => ServerState::Pending,
            LaunchStatus::InProgress => ServerState::InProgress,
            LaunchStatus::Launched => ServerState::Launched,
            LaunchStatus::Failed => ServerState::Failed,
            LaunchStatus::Terminated => ServerState::Terminated,
        }
    }
}

impl RunReport {
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl RunReport {
    /// The run's outcome as the report prints it: `succeeded`, `failed: WaveFailed`,
    /// `failed: cleanup CleanupFailed`.
    pub fn outcome_text(&self) -> String {
        match (self.outcome, &self.failed_phase) {
            (Verdict::Succeeded, _) => "succeeded".into(),
            (Verdict::Failed(code), Some(phase)) => format!("failed: {phase} {code}"),
            (Verdict::Failed(code), None) => format!("failed: {code}"),
        }
    }
}

/// Seconds from `a` to `b`.
pub fn seconds_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}

/// A time as the report prints it: RFC 3339 in UTC, with the fraction DRS gave if any.
pub(crate) fn when(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

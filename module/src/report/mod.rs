//! The report of a run: per resource, its waves on a timeline with per-server recovery
//! times (StartRecovery to LAUNCHED), failures with reasons, hook decisions, and the
//! accounts and regions touched. `collect.rs` reads it back from AWS at the end of a run;
//! `build.rs` turns it into one document (`view.rs`) that `markdown.rs` and `html.rs` render
//! (the JSON is the structs below, serialized).

mod build;
pub mod collect;
mod figures;
#[cfg(test)]
mod fixtures;
pub mod html;
pub mod markdown;
mod timeline;
mod view;

pub use crate::recovery::progress::HookDecision;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// The manifest (or event) the run came from.
    pub source: String,
    /// drill or recovery.
    pub mode: String,
    /// Wall-clock start and end of the run (RFC 3339).
    pub started: String,
    pub ended: String,
    /// succeeded, or failed with the error code.
    pub outcome: String,
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
    pub outcome: String,
    pub error: Option<String>,
    /// "account/region" touched by the resource's jobs.
    pub partitions: Vec<String>,
    pub waves: Vec<WaveReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    /// 1 for the first wave.
    pub index: usize,
    pub name: String,
    /// completed, failed, running, paused, waiting (never started).
    pub state: String,
    /// First StartRecovery and last job end (service time, RFC 3339).
    pub started: Option<String>,
    pub ended: Option<String>,
    pub duration_s: Option<f64>,
    pub servers: Vec<ServerReport>,
    pub hook_decisions: Vec<HookDecision>,
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
    /// LAUNCHED, FAILED, IN_PROGRESS, PENDING, NOT_STARTED.
    pub status: String,
    /// StartRecovery (the job's creation) and the recovery instance's launch.
    pub started: Option<String>,
    pub launched: Option<String>,
    pub recovery_s: Option<f64>,
    pub recovery_instance_id: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseReport {
    pub resource: String,
    pub phase: String,
    pub outcome: String,
    pub detail: serde_json::Value,
}

impl RunReport {
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Seconds between two RFC 3339 times.
pub fn seconds_between(a: &str, b: &str) -> Option<f64> {
    let a = chrono::DateTime::parse_from_rfc3339(a).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(b).ok()?;
    Some((b - a).num_milliseconds() as f64 / 1000.0)
}

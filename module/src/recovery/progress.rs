//! Where an activation stands, as one status check finds it: each wave's state and counts,
//! its failures with reasons, what hooks decided, and the run's outcome. Shared by the check
//! (`status.rs`, `wave.rs`), the hook boundary, metrics and the report, so it sits below them.

use super::payload::Payload;
use crate::error::ErrorCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaveState {
    Waiting,
    Paused,
    Running,
    Completed,
    Failed,
}

impl WaveState {
    pub fn as_str(self) -> &'static str {
        match self {
            WaveState::Waiting => "waiting",
            WaveState::Paused => "paused",
            WaveState::Running => "running",
            WaveState::Completed => "completed",
            WaveState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for WaveState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFailure {
    pub source_server_id: String,
    pub hostname: Option<String>,
    pub partition: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveProgress {
    pub name: String,
    pub state: WaveState,
    pub servers: usize,
    pub launched: usize,
    pub failed: usize,
    pub jobs: Vec<String>,
    /// The first job's creation and the last job's end (service time).
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    /// Servers of running jobs by their latest job-log step (SNAPSHOT_START, LAUNCH_START...).
    pub steps: BTreeMap<String, usize>,
    pub failures: Vec<ServerFailure>,
    /// Why the wave is not moving: an approval, quotas, another active job, a hook's delay.
    pub waiting_for: Vec<String>,
    /// The approval execution a paused wave waits on.
    #[serde(default)]
    pub approval: Option<String>,
    /// Servers a hook left out of the wave.
    #[serde(default)]
    pub skipped: usize,
    /// What the tenant's hooks answered at this check (after-wave of the waves it depends on
    /// and before-wave of this one; for the waves nothing depends on, their after-wave at the end).
    #[serde(default)]
    pub hook_decisions: Vec<HookDecision>,
    /// The waves this one waits for (names): waves form a graph.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Outcome {
    Running,
    Done,
    Failed { code: ErrorCode, message: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub execution: String,
    pub resource: String,
    pub outcome: Outcome,
    pub waves: Vec<WaveProgress>,
    /// Jobs this check started.
    pub started_jobs: Vec<String>,
    /// Accounts x regions this check could not read (after the SDK's retries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<super::outage::Unreachable>,
    /// What the check could not record and retries next time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Status {
    /// The summary sent with SendTaskSuccess (or as the status check's detail).
    pub fn summary(&self, payload: &Payload) -> serde_json::Value {
        let mut summary = serde_json::json!({
            "execution": self.execution, "resource": self.resource, "mode": payload.mode,
            "outcome": self.outcome,
            "unreachable": self.unreachable,
            "servers": payload.server_count(),
            "recoveredEarlier": payload.recovered.len(),
            "warnings": self.warnings,
            "launched": self.waves.iter().map(|w| w.launched).sum::<usize>(),
            "failed": self.waves.iter().map(|w| w.failed).sum::<usize>(),
            "waves": self.waves.iter().map(|w| serde_json::json!({
                "name": w.name, "state": w.state, "servers": w.servers, "launched": w.launched, "failed": w.failed,
                "skipped": w.skipped, "jobs": w.jobs, "started": w.started, "ended": w.ended, "failures": w.failures,
                "hookDecisions": w.hook_decisions, "dependsOn": w.after})).collect::<Vec<_>>(),
        });
        // A point-in-time run: each server's recovered point.
        if let (Some(points), Some(m)) = (super::points::summary(payload), summary.as_object_mut()) {
            m.insert("recoveryPoints".into(), points);
        }
        summary
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookDecision {
    pub hook: String,
    /// before-wave or after-wave.
    pub point: String,
    pub decision: String,
    pub detail: Option<String>,
}

impl WaveProgress {
    /// A wave the check has not reached (or that waits behind an earlier one).
    pub fn waiting(name: &str, servers: usize) -> WaveProgress {
        WaveProgress {
            name: name.to_owned(),
            state: WaveState::Waiting,
            servers,
            launched: 0,
            failed: 0,
            jobs: vec![],
            started: None,
            ended: None,
            steps: BTreeMap::new(),
            failures: vec![],
            waiting_for: vec![],
            approval: None,
            skipped: 0,
            hook_decisions: vec![],
            after: vec![],
        }
    }
}

//! What a run achieved against its objectives: the RTO (from the run's start to each wave's
//! end and to the resource's end, with the critical path that set it) and the RPO (per
//! server, the age of the point-in-time snapshot it launched), each judged against its
//! target (`TargetRtoMinutes`, `TargetRpoMinutes`: the wave's own, else the resource's).
//! Every time is on the run's clock: its start as the ledger recorded it, job and launch
//! times as DRS and EC2 gave them, never the wall time of whoever reads the result. The
//! report computes it (`report/collect.rs` gathers the inputs); the summary sent to the
//! parent and the EMF metrics take it from the report.

mod measure;
mod path;

pub use measure::{measure, rpo_seconds, waits_for, RunTimes, ServerRun, WaveRun};
pub use path::critical_path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How an achieved figure stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Judgement {
    /// Within the target.
    Met,
    /// Over the target, or what it measures never happened (a wave that did not complete).
    Missed,
    /// No target was set: the figure is reported, not judged.
    NoTarget,
    /// A target was set but there is nothing to measure yet, or nothing was read (`why` says).
    Unmeasured,
}

impl Judgement {
    pub fn as_str(self) -> &'static str {
        match self {
            Judgement::Met => "met",
            Judgement::Missed => "missed",
            Judgement::NoTarget => "no target",
            Judgement::Unmeasured => "unmeasured",
        }
    }
}

/// One objective: its target, what was achieved, the verdict and, when it is not a plain
/// comparison, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Objective {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved_seconds: Option<f64>,
    pub verdict: Judgement,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Objective {
    pub fn missed(&self) -> bool {
        self.verdict == Judgement::Missed
    }
}

/// A wave's objectives: RTO to its end, RPO over its launched servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveObjectives {
    /// 1 for the first wave.
    pub index: usize,
    pub name: String,
    pub rto: Objective,
    pub rpo: Objective,
    /// The server whose data was oldest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_data: Option<String>,
}

/// One wave of the critical path and the server whose launch ended it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathStep {
    /// 1 for the first wave.
    pub wave: usize,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<DateTime<Utc>>,
    pub ended: DateTime<Utc>,
    /// The wave's last server to launch, its job and when it launched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched: Option<DateTime<Utc>>,
}

/// A resource's objectives in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Objectives {
    /// The run's start (its activation, as the ledger recorded it): what RTO and RPO are
    /// measured from.
    pub measured_from: DateTime<Utc>,
    /// From the run's start to its last wave's end.
    pub rto: Objective,
    /// The oldest data of any launched server; missed when any wave's RPO is.
    pub rpo: Objective,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_data: Option<String>,
    pub waves: Vec<WaveObjectives>,
    /// The waves that set the end, first to last, following what each waited for back from
    /// the wave that ended last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub critical_path: Vec<PathStep>,
}

impl Objectives {
    /// Any RTO objective missed: the resource's or a wave's.
    pub fn rto_missed(&self) -> bool {
        self.rto.missed() || self.waves.iter().any(|w| w.rto.missed())
    }

    /// Any RPO objective missed.
    pub fn rpo_missed(&self) -> bool {
        self.rpo.missed() || self.waves.iter().any(|w| w.rpo.missed())
    }

    /// Whether any objective is set at all (the resource's or a wave's).
    pub fn has_targets(&self) -> bool {
        let set = |o: &Objective| o.target_minutes.is_some();
        set(&self.rto) || set(&self.rpo) || self.waves.iter().any(|w| set(&w.rto) || set(&w.rpo))
    }
}

/// The objectives as the summary sent to the parent gives them: the whole judgement, and
/// whether any RTO or RPO objective (the resource's or a wave's) was missed.
pub fn summary(o: &Objectives) -> serde_json::Value {
    let mut v = serde_json::to_value(o).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("rtoMissed".into(), o.rto_missed().into());
        m.insert("rpoMissed".into(), o.rpo_missed().into());
    }
    v
}

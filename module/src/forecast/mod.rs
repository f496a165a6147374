//! How long a run will take, before it runs: each resource's planned waves played forward
//! within the quotas (`model.rs`), a job lasting as long as the last past job that launched
//! its slowest server (`history.rs`, the DRS job history of the last `historyDays`) or
//! `defaultJobMinutes` for a server none launched, waves seen done one poll interval apart
//! (`pollSeconds`). Approval gates are counted, not timed. A manifest takes its layers in
//! turn, each as long as its longest resource (the platform runs a layer's resources
//! together).

pub mod history;
pub mod model;

use crate::config::{ForecastConfig, Partition, Quotas};
use crate::plan::{Plan, ResourcePlan};
use crate::resource::DrsResource;
use history::History;
use model::WaveInput;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    pub layer: u64,
    pub resource_name: String,
    /// Seconds from activation to the run's end, approvals not counted; None with `error`.
    pub run_seconds: Option<f64>,
    pub poll_seconds: u64,
    pub waves: Vec<WaveForecast>,
    /// Servers whose job duration comes from a past launch, and from the default.
    pub from_history: usize,
    pub defaulted: usize,
    /// Approval gates the run waits at: their time is not in the figure.
    pub gates: usize,
    /// Partitions whose job history could not be read (their servers take the default).
    pub unread: Vec<String>,
    /// Why there is no figure (a wave whose jobs never fit the quotas).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveForecast {
    pub name: String,
    pub start_seconds: f64,
    pub seconds: f64,
    pub gated: bool,
}

/// What the forecast assumes, from the configuration (a CLI flag may set the poll).
#[derive(Debug, Clone, Copy)]
pub struct Assumptions {
    pub poll_seconds: u64,
    pub default_job_seconds: f64,
    pub history_days: u64,
}

impl From<&ForecastConfig> for Assumptions {
    fn from(c: &ForecastConfig) -> Self {
        Self {
            poll_seconds: c.poll_seconds.max(1),
            default_job_seconds: (c.default_job_minutes * 60) as f64,
            history_days: c.history_days,
        }
    }
}

/// The forecast of every resource of `plan` (`resources` in the plan's order), the job
/// history read once for all their partitions.
pub async fn of_plan(clients: &crate::aws::Clients, plan: &Plan, resources: &[&DrsResource], a: Assumptions) -> Vec<Forecast> {
    let partitions: BTreeSet<Partition> = plan
        .resources
        .iter()
        .flat_map(|r| r.waves.iter().flat_map(|w| w.jobs.iter()))
        .map(|j| Partition { account: j.account.clone(), region: j.region.clone() })
        .collect();
    let partitions: Vec<Partition> = partitions.into_iter().collect();
    let from = clients.now() - chrono::Duration::days(a.history_days as i64);
    let past = history::read(clients, &partitions, from).await;
    plan.resources.iter().zip(resources).map(|(r, res)| resource(r, res, &past, &clients.config().quotas, a)).collect()
}

/// One resource's forecast from its plan and the history.
pub fn resource(plan: &ResourcePlan, res: &DrsResource, past: &History, q: &Quotas, a: Assumptions) -> Forecast {
    let waves: Vec<WaveInput> = plan
        .waves
        .iter()
        .map(|w| {
            let mut partitions: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for j in &w.jobs {
                partitions.entry(format!("{}/{}", j.account, j.region)).or_default().extend(j.source_server_ids.iter().cloned());
            }
            let after = w.depends_on.iter().filter_map(|d| plan.waves.iter().position(|x| x.name == *d)).collect();
            WaveInput { name: w.name.clone(), partitions, after }
        })
        .collect();
    let servers: Vec<&String> = waves.iter().flat_map(|w| w.partitions.values().flatten()).collect();
    let from_history = servers.iter().filter(|s| past.servers.contains_key(s.as_str())).count();
    let ours: BTreeSet<Partition> = plan
        .waves
        .iter()
        .flat_map(|w| w.jobs.iter())
        .map(|j| Partition { account: j.account.clone(), region: j.region.clone() })
        .collect();
    let seconds = |ids: &[String]| {
        ids.iter().map(|id| past.servers.get(id).map_or(a.default_job_seconds, |p| p.seconds)).fold(0.0, f64::max)
    };
    let mut f = Forecast {
        layer: plan.layer,
        resource_name: plan.resource_name.clone(),
        run_seconds: None,
        poll_seconds: a.poll_seconds,
        waves: vec![],
        from_history,
        defaulted: servers.len() - from_history,
        gates: 0,
        unread: past.unread.iter().filter(|(p, _)| ours.contains(p)).map(|(p, e)| format!("{p}: {e}")).collect(),
        error: plan.error.clone(),
    };
    if f.error.is_some() {
        return f;
    }
    match model::play(&waves, q, a.poll_seconds as f64, &seconds) {
        Ok(spans) => {
            f.waves = waves
                .iter()
                .zip(spans)
                .map(|(w, s)| WaveForecast {
                    name: w.name.clone(),
                    start_seconds: s.start,
                    seconds: s.end - s.start,
                    gated: res.recovery.wave(&w.name).pause.is_some(),
                })
                .collect();
            f.gates = f.waves.iter().filter(|w| w.gated).count();
            f.run_seconds = Some(f.waves.iter().map(|w| w.start_seconds + w.seconds).fold(0.0, f64::max));
        }
        Err(e) => f.error = Some(e.to_string()),
    }
    f
}

/// A manifest's forecast: its layers in turn, each as long as its longest resource. None when
/// a resource has no figure.
pub fn manifest_seconds(forecasts: &[Forecast]) -> Option<f64> {
    let mut by_layer: BTreeMap<u64, f64> = BTreeMap::new();
    for f in forecasts {
        let e = by_layer.entry(f.layer).or_default();
        *e = e.max(f.run_seconds?);
    }
    Some(by_layer.values().sum())
}

/// "1h 02m 05s".
pub fn hms(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, s) => format!("{h}h {m:02}m {s:02}s"),
    }
}

impl Forecast {
    /// Lines for the plan's text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let basis = format!(
            "{} servers from past launches, {} at the default; checks {} s apart",
            self.from_history, self.defaulted, self.poll_seconds
        );
        match (self.run_seconds, &self.error) {
            (Some(s), _) => {
                let gates = match self.gates {
                    0 => String::new(),
                    n => format!(", plus the wait at {n} approval gate(s)"),
                };
                let _ = writeln!(out, "  forecast {}: {}{gates} ({basis})", self.resource_name, hms(s));
                for w in &self.waves {
                    let _ = writeln!(out, "    wave {}: {} from {}", w.name, hms(w.seconds), hms(w.start_seconds));
                }
            }
            (None, Some(e)) => {
                let _ = writeln!(out, "  forecast {}: none: {e}", self.resource_name);
            }
            (None, None) => {}
        }
        for u in &self.unread {
            let _ = writeln!(out, "    history unread (default used) {u}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(layer: u64, s: f64) -> Forecast {
        Forecast {
            layer,
            resource_name: format!("r{layer}"),
            run_seconds: Some(s),
            poll_seconds: 30,
            waves: vec![],
            from_history: 0,
            defaulted: 0,
            gates: 0,
            unread: vec![],
            error: None,
        }
    }

    #[test]
    fn a_manifest_takes_its_layers_in_turn_each_as_long_as_its_longest_resource() {
        assert_eq!(manifest_seconds(&[f(1, 100.0), f(1, 300.0), f(2, 50.0)]), Some(350.0));
        let mut none = f(2, 0.0);
        none.run_seconds = None;
        assert_eq!(manifest_seconds(&[f(1, 100.0), none]), None);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(hms(5.0), "5s");
        assert_eq!(hms(125.0), "2m 05s");
        assert_eq!(hms(3725.0), "1h 02m 05s");
    }
}

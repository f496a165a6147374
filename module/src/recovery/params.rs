//! The recovery part of a DRS resource's `parameters`: drill or recovery, the execution id,
//! pauses, failure policies and the timeout. Errors name the field; the schema
//! (`schemas/drs-resource.schema.json`) is the contract.

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// StartRecovery with isDrill: recovery instances to test and then terminate.
    Drill,
    /// A real failover.
    Recovery,
}

impl Mode {
    /// As written in parameters, tags and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Drill => "drill",
            Mode::Recovery => "recovery",
        }
    }
}

/// What launch failures in a wave do.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum FailurePolicy {
    /// The first failed server fails the execution: nothing more is started.
    FailFast,
    /// The wave completes; more failed servers than the threshold fail the execution.
    Threshold {
        #[serde(default, skip_serializing_if = "Option::is_none", rename = "maxFailed")]
        max_failed: Option<usize>,
        #[serde(default, skip_serializing_if = "Option::is_none", rename = "maxFailedPercent")]
        max_failed_percent: Option<f64>,
    },
    /// Failures are recorded; the next wave starts anyway.
    Continue,
}

impl Default for FailurePolicy {
    /// Any failed server fails the execution once its wave has completed.
    fn default() -> Self {
        FailurePolicy::Threshold { max_failed: Some(0), max_failed_percent: None }
    }
}

impl FailurePolicy {
    /// True when `failed` of `total` servers break the policy.
    pub fn broken(&self, failed: usize, total: usize) -> bool {
        match *self {
            FailurePolicy::FailFast => failed > 0,
            FailurePolicy::Continue => false,
            FailurePolicy::Threshold { max_failed, max_failed_percent } => {
                max_failed.is_some_and(|m| failed > m)
                    || max_failed_percent.is_some_and(|p| total > 0 && (failed as f64) * 100.0 / (total as f64) > p)
            }
        }
    }
}

/// Per-wave settings, from the wave's own entry or the resource's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaveSettings {
    /// The reason to wait for an approval before the wave starts.
    pub pause: Option<String>,
    pub policy: FailurePolicy,
}

#[derive(Debug, Clone)]
pub struct RecoveryParams {
    pub mode: Mode,
    pub execution_id: Option<String>,
    pub timeout_minutes: u64,
    default_policy: FailurePolicy,
    per_wave: BTreeMap<String, WaveSettings>,
    cleanup_drills: bool,
    cleanup_recoveries: bool,
    /// The tenant whose hooks run at the wave boundaries, and which of them (default: all).
    pub tenant: Option<String>,
    pub hooks: Option<Vec<String>>,
}

pub const DEFAULT_TIMEOUT_MINUTES: u64 = 360;

impl RecoveryParams {
    pub fn parse(p: &Value) -> anyhow::Result<RecoveryParams> {
        let p = p.as_object().context("parameters: expected an object")?;
        let mode = match p.get("Mode").map(|v| v.as_str()) {
            None => Mode::Drill,
            Some(Some(m)) if m.eq_ignore_ascii_case("drill") => Mode::Drill,
            Some(Some(m)) if m.eq_ignore_ascii_case("recovery") => Mode::Recovery,
            Some(_) => bail!("parameters.Mode: expected \"drill\" or \"recovery\""),
        };
        let execution_id = match p.get("ExecutionId") {
            None => None,
            Some(v) => {
                let id = v.as_str().unwrap_or_default();
                let ok = (1..=40).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    bail!("parameters.ExecutionId: 1 to 40 letters, digits, '-' or '_'");
                }
                Some(id.to_owned())
            }
        };
        let timeout_minutes = match p.get("TimeoutMinutes") {
            None => DEFAULT_TIMEOUT_MINUTES,
            Some(v) => v.as_u64().context("parameters.TimeoutMinutes: expected a whole number of minutes")?,
        };
        let default_policy = match p.get("FailurePolicy") {
            None => FailurePolicy::default(),
            Some(v) => policy(v, "parameters.FailurePolicy")?,
        };
        let mut per_wave: BTreeMap<String, WaveSettings> = BTreeMap::new();
        if let Some(v) = p.get("PauseBefore") {
            let names = v.as_array().context("parameters.PauseBefore: expected a list of wave names")?;
            for (i, n) in names.iter().enumerate() {
                let n = n.as_str().ok_or_else(|| anyhow!("parameters.PauseBefore[{i}]: expected a wave name"))?;
                per_wave.entry(n.to_owned()).or_insert_with(|| WaveSettings { pause: None, policy: default_policy }).pause =
                    Some(format!("PauseBefore names wave {n}"));
            }
        }
        if let Some(Value::Array(waves)) = p.get("Waves") {
            for (i, w) in waves.iter().enumerate() {
                let at = format!("parameters.Waves[{i}]");
                let Some(name) = w.get("Name").and_then(Value::as_str) else { continue };
                let entry =
                    per_wave.entry(name.to_owned()).or_insert_with(|| WaveSettings { pause: None, policy: default_policy });
                match w.get("PauseBefore") {
                    None | Some(Value::Bool(false)) => {}
                    Some(Value::Bool(true)) => entry.pause = Some(format!("wave {name} asks for an approval")),
                    Some(Value::String(reason)) if !reason.is_empty() => entry.pause = Some(reason.clone()),
                    Some(_) => bail!("{at}.PauseBefore: expected true or a reason"),
                }
                if let Some(v) = w.get("FailurePolicy") {
                    entry.policy = policy(v, &format!("{at}.FailurePolicy"))?;
                }
            }
        }
        let (mut cleanup_drills, mut cleanup_recoveries) = (true, false);
        if let Some(c) = p.get("Cleanup") {
            let c = c.as_object().context("parameters.Cleanup: expected an object")?;
            for (k, v) in c {
                let b = v.as_bool().ok_or_else(|| anyhow!("parameters.Cleanup.{k}: expected true or false"))?;
                match k.as_str() {
                    "Drills" => cleanup_drills = b,
                    "Recoveries" => cleanup_recoveries = b,
                    _ => bail!("parameters.Cleanup.{k}: unknown; expected Drills or Recoveries"),
                }
            }
        }
        let tenant = match p.get("Tenant") {
            None => None,
            Some(v) => {
                Some(v.as_str().filter(|t| !t.is_empty()).context("parameters.Tenant: expected the tenant's name")?.to_owned())
            }
        };
        let hooks = match p.get("Hooks") {
            None => None,
            Some(v) => {
                let list = v.as_array().context("parameters.Hooks: expected a list of hook names")?;
                let names = list
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        h.as_str().map(str::to_owned).ok_or_else(|| anyhow!("parameters.Hooks[{i}]: expected a hook name"))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                if tenant.is_none() {
                    bail!("parameters.Hooks: name the tenant whose hooks these are in parameters.Tenant");
                }
                Some(names)
            }
        };
        Ok(RecoveryParams {
            mode,
            execution_id,
            timeout_minutes,
            default_policy,
            per_wave,
            cleanup_drills,
            cleanup_recoveries,
            tenant,
            hooks,
        })
    }

    pub fn wave(&self, name: &str) -> WaveSettings {
        self.per_wave.get(name).cloned().unwrap_or(WaveSettings { pause: None, policy: self.default_policy })
    }

    /// Wave names that settings mention, to check them against the planned waves.
    pub fn named_waves(&self) -> impl Iterator<Item = &str> {
        self.per_wave.keys().map(String::as_str)
    }

    /// Which launches `cleanup` terminates: drills (default) and, when asked, recoveries.
    pub fn cleanup_scope(&self) -> (bool, bool) {
        (self.cleanup_drills, self.cleanup_recoveries)
    }
}

/// `"fail-fast"`, `"continue"`, `{"MaxFailed": n}` or `{"MaxFailedPercent": p}`.
fn policy(v: &Value, at: &str) -> anyhow::Result<FailurePolicy> {
    match v {
        Value::String(s) if s == "fail-fast" => Ok(FailurePolicy::FailFast),
        Value::String(s) if s == "continue" => Ok(FailurePolicy::Continue),
        Value::Object(o) if !o.is_empty() => {
            let mut max_failed = None;
            let mut max_failed_percent = None;
            for (k, x) in o {
                match k.as_str() {
                    "MaxFailed" => {
                        max_failed = Some(x.as_u64().ok_or_else(|| anyhow!("{at}.MaxFailed: a whole number"))? as usize)
                    }
                    "MaxFailedPercent" => {
                        let p = x.as_f64().filter(|p| (0.0..=100.0).contains(p));
                        max_failed_percent = Some(p.ok_or_else(|| anyhow!("{at}.MaxFailedPercent: a number from 0 to 100"))?)
                    }
                    _ => bail!("{at}.{k}: unknown; expected MaxFailed or MaxFailedPercent"),
                }
            }
            Ok(FailurePolicy::Threshold { max_failed, max_failed_percent })
        }
        _ => bail!("{at}: expected \"fail-fast\", \"continue\", {{\"MaxFailed\": n}} or {{\"MaxFailedPercent\": p}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn waves_take_their_own_settings_over_the_resource_defaults() {
        let p = RecoveryParams::parse(&json!({
            "Mode": "recovery", "FailurePolicy": "continue", "PauseBefore": ["web"],
            "Waves": [{"Name": "db", "Tags": {"Tier": "db"}, "FailurePolicy": {"MaxFailed": 2}, "PauseBefore": "change board"},
                      {"Name": "web", "Tags": {"Tier": "web"}}]
        }))
        .unwrap();
        assert_eq!(p.mode, Mode::Recovery);
        let db = p.wave("db");
        assert_eq!(db.pause.as_deref(), Some("change board"));
        assert!(!db.policy.broken(2, 10) && db.policy.broken(3, 10));
        assert!(p.wave("web").pause.is_some());
        assert_eq!(p.wave("other").policy, FailurePolicy::Continue);
    }

    #[test]
    fn thresholds_count_and_percent() {
        let pct = FailurePolicy::Threshold { max_failed: None, max_failed_percent: Some(10.0) };
        assert!(!pct.broken(1, 10) && pct.broken(2, 10));
        assert!(FailurePolicy::default().broken(1, 100));
        assert!(!FailurePolicy::Continue.broken(100, 100));
    }

    #[test]
    fn bad_settings_name_the_field() {
        for (v, field) in [
            (json!({"Mode": "failover"}), "parameters.Mode"),
            (json!({"FailurePolicy": {"MaxFailed": -1}}), "parameters.FailurePolicy.MaxFailed"),
            (json!({"Waves": [{"Name": "a", "PauseBefore": 3}]}), "parameters.Waves[0].PauseBefore"),
            (json!({"ExecutionId": "a b"}), "parameters.ExecutionId"),
            (json!({"Cleanup": {"Everything": true}}), "parameters.Cleanup.Everything"),
        ] {
            let e = RecoveryParams::parse(&v).unwrap_err().to_string();
            assert!(e.contains(field), "{field} not in {e}");
        }
    }
}

//! How a resource's waves run: drill or recovery, failure policies (the resource's default and
//! per wave), pauses, the timeout and what cleanup may terminate. The manifest spells a
//! policy `"fail-fast"`, `"continue"` or `{"MaxFailed": n, "MaxFailedPercent": p}`; the
//! lifecycle payload keeps its own compact form (`FailurePolicy`'s serde).

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// StartRecovery with isDrill: recovery instances to test and then terminate.
    #[default]
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

    /// As a DR engineer reads it in a failure message.
    pub fn describe(&self) -> String {
        match self {
            FailurePolicy::FailFast => "fail-fast".to_owned(),
            FailurePolicy::Continue => "continue".to_owned(),
            FailurePolicy::Threshold { max_failed, max_failed_percent } => {
                let mut parts = vec![];
                if let Some(m) = max_failed {
                    parts.push(format!("MaxFailed {m}"));
                }
                if let Some(pc) = max_failed_percent {
                    parts.push(format!("MaxFailedPercent {pc}"));
                }
                parts.join(", ")
            }
        }
    }
}

/// A policy as the manifest writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolicySpec(pub FailurePolicy);

const POLICY_FORMS: &str = "\"fail-fast\", \"continue\", {\"MaxFailed\": n} or {\"MaxFailedPercent\": p}";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Threshold {
    #[serde(rename = "MaxFailed")]
    max_failed: Option<usize>,
    #[serde(rename = "MaxFailedPercent")]
    max_failed_percent: Option<Percent>,
}

/// A number from 0 to 100.
struct Percent(f64);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(d)?;
        if (0.0..=100.0).contains(&p) {
            Ok(Percent(p))
        } else {
            Err(de::Error::custom("a number from 0 to 100"))
        }
    }
}

impl<'de> Deserialize<'de> for PolicySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PolicySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(POLICY_FORMS)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PolicySpec, E> {
                match s {
                    "fail-fast" => Ok(PolicySpec(FailurePolicy::FailFast)),
                    "continue" => Ok(PolicySpec(FailurePolicy::Continue)),
                    _ => Err(E::custom(format_args!("expected {POLICY_FORMS}, not \"{s}\""))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PolicySpec, A::Error> {
                let t = Threshold::deserialize(MapAccessDeserializer::new(map))?;
                if t.max_failed.is_none() && t.max_failed_percent.is_none() {
                    return Err(de::Error::custom(format_args!("expected {POLICY_FORMS}, not {{}}")));
                }
                Ok(PolicySpec(FailurePolicy::Threshold {
                    max_failed: t.max_failed,
                    max_failed_percent: t.max_failed_percent.map(|p| p.0),
                }))
            }
        }
        d.deserialize_any(V)
    }
}

/// A wave's `PauseBefore`: `true`, or the reason shown to approvers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseSpec {
    No,
    Yes,
    Because(String),
}

impl<'de> Deserialize<'de> for PauseSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PauseSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true or a reason")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<PauseSpec, E> {
                Ok(if b { PauseSpec::Yes } else { PauseSpec::No })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PauseSpec, E> {
                if s.is_empty() {
                    return Err(E::custom("expected true or a reason, not an empty reason"));
                }
                Ok(PauseSpec::Because(s.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `Cleanup`: what cleanup terminates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields, default)]
pub struct CleanupScope {
    /// The recovery instances of the resource's drills (default true).
    pub drills: bool,
    /// And of its real recoveries (default false).
    pub recoveries: bool,
}

impl Default for CleanupScope {
    fn default() -> Self {
        CleanupScope { drills: true, recoveries: false }
    }
}

/// Per-wave settings, from the wave's own entry or the resource's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaveSettings {
    /// The reason to wait for an approval before the wave starts.
    pub pause: Option<String>,
    pub policy: FailurePolicy,
    /// The wave's objectives: its own, else the resource's.
    pub targets: Targets,
}

/// Recovery objectives in minutes (`TargetRtoMinutes`, `TargetRpoMinutes`); None: no
/// objective, so what a run achieves is reported, not judged. The plan keeps them as
/// `{"rtoMin": .., "rpoMin": ..}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// From the run's start to the end (of the resource's last wave, or of the wave).
    #[serde(rename = "rtoMin", default, skip_serializing_if = "Option::is_none")]
    pub rto_minutes: Option<u64>,
    /// The most a launched server's data may be older than the run's start.
    #[serde(rename = "rpoMin", default, skip_serializing_if = "Option::is_none")]
    pub rpo_minutes: Option<u64>,
}

impl Targets {
    pub fn is_empty(&self) -> bool {
        self.rto_minutes.is_none() && self.rpo_minutes.is_none()
    }

    /// These, each taken from `fallback` where not set.
    pub fn or(self, fallback: Targets) -> Targets {
        Targets { rto_minutes: self.rto_minutes.or(fallback.rto_minutes), rpo_minutes: self.rpo_minutes.or(fallback.rpo_minutes) }
    }
}

/// The default run time of an execution, and the most a resource may ask for (30 days): a
/// deadline past that is a typo, and far enough out to overflow date arithmetic.
pub const DEFAULT_TIMEOUT_MINUTES: u64 = 360;
pub const MAX_TIMEOUT_MINUTES: u64 = 43_200;
/// How long an account x region may stay unreachable in a run before its servers count as
/// failed under the wave's FailurePolicy.
pub const DEFAULT_GRACE_MINUTES: u64 = 15;
/// How long cleanup and replicate may take, from their phase call, before they fail naming
/// what is left (a partition that stays unreachable keeps them from ending otherwise).
pub const DEFAULT_CLEANUP_MINUTES: u64 = 120;
pub const DEFAULT_REPLICATE_MINUTES: u64 = 1_440;

/// The recovery part of a resource, as the executor needs it.
#[derive(Debug, Clone)]
pub struct RecoveryParams {
    pub mode: Mode,
    pub execution_id: Option<String>,
    pub timeout_minutes: u64,
    pub unreachable_grace_minutes: u64,
    pub cleanup_timeout_minutes: u64,
    pub replicate_timeout_minutes: u64,
    /// The recovery point objective: the maximum acceptable age of recovered data, in
    /// minutes (`TargetRpoMinutes`). None: no objective, so lag is reported, not judged.
    pub target_rpo_minutes: Option<u64>,
    /// The recovery time objective, in minutes from the run's start to its last wave's end
    /// (`TargetRtoMinutes`). None: the time is reported, not judged.
    pub target_rto_minutes: Option<u64>,
    pub default_policy: FailurePolicy,
    /// Waves that settings name (PauseBefore, a wave list's entries), by name.
    pub per_wave: BTreeMap<String, WaveSettings>,
    pub cleanup: CleanupScope,
    /// The tenant whose hooks run at the wave boundaries, and which of them (default: all).
    pub tenant: Option<String>,
    pub hooks: Option<Vec<String>>,
    /// In a real recovery, launch servers that already run as recovery instances of an
    /// earlier real recovery (default: leave them out, named).
    pub relaunch_recovered: bool,
    /// Point-in-time recovery (`RecoverBefore`): each server launches its newest recovery
    /// snapshot taken before this time (`pitr/`). None: the latest data.
    pub recover_before: Option<chrono::DateTime<chrono::Utc>>,
}

impl RecoveryParams {
    /// Wave `name`'s settings; its objectives are its own, else the resource's.
    pub fn wave(&self, name: &str) -> WaveSettings {
        let mut s = self.per_wave.get(name).cloned().unwrap_or(WaveSettings {
            pause: None,
            policy: self.default_policy,
            targets: Targets::default(),
        });
        s.targets = s.targets.or(self.targets());
        s
    }

    /// The resource's own objectives.
    pub fn targets(&self) -> Targets {
        Targets { rto_minutes: self.target_rto_minutes, rpo_minutes: self.target_rpo_minutes }
    }

    /// Wave names that settings mention, to check them against the planned waves.
    pub fn named_waves(&self) -> impl Iterator<Item = &str> {
        self.per_wave.keys().map(String::as_str)
    }
}

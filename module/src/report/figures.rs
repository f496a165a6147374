//! The figures and texts a report shows, derived from a `RunReport`: a wave's counts and
//! recovery-time percentiles, which servers a large wave lists, and how durations, partitions
//! and phase details read. Both renderings take them from here, through `build.rs`.

use std::collections::BTreeSet;

use super::{seconds_between, ServerReport, ServerState, WaveReport};

/// Waves with more servers than this list only the slowest servers and the failures.
pub(crate) const LARGE_WAVE: usize = 50;
/// How many of the slowest servers a large wave lists.
pub(crate) const SLOWEST: usize = 20;

pub(crate) fn is_failed(s: &ServerReport) -> bool {
    s.status == ServerState::Failed
}

pub(crate) fn is_launched(s: &ServerReport) -> bool {
    s.status == ServerState::Launched
}

/// A failed server, or one that did not launch and says why.
pub(crate) fn is_failure(s: &ServerReport) -> bool {
    is_failed(s) || (s.reason.is_some() && !is_launched(s))
}

pub(crate) fn wave_label(w: &WaveReport) -> String {
    if w.name.is_empty() {
        format!("wave {}", w.index)
    } else {
        format!("wave {} ({})", w.index, w.name)
    }
}

pub(crate) fn outcome_text(outcome: &str, error: Option<&str>) -> String {
    match error {
        Some(e) if !e.is_empty() && e != outcome => format!("{outcome}: {e}"),
        _ => outcome.to_string(),
    }
}

/// "2 accounts x 2 regions (3 partitions): 111/us-east-1, ..."
pub(crate) fn partitions_text(partitions: &[String]) -> String {
    if partitions.is_empty() {
        return "-".into();
    }
    let mut accounts = BTreeSet::new();
    let mut regions = BTreeSet::new();
    for p in partitions {
        let (a, r) = p.split_once('/').unwrap_or((p.as_str(), ""));
        accounts.insert(a);
        if !r.is_empty() {
            regions.insert(r);
        }
    }
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{} x {} ({}): {}",
        plural(accounts.len(), "account", "accounts"),
        plural(regions.len(), "region", "regions"),
        plural(partitions.len(), "partition", "partitions"),
        partitions.join(", ")
    )
}

/// A phase's detail on one line: an object as `key=value; ...`, strings unquoted.
pub(crate) fn detail_text(v: &serde_json::Value) -> String {
    fn scalar(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    match v {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::Object(m) if m.is_empty() => "-".into(),
        serde_json::Value::Object(m) => m.iter().map(|(k, v)| format!("{k}={}", scalar(v))).collect::<Vec<_>>().join("; "),
        other => scalar(other),
    }
}

/// Seconds as "42.0 s", "12m 04s" or "1h 02m 03s"; "-" when unknown.
pub(crate) fn fmt_duration(s: Option<f64>) -> String {
    let Some(s) = s.filter(|s| s.is_finite()) else { return "-".into() };
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let total = s.round() as u64;
    let (h, m, sec) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}h {m:02}m {sec:02}s")
    } else {
        format!("{m}m {sec:02}s")
    }
}

pub(crate) fn fmt_secs(s: Option<f64>) -> String {
    s.filter(|s| s.is_finite()).map(|s| format!("{s:.1}")).unwrap_or_else(|| "-".into())
}

/// A wave's counts, duration and recovery-time percentiles.
pub(crate) struct WaveStats {
    pub servers: usize,
    pub launched: usize,
    pub failed: usize,
    pub duration: Option<f64>,
    pub p50: Option<f64>,
    pub max: Option<f64>,
}

impl WaveStats {
    pub(crate) fn of(w: &WaveReport) -> Self {
        let mut times: Vec<f64> = w.servers.iter().filter_map(|s| s.recovery_s).filter(|t| t.is_finite()).collect();
        times.sort_by(f64::total_cmp);
        // Nearest-rank median.
        let p50 = (!times.is_empty()).then(|| times[times.len().div_ceil(2) - 1]);
        WaveStats {
            servers: w.servers.len(),
            launched: w.servers.iter().filter(|s| is_launched(s)).count(),
            failed: w.servers.iter().filter(|s| is_failed(s)).count(),
            duration: w.duration_s.or_else(|| Some(seconds_between(w.started?, w.ended?))),
            p50,
            max: times.last().copied(),
        }
    }
}

/// The servers a wave's per-server table lists: all of them, or for a large wave the
/// failures and the slowest others.
pub(crate) struct ServerRows<'a> {
    pub rows: Vec<&'a ServerReport>,
    pub total: usize,
    /// Set when the wave was cut: (failures listed, slowest listed).
    pub elided: Option<(usize, usize)>,
}

impl<'a> ServerRows<'a> {
    pub(crate) fn of(w: &'a WaveReport) -> Self {
        let total = w.servers.len();
        if total <= LARGE_WAVE {
            return ServerRows { rows: w.servers.iter().collect(), total, elided: None };
        }
        let failures: Vec<&ServerReport> = w.servers.iter().filter(|s| is_failure(s)).collect();
        let mut others: Vec<&ServerReport> = w.servers.iter().filter(|s| !is_failure(s)).collect();
        // Slowest first; servers without a recovery time after those with one.
        others.sort_by(|a, b| match (a.recovery_s, b.recovery_s) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        others.truncate(SLOWEST);
        let elided = Some((failures.len(), others.len()));
        let mut rows = failures;
        rows.extend(others);
        ServerRows { rows, total, elided }
    }

    pub(crate) fn left_out(&self) -> usize {
        self.total - self.rows.len()
    }

    pub(crate) fn elision_note(&self) -> Option<String> {
        let (failures, slowest) = self.elided?;
        Some(format!(
            "{} servers in this wave: listing the {} failed and the {} slowest; {} left out.",
            self.total,
            failures,
            slowest,
            self.left_out()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::sample;

    #[test]
    fn stats_and_formatting() {
        assert_eq!(fmt_duration(Some(42.04)), "42.0 s");
        assert_eq!(fmt_duration(Some(3723.0)), "1h 02m 03s");
        assert_eq!(fmt_duration(None), "-");
        let r = sample();
        let s = WaveStats::of(&r.resources[0].waves[1]);
        assert_eq!((s.servers, s.launched, s.failed, s.p50, s.max), (2, 1, 1, Some(420.0), Some(420.0)));
        assert_eq!(ServerRows::of(&r.resources[0].waves[0]).elision_note(), None);
    }
}

//! The run report as Markdown, for a DR engineer reading it after a drill: the run's header,
//! the resources, then per resource its waves (counts, times, p50/max recovery), failures,
//! hook decisions, notes and per-server tables, and last the phases after activation.
//!
//! Every text taken from the report is escaped for a table cell (`|` as `\|`). Waves of more
//! than [`LARGE_WAVE`] servers list only the [`SLOWEST`] slowest servers and the failures, and
//! say how many were left out. The helpers below are shared with `html.rs`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{seconds_between, PhaseReport, ResourceReport, RunReport, ServerReport, WaveReport};

/// Waves with more servers than this list only the slowest servers and the failures.
pub(crate) const LARGE_WAVE: usize = 50;
/// How many of the slowest servers a large wave lists.
pub(crate) const SLOWEST: usize = 20;

pub fn render(r: &RunReport) -> String {
    let mut out = String::new();
    header(&mut out, r);
    resources_table(&mut out, r);
    for res in &r.resources {
        resource_section(&mut out, res);
    }
    phases(&mut out, &r.phases);
    out
}

fn header(out: &mut String, r: &RunReport) {
    let _ = writeln!(out, "# DRS run report: {}\n", md(&r.source));
    out.push_str("| | |\n|---|---|\n");
    let rows = [
        ("Source", md(&r.source)),
        ("Mode", md(&r.mode)),
        ("Outcome", format!("**{}**", md(&r.outcome))),
        ("Started", md(&r.started)),
        ("Ended", md(&r.ended)),
        ("Duration", fmt_duration(seconds_between(&r.started, &r.ended))),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    out.push('\n');
}

fn resources_table(out: &mut String, r: &RunReport) {
    out.push_str("## Resources\n\n");
    if r.resources.is_empty() {
        out.push_str("No resources.\n\n");
        return;
    }
    out.push_str("| Layer | Resource | Execution | Outcome | Waves | Servers | Accounts x regions touched |\n");
    out.push_str("|---:|---|---|---|---:|---:|---|\n");
    for res in &r.resources {
        let servers: usize = res.waves.iter().map(|w| w.servers.len()).sum();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            res.layer,
            md(&res.resource),
            md(&res.execution),
            md(&outcome_text(&res.outcome, res.error.as_deref())),
            res.waves.len(),
            servers,
            md(&partitions_text(&res.partitions)),
        );
    }
    out.push('\n');
}

fn resource_section(out: &mut String, res: &ResourceReport) {
    let _ = writeln!(out, "## Resource {} (layer {})\n", md(&res.resource), res.layer);
    let _ = writeln!(out, "- Execution: {}", md(&res.execution));
    let _ = writeln!(out, "- Outcome: **{}**", md(&res.outcome));
    if let Some(e) = &res.error {
        let _ = writeln!(out, "- Error: {}", md(e));
    }
    let _ = writeln!(out, "- Accounts x regions: {}\n", md(&partitions_text(&res.partitions)));

    out.push_str("### Waves\n\n");
    if res.waves.is_empty() {
        out.push_str("No waves.\n\n");
    } else {
        out.push_str(
            "| Wave | State | Servers | Launched | Failed | Started | Ended | Duration | p50 recovery | Max recovery |\n",
        );
        out.push_str("|---|---|---:|---:|---:|---|---|---:|---:|---:|\n");
        for w in &res.waves {
            let s = WaveStats::of(w);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&wave_label(w)),
                md(&w.state),
                s.servers,
                s.launched,
                s.failed,
                md(w.started.as_deref().unwrap_or("-")),
                md(w.ended.as_deref().unwrap_or("-")),
                fmt_duration(s.duration),
                fmt_duration(s.p50),
                fmt_duration(s.max),
            );
        }
        out.push('\n');
    }

    out.push_str("### Failures\n\n");
    let failures: Vec<(&WaveReport, &ServerReport)> =
        res.waves.iter().flat_map(|w| w.servers.iter().filter(|s| is_failure(s)).map(move |s| (w, s))).collect();
    if failures.is_empty() {
        out.push_str("No failed servers.\n\n");
    } else {
        out.push_str("| Wave | Hostname | Server ID | Partition | Status | Reason |\n|---|---|---|---|---|---|\n");
        for (w, s) in failures {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                md(&wave_label(w)),
                md(s.hostname.as_deref().unwrap_or("-")),
                md(&s.source_server_id),
                md(&s.partition),
                md(&s.status),
                md(s.reason.as_deref().unwrap_or("-")),
            );
        }
        out.push('\n');
    }

    out.push_str("### Hook decisions\n\n");
    if res.waves.iter().all(|w| w.hook_decisions.is_empty()) {
        out.push_str("No hook decisions.\n\n");
    } else {
        out.push_str("| Wave | Hook | Point | Decision | Detail |\n|---|---|---|---|---|\n");
        for w in &res.waves {
            for h in &w.hook_decisions {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    md(&wave_label(w)),
                    md(&h.hook),
                    md(&h.point),
                    md(&h.decision),
                    md(h.detail.as_deref().unwrap_or("-")),
                );
            }
        }
        out.push('\n');
    }

    out.push_str("### Notes\n\n");
    if res.waves.iter().all(|w| w.notes.is_empty()) {
        out.push_str("No notes.\n\n");
    } else {
        for w in &res.waves {
            for n in &w.notes {
                let _ = writeln!(out, "- {}: {}", md(&wave_label(w)), md(n));
            }
        }
        out.push('\n');
    }

    for w in &res.waves {
        let _ = writeln!(out, "### Servers of {}\n", md(&wave_label(w)));
        let rows = ServerRows::of(w);
        if w.servers.is_empty() {
            out.push_str("No servers.\n\n");
            continue;
        }
        out.push_str("| Hostname | Server ID | Partition | Status | Recovery (s) |\n|---|---|---|---|---:|\n");
        for s in &rows.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md(s.hostname.as_deref().unwrap_or("-")),
                md(&s.source_server_id),
                md(&s.partition),
                md(&s.status),
                fmt_secs(s.recovery_s),
            );
        }
        if let Some(note) = rows.elision_note() {
            let _ = writeln!(out, "\n_{}_", md(&note));
        }
        out.push('\n');
    }
}

fn phases(out: &mut String, phases: &[PhaseReport]) {
    out.push_str("## Phases\n\n");
    if phases.is_empty() {
        out.push_str("No phases after activation.\n");
        return;
    }
    out.push_str("| Resource | Phase | Outcome | Detail |\n|---|---|---|---|\n");
    for p in phases {
        let _ =
            writeln!(out, "| {} | {} | {} | {} |", md(&p.resource), md(&p.phase), md(&p.outcome), md(&detail_text(&p.detail)));
    }
}

// ---- shared with html.rs ----

/// Escapes text for a Markdown table cell or list item: backslashes, `|`, `<`, `>` and
/// backticks are backslash-escaped, and line breaks become spaces.
pub(crate) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '|' | '<' | '>' | '`' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            '\n' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn is_failed(s: &ServerReport) -> bool {
    s.status.eq_ignore_ascii_case("FAILED")
}

pub(crate) fn is_launched(s: &ServerReport) -> bool {
    s.status.eq_ignore_ascii_case("LAUNCHED")
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
            duration: w.duration_s.or_else(|| seconds_between(w.started.as_deref()?, w.ended.as_deref()?)),
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
pub(crate) mod tests {
    use super::*;
    use crate::report::{HookDecision, PhaseReport, ResourceReport, RunReport, ServerReport, WaveReport};

    pub(crate) fn server(id: &str, host: &str, partition: &str, status: &str, started: &str, rec: Option<f64>) -> ServerReport {
        let launched = rec.map(|s| {
            let t = chrono::DateTime::parse_from_rfc3339(started).unwrap() + chrono::Duration::milliseconds((s * 1000.0) as i64);
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        ServerReport {
            source_server_id: id.into(),
            hostname: Some(host.into()),
            partition: partition.into(),
            job_id: Some("drsjob-1".into()),
            status: status.into(),
            started: Some(started.into()),
            launched,
            recovery_s: rec,
            recovery_instance_id: rec.map(|_| format!("i-{id}")),
            reason: None,
        }
    }

    fn wave(index: usize, name: &str, state: &str, started: &str, ended: &str, servers: Vec<ServerReport>) -> WaveReport {
        WaveReport {
            index,
            name: name.into(),
            state: state.into(),
            started: Some(started.into()),
            ended: Some(ended.into()),
            duration_s: seconds_between(started, ended),
            servers,
            hook_decisions: vec![],
            notes: vec![],
        }
    }

    /// Two resources, three waves, one failed server whose reason holds `<script>` and `|`.
    pub(crate) fn sample() -> RunReport {
        let p1 = "111111111111/us-east-1";
        let p2 = "222222222222/us-west-2";
        let t0 = "2024-05-01T10:00:00Z";
        let mut w1 = wave(
            1,
            "db",
            "completed",
            t0,
            "2024-05-01T10:06:00Z",
            vec![
                server("s-db01", "db01.corp.example", p1, "LAUNCHED", t0, Some(240.0)),
                server("s-db02", "db02.corp.example", p2, "LAUNCHED", t0, Some(330.0)),
            ],
        );
        w1.hook_decisions.push(HookDecision {
            hook: "freeze-window".into(),
            point: "before-wave".into(),
            decision: "proceed".into(),
            detail: Some("outside the freeze window".into()),
        });
        w1.notes.push("waited 40 s for approval".into());
        let t1 = "2024-05-01T10:07:00Z";
        let mut bad = server("s-app02", "app02.corp.example", p1, "FAILED", t1, None);
        bad.reason = Some("launch template <script>alert(1)</script> | subnet missing".into());
        let mut w2 = wave(
            2,
            "app",
            "failed",
            t1,
            "2024-05-01T10:15:30Z",
            vec![server("s-app01", "app01.corp.example", p1, "LAUNCHED", t1, Some(420.0)), bad],
        );
        w2.hook_decisions.push(HookDecision {
            hook: "skip-tagged".into(),
            point: "after-wave".into(),
            decision: "stop".into(),
            detail: None,
        });
        let t2 = "2024-05-01T10:02:00Z";
        let w3 = wave(
            1,
            "web",
            "completed",
            t2,
            "2024-05-01T10:09:00Z",
            vec![server("s-web01", "web01.corp.example", p2, "LAUNCHED", t2, Some(300.5))],
        );
        RunReport {
            source: "manifests/demo-drill.json".into(),
            mode: "drill".into(),
            started: "2024-05-01T09:59:30Z".into(),
            ended: "2024-05-01T10:20:00Z".into(),
            outcome: "failed: WaveFailed".into(),
            resources: vec![
                ResourceReport {
                    layer: 1,
                    resource: "core-db-app".into(),
                    execution: "exec-core-1".into(),
                    outcome: "WaveFailed".into(),
                    error: Some("wave 2 (app): 1 server failed".into()),
                    partitions: vec![p1.into(), p2.into()],
                    waves: vec![w1, w2],
                },
                ResourceReport {
                    layer: 2,
                    resource: "frontend".into(),
                    execution: "exec-front-1".into(),
                    outcome: "succeeded".into(),
                    error: None,
                    partitions: vec![p2.into()],
                    waves: vec![w3],
                },
            ],
            phases: vec![PhaseReport {
                resource: "core-db-app".into(),
                phase: "cleanup".into(),
                outcome: "succeeded".into(),
                detail: serde_json::json!({"terminated": 2, "jobs": "drsjob-9"}),
            }],
        }
    }

    /// One wave of `n` servers, the first of them failed.
    pub(crate) fn large(n: usize) -> RunReport {
        let t0 = "2024-05-01T10:00:00Z";
        let mut servers: Vec<ServerReport> = (0..n)
            .map(|i| {
                server(
                    &format!("s-{i:05}"),
                    &format!("host{i:05}"),
                    "111111111111/us-east-1",
                    "LAUNCHED",
                    t0,
                    Some(60.0 + (i % 997) as f64),
                )
            })
            .collect();
        servers[0].status = "FAILED".into();
        servers[0].recovery_s = None;
        servers[0].launched = None;
        servers[0].reason = Some("quota".into());
        let mut r = sample();
        r.resources.truncate(1);
        r.resources[0].waves = vec![wave(1, "bulk", "failed", t0, "2024-05-01T10:30:00Z", servers)];
        r
    }

    #[test]
    fn renders_key_content() {
        let text = render(&sample());
        for needle in [
            "# DRS run report: manifests/demo-drill.json",
            "| Mode | drill |",
            "| Duration | 20m 30s |",
            "## Resources",
            "| 1 | core-db-app | exec-core-1 | WaveFailed: wave 2 (app): 1 server failed | 2 | 4 | 2 accounts x 2 regions (2 partitions): 111111111111/us-east-1, 222222222222/us-west-2 |",
            "| wave 1 (db) | completed | 2 | 2 | 0 | 2024-05-01T10:00:00Z | 2024-05-01T10:06:00Z | 6m 00s | 4m 00s | 5m 30s |",
            "| wave 2 (app) | failed | 2 | 1 | 1 |",
            "| wave 1 (db) | freeze-window | before-wave | proceed | outside the freeze window |",
            "- wave 1 (db): waited 40 s for approval",
            "### Servers of wave 1 (web)",
            "| web01.corp.example | s-web01 | 222222222222/us-west-2 | LAUNCHED | 300.5 |",
            "| core-db-app | cleanup | succeeded | jobs=drsjob-9; terminated=2 |",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }

    #[test]
    fn escapes_cells() {
        let text = render(&sample());
        let line = text.lines().find(|l| l.contains("s-app02") && l.contains("subnet missing")).unwrap();
        assert!(line.contains(r"\<script\>alert(1)\</script\> \| subnet missing"), "{line}");
        assert!(!text.contains("<script>"));
        // Every row of the failures table has the table's six cells.
        assert_eq!(line.matches(" | ").count(), 5, "{line}");
        assert_eq!(md("a|b\\c\nd"), r"a\|b\\c d");
    }

    #[test]
    fn large_wave_is_cut() {
        let text = render(&large(5000));
        assert!(text.contains("5000 servers in this wave: listing the 1 failed and the 20 slowest; 4979 left out."), "{text}");
        // The per-server table: the failure and the 20 slowest.
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| host")).collect();
        assert_eq!(rows.len(), 21);
        assert!(rows[0].starts_with("| host00000 | s-00000 | 111111111111/us-east-1 | FAILED | - |"), "{}", rows[0]);
        // The failures table lists it too, with its reason.
        assert!(text.contains("| wave 1 (bulk) | host00000 | s-00000 | 111111111111/us-east-1 | FAILED | quota |"));
        // The slowest server (recovery 60 + 996 s) is listed; a fast one is not.
        assert!(text.contains("| 1056.0 |"));
        assert!(!text.contains("| host00001 |"));
    }

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

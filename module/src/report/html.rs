//! The run report as one self-contained HTML page: inline CSS, no script, no external
//! assets. The same content as the Markdown report, plus per resource a Gantt chart (SVG)
//! of its waves on a time axis in minutes from the run's earliest wave start, each bar
//! coloured by the wave's state, with a thin mark per server launch for waves of up to
//! [`MARKS_MAX`] servers. Every text taken from the report is HTML-escaped.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset};

use super::markdown::{
    detail_text, fmt_duration, fmt_secs, is_failure, outcome_text, partitions_text, wave_label, ServerRows, WaveStats, LARGE_WAVE,
};
use super::{seconds_between, PhaseReport, ResourceReport, RunReport, WaveReport};

/// Waves with more servers than this get no per-server launch marks.
pub(crate) const MARKS_MAX: usize = 500;

// Chart geometry (SVG user units; the SVG scales to its container's width).
const CHART_W: f64 = 1140.0;
const LABEL_W: f64 = 230.0;
const RIGHT_PAD: f64 = 70.0;
const AXIS_H: f64 = 26.0;
const ROW_H: f64 = 30.0;
const BAR_H: f64 = 18.0;

const CSS: &str = r#"
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #f6f8fa; margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; background: #fff; box-sizing: border-box; }
h1 { font-size: 22px; margin: 8px 0 12px; word-break: break-word; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-top: 12px; border-top: 2px solid #d0d7de; }
h3 { font-size: 15px; margin: 20px 0 6px; }
h4 { font-size: 14px; margin: 14px 0 4px; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0 8px; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.reason { max-width: 420px; word-break: break-word; }
tbody tr:nth-child(even) { background: #fafbfc; }
.scroll { overflow-x: auto; }
.summary th { text-align: left; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-weight: 600; color: #fff; background: #57606a; }
.ok { background: #1a7f37; } .bad { background: #cf222e; } .warn { background: #9a6700; }
.muted { color: #57606a; }
.note { font-style: italic; color: #57606a; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px; vertical-align: -2px; }
svg.gantt { width: 100%; height: auto; display: block; font: 12px system-ui, sans-serif; }
details > summary { cursor: pointer; font-weight: 600; margin: 12px 0 4px; }
ul { margin: 4px 0 8px; padding-left: 22px; }
"#;

pub fn render(r: &RunReport) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>DRS run report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(&r.source)
    );
    header(&mut out, r);
    resources_table(&mut out, r);
    let axis = Axis::of(r);
    for res in &r.resources {
        resource_section(&mut out, res, axis.as_ref());
    }
    phases(&mut out, &r.phases);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn header(out: &mut String, r: &RunReport) {
    let _ = writeln!(out, "<h1>DRS run report: {}</h1>", esc(&r.source));
    out.push_str("<table class=\"summary\">\n");
    let rows = [
        ("Source", esc(&r.source)),
        ("Mode", esc(&r.mode)),
        ("Outcome", badge(&r.outcome)),
        ("Started", esc(&r.started)),
        ("Ended", esc(&r.ended)),
        ("Duration", esc(&fmt_duration(seconds_between(&r.started, &r.ended)))),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    out.push_str("</table>\n");
}

fn resources_table(out: &mut String, r: &RunReport) {
    out.push_str("<h2>Resources</h2>\n");
    if r.resources.is_empty() {
        out.push_str("<p class=\"muted\">No resources.</p>\n");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th class=\"num\">Layer</th><th>Resource</th><th>Execution</th>\
         <th>Outcome</th><th class=\"num\">Waves</th><th class=\"num\">Servers</th><th>Accounts x regions touched</th></tr></thead>\n<tbody>\n",
    );
    for res in &r.resources {
        let servers: usize = res.waves.iter().map(|w| w.servers.len()).sum();
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{}</td></tr>",
            res.layer,
            esc(&anchor(res)),
            esc(&res.resource),
            esc(&res.execution),
            badge(&outcome_text(&res.outcome, res.error.as_deref())),
            res.waves.len(),
            servers,
            esc(&partitions_text(&res.partitions)),
        );
    }
    out.push_str("</tbody></table></div>\n");
}

fn resource_section(out: &mut String, res: &ResourceReport, axis: Option<&Axis>) {
    let _ = writeln!(out, "<section id=\"{}\">", esc(&anchor(res)));
    let _ = writeln!(out, "<h2>Resource {} <span class=\"muted\">(layer {})</span></h2>", esc(&res.resource), res.layer);
    out.push_str("<ul>\n");
    let _ = writeln!(out, "<li>Execution: {}</li>", esc(&res.execution));
    let _ = writeln!(out, "<li>Outcome: {}</li>", badge(&res.outcome));
    if let Some(e) = &res.error {
        let _ = writeln!(out, "<li>Error: {}</li>", esc(e));
    }
    let _ = writeln!(out, "<li>Accounts x regions: {}</li>", esc(&partitions_text(&res.partitions)));
    out.push_str("</ul>\n");

    out.push_str("<h3>Timeline</h3>\n");
    timeline(out, res, axis);

    out.push_str("<h3>Waves</h3>\n");
    if res.waves.is_empty() {
        out.push_str("<p class=\"muted\">No waves.</p>\n");
    } else {
        out.push_str(
            "<div class=\"scroll\"><table>\n<thead><tr><th>Wave</th><th>State</th><th class=\"num\">Servers</th>\
             <th class=\"num\">Launched</th><th class=\"num\">Failed</th><th>Started</th><th>Ended</th>\
             <th class=\"num\">Duration</th><th class=\"num\">p50 recovery</th><th class=\"num\">Max recovery</th></tr></thead>\n<tbody>\n",
        );
        for w in &res.waves {
            let s = WaveStats::of(w);
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td><span class=\"badge\" style=\"background:{}\">{}</span></td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&wave_label(w)),
                state_colour(&w.state),
                esc(&w.state),
                s.servers,
                s.launched,
                s.failed,
                esc(w.started.as_deref().unwrap_or("-")),
                esc(w.ended.as_deref().unwrap_or("-")),
                fmt_duration(s.duration),
                fmt_duration(s.p50),
                fmt_duration(s.max),
            );
        }
        out.push_str("</tbody></table></div>\n");
    }

    out.push_str("<h3>Failures</h3>\n");
    let failures: Vec<_> =
        res.waves.iter().flat_map(|w| w.servers.iter().filter(|s| is_failure(s)).map(move |s| (w, s))).collect();
    if failures.is_empty() {
        out.push_str("<p class=\"muted\">No failed servers.</p>\n");
    } else {
        out.push_str(
            "<div class=\"scroll\"><table>\n<thead><tr><th>Wave</th><th>Hostname</th><th>Server ID</th><th>Partition</th>\
             <th>Status</th><th>Reason</th></tr></thead>\n<tbody>\n",
        );
        for (w, s) in failures {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
                esc(&wave_label(w)),
                esc(s.hostname.as_deref().unwrap_or("-")),
                esc(&s.source_server_id),
                esc(&s.partition),
                esc(&s.status),
                esc(s.reason.as_deref().unwrap_or("-")),
            );
        }
        out.push_str("</tbody></table></div>\n");
    }

    out.push_str("<h3>Hook decisions</h3>\n");
    if res.waves.iter().all(|w| w.hook_decisions.is_empty()) {
        out.push_str("<p class=\"muted\">No hook decisions.</p>\n");
    } else {
        out.push_str(
            "<div class=\"scroll\"><table>\n<thead><tr><th>Wave</th><th>Hook</th><th>Point</th><th>Decision</th>\
             <th>Detail</th></tr></thead>\n<tbody>\n",
        );
        for w in &res.waves {
            for h in &w.hook_decisions {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
                    esc(&wave_label(w)),
                    esc(&h.hook),
                    esc(&h.point),
                    esc(&h.decision),
                    esc(h.detail.as_deref().unwrap_or("-")),
                );
            }
        }
        out.push_str("</tbody></table></div>\n");
    }

    out.push_str("<h3>Notes</h3>\n");
    if res.waves.iter().all(|w| w.notes.is_empty()) {
        out.push_str("<p class=\"muted\">No notes.</p>\n");
    } else {
        out.push_str("<ul>\n");
        for w in &res.waves {
            for n in &w.notes {
                let _ = writeln!(out, "<li>{}: {}</li>", esc(&wave_label(w)), esc(n));
            }
        }
        out.push_str("</ul>\n");
    }

    out.push_str("<h3>Servers</h3>\n");
    for w in &res.waves {
        server_table(out, w);
    }
    out.push_str("</section>\n");
}

/// A wave's servers, in a `<details>` (open for waves that are listed in full).
fn server_table(out: &mut String, w: &WaveReport) {
    let rows = ServerRows::of(w);
    let open = if w.servers.len() <= LARGE_WAVE { " open" } else { "" };
    let _ = writeln!(out, "<details{open}><summary>{} ({} servers)</summary>", esc(&wave_label(w)), w.servers.len());
    if w.servers.is_empty() {
        out.push_str("<p class=\"muted\">No servers.</p>\n</details>\n");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th>Hostname</th><th>Server ID</th><th>Partition</th><th>Status</th>\
         <th class=\"num\">Recovery (s)</th></tr></thead>\n<tbody>\n",
    );
    for s in &rows.rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(s.hostname.as_deref().unwrap_or("-")),
            esc(&s.source_server_id),
            esc(&s.partition),
            esc(&s.status),
            fmt_secs(s.recovery_s),
        );
    }
    out.push_str("</tbody></table></div>\n");
    if let Some(note) = rows.elision_note() {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&note));
    }
    out.push_str("</details>\n");
}

fn phases(out: &mut String, phases: &[PhaseReport]) {
    out.push_str("<h2>Phases</h2>\n");
    if phases.is_empty() {
        out.push_str("<p class=\"muted\">No phases after activation.</p>\n");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th>Resource</th><th>Phase</th><th>Outcome</th><th>Detail</th></tr></thead>\n<tbody>\n",
    );
    for p in phases {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
            esc(&p.resource),
            esc(&p.phase),
            badge(&p.outcome),
            esc(&detail_text(&p.detail)),
        );
    }
    out.push_str("</tbody></table></div>\n");
}

// ---- timeline ----

fn parse(t: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(t).ok()
}

/// The run's time axis: from the earliest wave start over every resource to the latest
/// known time (a wave's end, a server's launch, or the run's end for waves still open).
struct Axis {
    origin: DateTime<FixedOffset>,
    /// Seconds from the origin to the right edge (a whole number of ticks).
    span_s: f64,
    /// Seconds from the origin to the latest known time; open bars end here.
    horizon_s: f64,
    tick_min: f64,
}

impl Axis {
    fn of(r: &RunReport) -> Option<Axis> {
        let waves = || r.resources.iter().flat_map(|res| res.waves.iter());
        let origin = waves().filter_map(|w| parse(w.started.as_deref()?)).min()?;
        let mut latest = origin;
        let mut open = false;
        for w in waves() {
            let start = w.started.as_deref().and_then(parse);
            let end = w.ended.as_deref().and_then(parse).or_else(|| {
                let d = w.duration_s?;
                Some(start? + chrono::Duration::milliseconds((d * 1000.0) as i64))
            });
            open |= start.is_some() && end.is_none();
            for t in [start, end].into_iter().flatten() {
                latest = latest.max(t);
            }
            for s in &w.servers {
                if let Some(t) = s.launched.as_deref().and_then(parse) {
                    latest = latest.max(t);
                }
            }
        }
        if open {
            if let Some(t) = parse(&r.ended) {
                latest = latest.max(t);
            }
        }
        let horizon_s = ((latest - origin).num_milliseconds() as f64 / 1000.0).max(60.0);
        let span_min = horizon_s / 60.0;
        const STEPS: [f64; 16] =
            [0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 180.0, 240.0, 360.0, 720.0, 1440.0];
        let tick_min = STEPS.iter().copied().find(|s| span_min / s <= 10.0).unwrap_or(1440.0 * (span_min / 14400.0).ceil());
        let span_s = (span_min / tick_min).ceil().max(1.0) * tick_min * 60.0;
        Some(Axis { origin, span_s, horizon_s, tick_min })
    }

    fn offset(&self, t: &str) -> Option<f64> {
        parse(t).map(|t| (t - self.origin).num_milliseconds() as f64 / 1000.0)
    }

    fn x(&self, seconds: f64) -> f64 {
        let plot = CHART_W - LABEL_W - RIGHT_PAD;
        LABEL_W + (seconds / self.span_s).clamp(0.0, 1.0) * plot
    }
}

fn state_colour(state: &str) -> &'static str {
    match state.to_ascii_lowercase().as_str() {
        "completed" | "succeeded" => "#2da44e",
        "failed" => "#cf222e",
        "running" => "#0969da",
        "paused" => "#bf8700",
        "waiting" => "#8c959f",
        _ => "#6e7781",
    }
}

fn timeline(out: &mut String, res: &ResourceReport, axis: Option<&Axis>) {
    if res.waves.is_empty() {
        out.push_str("<p class=\"muted\">No waves.</p>\n");
        return;
    }
    let rows = res.waves.len() as f64;
    let height = AXIS_H + rows * ROW_H + 8.0;
    let _ = writeln!(
        out,
        "<svg class=\"gantt\" viewBox=\"0 0 {CHART_W} {height}\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" \
         xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"Timeline of the waves of {}\">",
        esc(&res.resource)
    );
    let bottom = AXIS_H + rows * ROW_H;
    // Axis: ticks and grid lines every tick_min minutes.
    if let Some(a) = axis {
        let ticks = (a.span_s / 60.0 / a.tick_min).round() as usize;
        for i in 0..=ticks {
            let m = i as f64 * a.tick_min;
            let x = a.x(m * 60.0);
            let label = if i == ticks { format!("{} min", trim(m)) } else { trim(m) };
            let _ = writeln!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{y1}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#d0d7de\" stroke-width=\"1\"/>\
                 <text x=\"{x:.1}\" y=\"{ty}\" text-anchor=\"middle\" fill=\"#57606a\">{label}</text>",
                y1 = AXIS_H - 4.0,
                ty = AXIS_H - 9.0,
            );
        }
    } else {
        let _ =
            writeln!(out, "<text x=\"{LABEL_W}\" y=\"{}\" fill=\"#57606a\">No wave of the run has started.</text>", AXIS_H - 9.0);
    }
    for (i, w) in res.waves.iter().enumerate() {
        wave_row(out, w, AXIS_H + i as f64 * ROW_H, i, axis);
    }
    out.push_str("</svg>\n<div class=\"legend\">");
    for state in ["completed", "failed", "running", "paused", "waiting"] {
        let _ = write!(out, "<span><i style=\"background:{}\"></i>{state}</span>", state_colour(state));
    }
    let _ = writeln!(
        out,
        "<span class=\"muted\">thin marks: server launches (waves of up to {MARKS_MAX} servers); \
         axis: minutes from the run's first wave start</span></div>"
    );
}

fn wave_row(out: &mut String, w: &WaveReport, y: f64, i: usize, axis: Option<&Axis>) {
    let stats = WaveStats::of(w);
    let label = wave_label(w);
    let short: String =
        if label.chars().count() > 32 { label.chars().take(31).chain(std::iter::once('…')).collect() } else { label.clone() };
    let title = format!(
        "{label}: {}, {} servers ({} launched, {} failed), {} to {}, {}",
        w.state,
        stats.servers,
        stats.launched,
        stats.failed,
        w.started.as_deref().unwrap_or("not started"),
        w.ended.as_deref().unwrap_or("-"),
        fmt_duration(stats.duration)
    );
    let _ = writeln!(out, "<g class=\"wave-row\"><title>{}</title>", esc(&title));
    if i % 2 == 1 {
        let _ = writeln!(
            out,
            "<rect x=\"0\" y=\"{y}\" width=\"{CHART_W}\" height=\"{ROW_H}\" fill=\"#f6f8fa\" fill-opacity=\"0.7\"/>"
        );
    }
    let mid = y + ROW_H / 2.0;
    let _ = writeln!(out, "<text x=\"6\" y=\"{:.1}\" fill=\"#1f2328\">{}</text>", mid + 4.0, esc(&short));
    let start = axis.zip(w.started.as_deref()).and_then(|(a, t)| a.offset(t));
    match (axis, start) {
        (Some(a), Some(s0)) => {
            let end = w.ended.as_deref().and_then(|t| a.offset(t)).or_else(|| w.duration_s.map(|d| s0 + d));
            let open = end.is_none();
            let e0 = end.unwrap_or(a.horizon_s).max(s0);
            let (x0, x1) = (a.x(s0), a.x(e0));
            let width = (x1 - x0).max(2.0);
            let colour = state_colour(&w.state);
            let by = y + (ROW_H - BAR_H) / 2.0;
            let dash = if open { " stroke-dasharray=\"4 3\"" } else { "" };
            let _ = writeln!(
                out,
                "<rect class=\"bar\" x=\"{x0:.1}\" y=\"{by:.1}\" width=\"{width:.1}\" height=\"{BAR_H}\" rx=\"3\" \
                 fill=\"{colour}\" fill-opacity=\"0.85\" stroke=\"{colour}\"{dash}/>"
            );
            if w.servers.len() <= MARKS_MAX {
                let mut d = String::new();
                for t in w.servers.iter().filter_map(|s| s.launched.as_deref()).filter_map(|t| a.offset(t)) {
                    let _ = write!(d, "M{:.1} {:.1}v{:.1}", a.x(t), by - 2.0, BAR_H + 4.0);
                }
                if !d.is_empty() {
                    let _ = writeln!(
                        out,
                        "<path class=\"launch-marks\" d=\"{d}\" stroke=\"#1f2328\" stroke-opacity=\"0.75\" stroke-width=\"1\" fill=\"none\"/>"
                    );
                }
            }
            let text = if open { format!("{} (open)", w.state) } else { fmt_duration(stats.duration) };
            // After the bar, or inside its right end when there is no room (about 7 units a character).
            let room = CHART_W - (x0 + width + 4.0);
            let (tx, anchor, fill) = if room >= text.chars().count() as f64 * 7.0 {
                (x0 + width + 4.0, "start", "#57606a")
            } else {
                (x0 + width - 4.0, "end", "#ffffff")
            };
            let _ = writeln!(
                out,
                "<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"{fill}\">{}</text>",
                mid + 4.0,
                esc(&text)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "<text x=\"{LABEL_W}\" y=\"{:.1}\" fill=\"#8c959f\">{} (not started)</text>",
                mid + 4.0,
                esc(&w.state)
            );
        }
    }
    out.push_str("</g>\n");
}

// ---- helpers ----

/// HTML-escapes text for element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn badge(outcome: &str) -> String {
    let o = outcome.to_ascii_lowercase();
    let class = if o == "succeeded" || o == "completed" {
        "ok"
    } else if o.starts_with("running") || o.starts_with("paused") || o.starts_with("waiting") {
        "warn"
    } else {
        "bad"
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(outcome))
}

fn anchor(res: &ResourceReport) -> String {
    let slug: String =
        res.resource.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    format!("res-{}-{}", res.layer, slug)
}

fn trim(m: f64) -> String {
    let s = format!("{m:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::markdown::tests::{large, sample};

    #[test]
    fn renders_key_content() {
        let html = render(&sample());
        assert!(html.starts_with("<!DOCTYPE html>"));
        for needle in [
            "<h1>DRS run report: manifests/demo-drill.json</h1>",
            "<th>Duration</th><td>20m 30s</td>",
            "core-db-app",
            "2 accounts x 2 regions (2 partitions)",
            "<h3>Failures</h3>",
            "freeze-window",
            "waited 40 s for approval",
            "jobs=drsjob-9; terminated=2",
            "web01.corp.example",
            "min</text>",
        ] {
            assert!(html.contains(needle), "missing {needle:?}");
        }
        // Self-contained: no script, no external assets.
        assert!(!html.contains("<script"));
        assert!(!html.contains("src=") && !html.contains("<link"));
    }

    #[test]
    fn escapes_text() {
        let html = render(&sample());
        assert!(!html.contains("<script>"));
        assert!(html.contains("launch template &lt;script&gt;alert(1)&lt;/script&gt; | subnet missing"));
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn timeline_has_a_row_per_wave() {
        let r = sample();
        let html = render(&r);
        let waves: usize = r.resources.iter().map(|res| res.waves.len()).sum();
        assert_eq!(html.matches("<g class=\"wave-row\">").count(), waves);
        assert_eq!(html.matches("<svg class=\"gantt\"").count(), r.resources.len());
        assert_eq!(html.matches("class=\"bar\"").count(), waves);
        // One launch mark per launched server (5 of 6), one path per wave with launches.
        assert_eq!(html.matches("class=\"launch-marks\"").count(), 3);
        // Bars are placed from the earliest wave start (10:00, resource 1 wave 1) on one
        // axis: the frontend's wave (10:02) starts right of x(0).
        let axis = Axis::of(&r).unwrap();
        assert_eq!(axis.offset("2024-05-01T10:02:00Z"), Some(120.0));
        assert_eq!(axis.horizon_s, 930.0);
        assert_eq!(axis.tick_min, 2.0);
        assert!(html.contains(&format!("x=\"{:.1}\"", axis.x(120.0))));
    }

    #[test]
    fn large_wave_has_no_marks() {
        let html = render(&large(5000));
        assert!(!html.contains("launch-marks"));
        assert_eq!(html.matches("<g class=\"wave-row\">").count(), 1);
        assert!(html.contains("5000 servers in this wave: listing the 1 failed and the 20 slowest; 4979 left out."));
        assert!(html.len() < 100_000, "{} bytes", html.len());
        // Up to 500 servers, every launch is marked.
        let html = render(&large(500));
        let marks = html.split("class=\"launch-marks\" d=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(marks.matches('M').count(), 499);
    }
}

//! The run report as one self-contained HTML page: inline CSS, no script, no external
//! assets. The document built by `build.rs`, plus per resource a Gantt chart of its waves
//! (`html/svg.rs`). Every text is escaped by [`esc`].

mod escape;
mod svg;

pub(crate) use escape::{esc, state_colour};

use std::fmt::Write as _;

use super::build::build;
use super::view::{Block, Cell, ColumnKind, Field, Table, WaveServers};
use super::RunReport;

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
    let doc = build(r);
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>DRS run report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        esc(&doc.title)
    );
    blocks(&mut out, &doc.blocks);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn blocks(out: &mut String, doc: &[Block]) {
    for b in doc {
        match b {
            Block::Heading { level, text, aside } => {
                let aside = aside.as_deref().map(|a| format!(" <span class=\"muted\">{}</span>", esc(a))).unwrap_or_default();
                let _ = writeln!(out, "<h{level}>{}{aside}</h{level}>", esc(text));
            }
            Block::Fields(fields) => {
                out.push_str("<table class=\"summary\">\n");
                for f in fields {
                    let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(&f.name), cell(&f.value));
                }
                out.push_str("</table>\n");
            }
            Block::List(items) => list(out, items),
            Block::Table(t) => table(out, t),
            Block::Empty(text) => {
                let _ = writeln!(out, "<p class=\"muted\">{}</p>", esc(text));
            }
            Block::Note(text) => {
                let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(text));
            }
            Block::Section { anchor, blocks: inner } => {
                let _ = writeln!(out, "<section id=\"{}\">", esc(anchor));
                blocks(out, inner);
                out.push_str("</section>\n");
            }
            Block::Figure(inner) => blocks(out, inner),
            Block::Timeline(t) => svg::timeline(out, t),
            Block::WaveServers(waves) => {
                out.push_str("<h3>Servers</h3>\n");
                for w in waves {
                    wave_servers(out, w);
                }
            }
        }
    }
}

fn list(out: &mut String, items: &[Field]) {
    out.push_str("<ul>\n");
    for f in items {
        let _ = writeln!(out, "<li>{}: {}</li>", esc(&f.name), cell(&f.value));
    }
    out.push_str("</ul>\n");
}

fn table(out: &mut String, t: &Table) {
    out.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
    for c in t.columns {
        let class = if c.kind == ColumnKind::Number { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", esc(c.title));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (c, v) in t.columns.iter().zip(row) {
            let class = match c.kind {
                ColumnKind::Number => " class=\"num\"",
                ColumnKind::Wrap => " class=\"reason\"",
                ColumnKind::Text => "",
            };
            let _ = write!(out, "<td{class}>{}</td>", cell(v));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// A wave's servers, in a `<details>` open when every server is listed.
fn wave_servers(out: &mut String, w: &WaveServers) {
    let open = if w.complete { " open" } else { "" };
    let _ = writeln!(out, "<details{open}><summary>{} ({} servers)</summary>", esc(&w.label), w.count);
    blocks(out, &w.blocks);
    out.push_str("</details>\n");
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) => esc(t),
        Cell::Outcome(t) => badge(t),
        Cell::State(t) => format!("<span class=\"badge\" style=\"background:{}\">{}</span>", state_colour(t), esc(t)),
        Cell::Link { text, anchor } => format!("<a href=\"#{}\">{}</a>", esc(anchor), esc(text)),
    }
}

/// An outcome as a badge: green when it went well, amber while it is under way, else red.
fn badge(outcome: &str) -> String {
    let o = outcome.to_ascii_lowercase();
    let class = if o == "succeeded" || o == "completed" || o == "met" || o == "approved" {
        "ok"
    } else if o.starts_with("running") || o.starts_with("paused") || o.starts_with("waiting") {
        "warn"
    } else {
        "bad"
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{large, sample};
    use crate::report::timeline::Axis;

    #[test]
    fn a_wave_with_an_impossible_duration_renders_without_an_end() {
        for d in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e300, -1e300] {
            let mut r = sample();
            let w = &mut r.resources[0].waves[0];
            w.ended = None;
            w.duration_s = Some(d);
            assert!(render(&r).trim_end().ends_with("</html>"), "{d}");
            assert!(!crate::report::markdown::render(&r).is_empty(), "{d}");
        }
    }

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
        // The approver is outside text: shown as text, escaped.
        assert!(html.contains("<td>alice &lt;admin@corp.example&gt;</td>"), "approver not escaped");
        assert!(html.contains("<span class=\"badge ok\">approved</span>"));
        assert!(html.contains("<span class=\"badge bad\">missed</span>"));
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
        assert_eq!(axis.offset("2024-05-01T10:02:00Z".parse().unwrap()), 120.0);
        assert_eq!(axis.horizon_s, 930.0);
        assert_eq!(axis.tick_min, 2.0);
        assert!(html.contains(&format!("x=\"{:.1}\"", svg::x(&axis, 120.0))));
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

//! The timeline as an SVG Gantt chart: per wave a bar on a time axis in minutes from the
//! run's earliest wave start, coloured by the wave's state, with a thin mark per server
//! launch. The times come from `report/timeline.rs`; the geometry is decided here.

use std::fmt::Write as _;

use super::escape::{esc, state_colour};
use crate::report::timeline::{Axis, Bar, Row, Timeline, MARKS_MAX};

// Chart geometry (SVG user units; the SVG scales to its container's width).
const CHART_W: f64 = 1140.0;
const LABEL_W: f64 = 230.0;
const RIGHT_PAD: f64 = 70.0;
const AXIS_H: f64 = 26.0;
const ROW_H: f64 = 30.0;
const BAR_H: f64 = 18.0;

/// Where `seconds` from the axis origin falls across the plot, clamped to it.
pub(super) fn x(a: &Axis, seconds: f64) -> f64 {
    let plot = CHART_W - LABEL_W - RIGHT_PAD;
    LABEL_W + (seconds / a.span_s).clamp(0.0, 1.0) * plot
}

pub(super) fn timeline(out: &mut String, t: &Timeline) {
    let rows = t.rows.len() as f64;
    let height = AXIS_H + rows * ROW_H + 8.0;
    let _ = writeln!(
        out,
        "<svg class=\"gantt\" viewBox=\"0 0 {CHART_W} {height}\" preserveAspectRatio=\"xMinYMin meet\" role=\"img\" \
         xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"Timeline of the waves of {}\">",
        esc(&t.resource)
    );
    match &t.axis {
        Some(a) => ticks(out, a, AXIS_H + rows * ROW_H),
        None => {
            let _ = writeln!(
                out,
                "<text x=\"{LABEL_W}\" y=\"{}\" fill=\"#57606a\">No wave of the run has started.</text>",
                AXIS_H - 9.0
            );
        }
    }
    for (i, row) in t.rows.iter().enumerate() {
        wave_row(out, row, AXIS_H + i as f64 * ROW_H, i, t.axis.as_ref());
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

/// Ticks and grid lines every `tick_min` minutes, the last labelled with the unit.
fn ticks(out: &mut String, a: &Axis, bottom: f64) {
    let ticks = (a.span_s / 60.0 / a.tick_min).round() as usize;
    for i in 0..=ticks {
        let m = i as f64 * a.tick_min;
        let x = x(a, m * 60.0);
        let label = if i == ticks { format!("{} min", trim(m)) } else { trim(m) };
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{y1}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#d0d7de\" stroke-width=\"1\"/>\
             <text x=\"{x:.1}\" y=\"{ty}\" text-anchor=\"middle\" fill=\"#57606a\">{label}</text>",
            y1 = AXIS_H - 4.0,
            ty = AXIS_H - 9.0,
        );
    }
}

fn wave_row(out: &mut String, row: &Row, y: f64, i: usize, axis: Option<&Axis>) {
    // The label column fits about 32 characters.
    let short: String = if row.label.chars().count() > 32 {
        row.label.chars().take(31).chain(std::iter::once('…')).collect()
    } else {
        row.label.clone()
    };
    let _ = writeln!(out, "<g class=\"wave-row\"><title>{}</title>", esc(&row.title));
    if i % 2 == 1 {
        let _ = writeln!(
            out,
            "<rect x=\"0\" y=\"{y}\" width=\"{CHART_W}\" height=\"{ROW_H}\" fill=\"#f6f8fa\" fill-opacity=\"0.7\"/>"
        );
    }
    let text_y = y + ROW_H / 2.0 + 4.0;
    let _ = writeln!(out, "<text x=\"6\" y=\"{text_y:.1}\" fill=\"#1f2328\">{}</text>", esc(&short));
    match (axis, &row.bar) {
        (Some(a), Some(b)) => bar(out, a, b, y, state_colour(&row.state)),
        _ => {
            let _ = writeln!(
                out,
                "<text x=\"{LABEL_W}\" y=\"{text_y:.1}\" fill=\"#8c959f\">{} (not started)</text>",
                esc(&row.state)
            );
        }
    }
    out.push_str("</g>\n");
}

/// A wave's bar from `y` (the row's top), its launch marks and its text.
fn bar(out: &mut String, a: &Axis, b: &Bar, y: f64, colour: &str) {
    let (x0, x1) = (x(a, b.start_s), x(a, b.end_s));
    let width = (x1 - x0).max(2.0);
    let by = y + (ROW_H - BAR_H) / 2.0;
    let dash = if b.open { " stroke-dasharray=\"4 3\"" } else { "" };
    let _ = writeln!(
        out,
        "<rect class=\"bar\" x=\"{x0:.1}\" y=\"{by:.1}\" width=\"{width:.1}\" height=\"{BAR_H}\" rx=\"3\" \
         fill=\"{colour}\" fill-opacity=\"0.85\" stroke=\"{colour}\"{dash}/>"
    );
    if !b.launches.is_empty() {
        let mut d = String::new();
        for &t in &b.launches {
            let _ = write!(d, "M{:.1} {:.1}v{:.1}", x(a, t), by - 2.0, BAR_H + 4.0);
        }
        let _ = writeln!(
            out,
            "<path class=\"launch-marks\" d=\"{d}\" stroke=\"#1f2328\" stroke-opacity=\"0.75\" stroke-width=\"1\" fill=\"none\"/>"
        );
    }
    // After the bar, or inside its right end when there is no room (about 7 units a character).
    let room = CHART_W - (x0 + width + 4.0);
    let (tx, anchor, fill) = if room >= b.text.chars().count() as f64 * 7.0 {
        (x0 + width + 4.0, "start", "#57606a")
    } else {
        (x0 + width - 4.0, "end", "#ffffff")
    };
    let _ = writeln!(
        out,
        "<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"{fill}\">{}</text>",
        y + ROW_H / 2.0 + 4.0,
        esc(&b.text)
    );
}

/// Minutes as a tick label: "2", "0.5", "0.25".
fn trim(m: f64) -> String {
    let s = format!("{m:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

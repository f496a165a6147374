//! The timeline of a resource's waves, in seconds on one axis for the whole run: where each
//! wave's bar starts and ends, whether it is still open, and its server launches. The HTML
//! page draws it (`html/svg.rs`); the geometry lives there, the times here.

use chrono::{DateTime, Utc};

use super::figures::{fmt_duration, wave_label, WaveStats};
use super::{when, RunReport, WaveReport};

/// Waves with more servers than this get no per-server launch marks.
pub(crate) const MARKS_MAX: usize = 500;

/// The waves of one resource, a row each.
pub(crate) struct Timeline {
    /// The resource's name, for the chart's accessible label.
    pub resource: String,
    /// None when no wave of the run has started.
    pub axis: Option<Axis>,
    pub rows: Vec<Row>,
}

pub(crate) struct Row {
    pub label: String,
    /// What hovering the row tells: state, counts, times.
    pub title: String,
    pub state: String,
    /// None when the wave has not started (or no wave of the run has).
    pub bar: Option<Bar>,
}

pub(crate) struct Bar {
    /// Seconds from the axis origin.
    pub start_s: f64,
    pub end_s: f64,
    /// Still running: the bar ends at the latest known time.
    pub open: bool,
    /// Server launches, in seconds from the origin; empty for waves past [`MARKS_MAX`].
    pub launches: Vec<f64>,
    /// Shown by the bar: the duration, or the state of an open wave.
    pub text: String,
}

/// The run's time axis: from the earliest wave start over every resource to the latest
/// known time (a wave's end, a server's launch, or the run's end for waves still open).
#[derive(Clone, Copy)]
pub(crate) struct Axis {
    origin: DateTime<Utc>,
    /// Seconds from the origin to the right edge (a whole number of ticks).
    pub span_s: f64,
    /// Seconds from the origin to the latest known time; open bars end here.
    pub horizon_s: f64,
    pub tick_min: f64,
}

impl Axis {
    pub(crate) fn of(r: &RunReport) -> Option<Axis> {
        let waves = || r.resources.iter().flat_map(|res| res.waves.iter());
        let origin = waves().filter_map(|w| w.started).min()?;
        let mut latest = origin;
        let mut open = false;
        for w in waves() {
            let start = w.started;
            let end = w.ended.or_else(|| {
                // A duration read from a report file may be anything: out of range is no end.
                let ms = w.duration_s.map(|d| d * 1000.0).filter(|ms| ms.is_finite())?;
                start?.checked_add_signed(chrono::Duration::try_milliseconds(ms as i64)?)
            });
            open |= start.is_some() && end.is_none();
            for t in [start, end].into_iter().flatten() {
                latest = latest.max(t);
            }
            for s in &w.servers {
                if let Some(t) = s.launched {
                    latest = latest.max(t);
                }
            }
        }
        if open {
            latest = latest.max(r.ended);
        }
        let horizon_s = ((latest - origin).num_milliseconds() as f64 / 1000.0).max(60.0);
        let span_min = horizon_s / 60.0;
        const STEPS: [f64; 16] =
            [0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 180.0, 240.0, 360.0, 720.0, 1440.0];
        let tick_min = STEPS.iter().copied().find(|s| span_min / s <= 10.0).unwrap_or(1440.0 * (span_min / 14400.0).ceil());
        let span_s = (span_min / tick_min).ceil().max(1.0) * tick_min * 60.0;
        Some(Axis { origin, span_s, horizon_s, tick_min })
    }

    pub(crate) fn offset(&self, t: DateTime<Utc>) -> f64 {
        (t - self.origin).num_milliseconds() as f64 / 1000.0
    }
}

/// A wave's row on the run's axis; `stats` are the wave's, computed once by the caller.
pub(crate) fn row(w: &WaveReport, stats: &WaveStats, axis: Option<&Axis>) -> Row {
    let label = wave_label(w);
    let title = format!(
        "{label}: {}, {} servers ({} launched, {} failed), {} to {}, {}",
        w.state,
        stats.servers,
        stats.launched,
        stats.failed,
        w.started.as_ref().map(when).unwrap_or("not started".into()),
        w.ended.as_ref().map(when).unwrap_or("-".into()),
        fmt_duration(stats.duration)
    );
    let bar = axis.and_then(|a| bar(w, stats, a));
    Row { label, title, state: w.state.as_str().into(), bar }
}

fn bar(w: &WaveReport, stats: &WaveStats, a: &Axis) -> Option<Bar> {
    let start_s = a.offset(w.started?);
    let end = w.ended.map(|t| a.offset(t)).or_else(|| w.duration_s.map(|d| start_s + d));
    let open = end.is_none();
    let launches = if w.servers.len() <= MARKS_MAX {
        w.servers.iter().filter_map(|s| s.launched).map(|t| a.offset(t)).collect()
    } else {
        Vec::new()
    };
    let text = if open { format!("{} (open)", w.state) } else { fmt_duration(stats.duration) };
    Some(Bar { start_s, end_s: end.unwrap_or(a.horizon_s).max(start_s), open, launches, text })
}

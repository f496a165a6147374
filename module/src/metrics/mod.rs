//! Observability: metrics of an activation, as CloudWatch EMF documents that the Lambda
//! writes to its log (one line each) when a run ends, succeeded or failed: per wave (servers
//! launched, failed and skipped by hooks, and the wave's duration) and per run (the same
//! totals, its duration, and RunSucceeded 1 or 0 for alarms). Dimensions: Resource and Mode,
//! Wave for wave documents, and a Mode-only rollup for alarms across resources. What the run
//! achieved against its objectives has documents of its own (`objectives.rs`).

pub mod emf;
mod objectives;

pub use objectives::objectives;

use crate::recovery::payload::Payload;
use crate::recovery::status::{Outcome, Status};
use chrono::{DateTime, Utc};
use serde_json::json;

fn seconds(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> f64 {
    match (from, to) {
        (Some(a), Some(b)) if b >= a => (b - a).num_milliseconds() as f64 / 1000.0,
        _ => 0.0,
    }
}

/// The documents for a run that ended; none while it is running.
pub fn activation(st: &Status, payload: &Payload) -> Vec<serde_json::Value> {
    if st.outcome == Outcome::Running {
        return vec![];
    }
    let mode = payload.mode.as_str();
    let now = Utc::now();
    let mut out = vec![];
    for (i, w) in st.waves.iter().enumerate() {
        let (started, ended) = (w.started, w.ended);
        let wave = w.name.clone();
        out.push(emf::document(
            ended.unwrap_or(now).timestamp_millis(),
            &[("Resource", &st.resource), ("Mode", mode), ("Wave", &wave)],
            &[&["Mode"]],
            &[
                ("WaveServers", "Count", w.servers as f64),
                ("ServersLaunched", "Count", w.launched as f64),
                ("ServersFailed", "Count", w.failed as f64),
                ("ServersSkipped", "Count", w.skipped as f64),
                ("WaveSeconds", "Seconds", seconds(started, ended)),
            ],
            &[("execution", json!(st.execution)), ("waveIndex", json!(i)), ("state", json!(w.state))],
        ));
    }
    let first = st.waves.iter().filter_map(|w| w.started).min();
    let last = st.waves.iter().filter_map(|w| w.ended).max();
    let (code, succeeded) = match &st.outcome {
        Outcome::Failed { code, .. } => (code.as_str().to_owned(), 0.0),
        _ => (String::new(), 1.0),
    };
    out.push(emf::document(
        last.unwrap_or(now).timestamp_millis(),
        &[("Resource", &st.resource), ("Mode", mode)],
        &[&["Mode"]],
        &[
            ("RunServers", "Count", payload.server_count() as f64),
            ("RunLaunched", "Count", st.waves.iter().map(|w| w.launched).sum::<usize>() as f64),
            ("RunFailed", "Count", st.waves.iter().map(|w| w.failed).sum::<usize>() as f64),
            ("RunSeconds", "Seconds", seconds(first, last)),
            ("RunSucceeded", "Count", succeeded),
            ("PartitionsUnreachable", "Count", st.unreachable.len() as f64),
        ],
        &[("execution", json!(st.execution)), ("error", json!(code))],
    ));
    out
}

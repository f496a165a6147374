//! The objectives of a run that ended, as EMF: per resource (by Resource and Mode, rolled up by
//! Mode and without dimensions for the hub's alarms) and per wave (by Resource, Mode and
//! Wave), `AchievedRtoSeconds` and `AchievedRpoSeconds` where measured, and
//! `RtoObjectiveMissed` / `RpoObjectiveMissed` (1 or 0) where a target is set: the resource's
//! is 1 when its own objective or any wave's was missed.

use super::emf;
use crate::objectives::{Objective, Objectives};
use crate::resource::Mode;
use chrono::{DateTime, Utc};
use serde_json::json;

/// (name, unit, value) of one objective's metrics.
fn figures(rto: &Objective, rpo: &Objective, rto_missed: bool, rpo_missed: bool) -> Vec<(&'static str, &'static str, f64)> {
    let mut out = vec![];
    if let Some(s) = rto.achieved_seconds {
        out.push(("AchievedRtoSeconds", "Seconds", s));
    }
    if let Some(s) = rpo.achieved_seconds {
        out.push(("AchievedRpoSeconds", "Seconds", s));
    }
    let flag = |missed: bool| if missed { 1.0 } else { 0.0 };
    if rto.target_minutes.is_some() || rto_missed {
        out.push(("RtoObjectiveMissed", "Count", flag(rto_missed)));
    }
    if rpo.target_minutes.is_some() || rpo_missed {
        out.push(("RpoObjectiveMissed", "Count", flag(rpo_missed)));
    }
    out
}

/// The documents; `at` is the run's end on its clock.
pub fn objectives(o: &Objectives, resource: &str, mode: Mode, execution: &str, at: DateTime<Utc>) -> Vec<serde_json::Value> {
    let ts = at.timestamp_millis();
    let mode = mode.as_str();
    let mut out = vec![];
    for w in &o.waves {
        let metrics = figures(&w.rto, &w.rpo, w.rto.missed(), w.rpo.missed());
        if metrics.is_empty() {
            continue;
        }
        out.push(emf::document(
            ts,
            &[("Resource", resource), ("Mode", mode), ("Wave", &w.name)],
            &[],
            &metrics,
            &[("execution", json!(execution)), ("waveIndex", json!(w.index - 1)), ("rto", json!(w.rto)), ("rpo", json!(w.rpo))],
        ));
    }
    let metrics = figures(&o.rto, &o.rpo, o.rto_missed(), o.rpo_missed());
    if !metrics.is_empty() {
        out.push(emf::document(
            ts,
            &[("Resource", resource), ("Mode", mode)],
            &[&["Mode"], &[]],
            &metrics,
            &[
                ("execution", json!(execution)),
                ("rto", json!(o.rto)),
                ("rpo", json!(o.rpo)),
                ("oldestData", json!(o.oldest_data)),
            ],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objectives::{measure, RunTimes, ServerRun, WaveRun};
    use crate::resource::Targets;

    #[test]
    fn a_missed_wave_objective_raises_the_resources_flag_and_no_target_sends_no_flag() {
        let t0 = DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let at = |m: i64| t0 + chrono::Duration::minutes(m);
        let wave = |targets| WaveRun {
            name: "db",
            started: Some(t0),
            ended: Some(at(20)),
            completed: true,
            waits_for: vec![],
            targets,
            servers: vec![ServerRun { id: "s-1", job: None, launched: Some(at(20)), snapshot: Some(at(-3)) }],
        };
        let run = RunTimes { started: t0, ended: true, succeeded: true };
        let o = measure(&run, Targets::default(), &[wave(Targets { rto_minutes: Some(10), rpo_minutes: None })]);
        let docs = objectives(&o, "Billing", Mode::Drill, "x", at(20));
        let (w, r) = (&docs[0], &docs[1]);
        assert_eq!(
            (w["Wave"].as_str(), w["RtoObjectiveMissed"].as_f64(), w["AchievedRtoSeconds"].as_f64()),
            (Some("db"), Some(1.0), Some(1200.0))
        );
        assert_eq!((r["RtoObjectiveMissed"].as_f64(), r["AchievedRpoSeconds"].as_f64()), (Some(1.0), Some(180.0)));
        assert!(r.get("RpoObjectiveMissed").is_none(), "no RPO target: no flag");
        // The resource's document is rolled up without dimensions, for the hub's alarms.
        let sets = &r["_aws"]["CloudWatchMetrics"][0]["Dimensions"];
        assert_eq!(sets, &json!([["Resource", "Mode"], ["Mode"], []]));
        let o = measure(&run, Targets::default(), &[wave(Targets::default())]);
        let docs = objectives(&o, "Billing", Mode::Drill, "x", at(20));
        assert!(docs.iter().all(|d| d.get("RtoObjectiveMissed").is_none() && d.get("RpoObjectiveMissed").is_none()));
    }
}

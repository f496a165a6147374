//! The readiness report for people (a table: one line per resource, then its reasons and
//! each server that is not READY) and for CloudWatch (EMF documents: per resource, and a
//! rollup without dimensions that the hub's alarm on NOT READY reads). One walk each over
//! the one model; the report's clock is the one stated in its header.

use super::{ReadinessReport, ResourceReadiness, Verdict};
use crate::metrics::emf;
use serde_json::{json, Value};
use std::fmt::Write;

pub fn table(report: &ReadinessReport) -> String {
    let mut out = format!(
        "readiness at {} (drills stale after {} days): {}\n",
        report.checked_at.format("%Y-%m-%d %H:%M:%S UTC"),
        report.stale_drill_days,
        report.verdict
    );
    let _ = writeln!(out, "{:<24} {:<20} {:>7} {:>7} {:>7}  last drill", "resource", "verdict", "ready", "verify", "not");
    for r in &report.resources {
        let drill = match &r.last_drill {
            Some(d) => {
                format!("{} ({:.1} days ago{})", d.execution, d.age_days, if d.changed_since { ", changed since" } else { "" })
            }
            None => "none".into(),
        };
        let _ = writeln!(
            out,
            "{:<24} {:<20} {:>7} {:>7} {:>7}  {drill}",
            r.resource,
            r.verdict.as_str(),
            r.count(Verdict::Ready),
            r.count(Verdict::NeedsVerification),
            r.count(Verdict::NotReady)
        );
        for reason in &r.reasons {
            let _ = writeln!(out, "    {reason}");
        }
        for s in r.servers.iter().filter(|s| s.verdict != Verdict::Ready) {
            let _ = writeln!(out, "    {} {}", s.verdict, s.server);
            for reason in &s.reasons {
                let _ = writeln!(out, "        {}: {}", reason.verdict, reason.message);
            }
        }
    }
    out
}

/// One document per resource: its verdict as 0/1 metrics and its servers' counts, by
/// Resource, and rolled up without dimensions (`ResourceNotReady` Maximum: any resource).
pub fn metrics(report: &ReadinessReport) -> Vec<Value> {
    report.resources.iter().map(|r| document(report, r)).collect()
}

fn document(report: &ReadinessReport, r: &ResourceReadiness) -> Value {
    let flag = |v: Verdict| if r.verdict == v { 1.0 } else { 0.0 };
    let mut metrics = vec![
        ("ResourceNotReady", "Count", flag(Verdict::NotReady)),
        ("ResourceNeedsVerification", "Count", flag(Verdict::NeedsVerification)),
        ("ServersReady", "Count", r.count(Verdict::Ready) as f64),
        ("ServersNeedingVerification", "Count", r.count(Verdict::NeedsVerification) as f64),
        ("ServersNotReady", "Count", r.count(Verdict::NotReady) as f64),
    ];
    if let Some(d) = &r.last_drill {
        metrics.push(("LastDrillAgeDays", "None", d.age_days));
    }
    let reasons: Vec<String> = r.reasons.iter().map(ToString::to_string).collect();
    emf::document(
        report.checked_at.timestamp_millis(),
        &[("Resource", &r.resource)],
        &[&[]],
        &metrics,
        &[("readiness", json!(r.verdict.as_str())), ("reasons", json!(reasons))],
    )
}

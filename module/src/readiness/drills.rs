//! The resource's last successful drill, from the run ledger (`Ledger::runs_of`, the runs of
//! its identity): how long ago it ended, and whether the resource's definition changed since
//! (its digest against the one the drill recorded). No successful drill, one older than
//! `readiness.staleDrillDays`, or a change since, each leave the resource unverified.

use super::verdict::{Check, Reason, Verdict};
use crate::ledger::RunListing;
use crate::resource::{DrsResource, Mode};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The last successful drill as readiness saw it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastDrill {
    pub execution: String,
    pub ended: DateTime<Utc>,
    pub age_days: f64,
    /// The resource's definition differs from the one the drill ran (false when the drill
    /// recorded no digest: a record older than the digest).
    pub changed_since: bool,
}

/// The newest drill that ended well, of a resource's runs.
pub fn last_successful(runs: &[RunListing]) -> Option<(&RunListing, DateTime<Utc>)> {
    runs.iter()
        .filter(|r| r.mode == Mode::Drill)
        .filter_map(|r| r.end.as_ref().filter(|e| e.succeeded()).map(|e| (r, e.at)))
        .max_by_key(|(_, at)| *at)
}

/// The verdicts of the resource's drill history, at `now`.
pub fn judge(
    resource: &DrsResource,
    runs: &[RunListing],
    now: DateTime<Utc>,
    stale_days: u64,
) -> (Option<LastDrill>, Vec<Reason>) {
    let Some((run, ended)) = last_successful(runs) else {
        let why = match runs.iter().any(|r| r.mode == Mode::Drill) {
            true => "no drill of this resource (its name and selection) ended successfully",
            false => "this resource (its name and selection) was never drilled",
        };
        return (None, vec![Reason::new(Check::Drill, Verdict::NeedsVerification, why)]);
    };
    let age_days = (now - ended).num_seconds().max(0) as f64 / 86_400.0;
    let changed_since = run.definition_digest.as_ref().is_some_and(|d| *d != resource.definition_digest());
    let mut reasons = vec![];
    if age_days > stale_days as f64 {
        reasons.push(Reason::new(
            Check::Drill,
            Verdict::NeedsVerification,
            format!(
                "the last successful drill ({}) ended {:.0} days ago, over readiness.staleDrillDays ({stale_days})",
                run.execution, age_days
            ),
        ));
    }
    if changed_since {
        reasons.push(Reason::new(
            Check::Changed,
            Verdict::NeedsVerification,
            format!("the parameters changed since the last successful drill ({}): drill it again", run.execution),
        ));
    }
    (Some(LastDrill { execution: run.execution.clone(), ended, age_days, changed_since }), reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::ledger::RunEnd;
    use chrono::{Duration, TimeZone};

    fn run(execution: &str, mode: Mode, end: Option<RunEnd>, digest: &str) -> RunListing {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("a valid time");
        RunListing {
            execution: execution.into(),
            mode,
            definition_digest: Some(digest.into()),
            started: at,
            deadline: None,
            partitions: vec![],
            end,
            cleanup: Default::default(),
        }
    }

    #[test]
    fn the_newest_successful_drill_is_judged_for_age_and_change() {
        let r = DrsResource::new("Web", &serde_json::json!({"Tags": {"Tier": "web"}})).expect("a resource");
        let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 1, 0, 0).single().expect("a valid time");
        let runs = vec![
            run("old", Mode::Drill, Some(RunEnd::done(t0)), &r.definition_digest()),
            run("failed", Mode::Drill, Some(RunEnd::failed(ErrorCode::Timeout, "x", t0 + Duration::days(5))), "zz"),
            run("real", Mode::Recovery, Some(RunEnd::done(t0 + Duration::days(6))), "zz"),
        ];
        let (last, reasons) = judge(&r, &runs, t0 + Duration::days(3), 30);
        assert_eq!((last.as_ref().map(|l| l.execution.as_str()), reasons.len()), (Some("old"), 0));
        let (_, reasons) = judge(&r, &runs, t0 + Duration::days(31), 30);
        assert_eq!(reasons.iter().map(|r| r.check).collect::<Vec<_>>(), [Check::Drill]);
        let changed = DrsResource::new("Web", &serde_json::json!({"Tags": {"Tier": "app"}})).expect("a resource");
        let (last, reasons) = judge(&changed, &runs, t0, 30);
        assert!(last.is_some_and(|l| l.changed_since));
        assert_eq!(reasons.iter().map(|r| r.check).collect::<Vec<_>>(), [Check::Changed]);
        let (none, reasons) = judge(&r, &runs[1..], t0, 30);
        assert!(none.is_none() && reasons[0].message.contains("ended successfully"), "{reasons:?}");
    }
}

//! What a point-in-time run says of its recovery points: in each status check's warnings,
//! the servers that have no recovery snapshot before RecoverBefore (launched from their
//! latest data, or left out); in the run's answer, each server's recovered point (named up
//! to `NAMED`, so that the answer stays far within Step Functions' 256 KiB; the run's report
//! names every one).

use super::left_out::LeftOutKind;
use super::payload::Payload;
use serde_json::{json, Value};

/// Servers the answer names one by one, at most.
const NAMED: usize = 200;
/// Servers a warning names one by one, at most.
const NAMED_IN_WARNING: usize = 10;

/// The warning lines of a point-in-time run: servers launched from their latest data
/// (`onNotReady: warn`) and servers left out (`skip`).
pub fn warnings(payload: &Payload) -> Vec<String> {
    let Some(before) = payload.recover_before.as_ref().map(crate::time::secs) else { return vec![] };
    let latest: Vec<&str> = payload
        .waves
        .iter()
        .flat_map(|w| w.groups.iter().flat_map(|g| g.servers.iter()))
        .filter(|id| !payload.points.contains_key(*id))
        .map(String::as_str)
        .collect();
    let skipped: Vec<String> = payload
        .left_out
        .iter()
        .filter(|l| l.kind == LeftOutKind::NoRecoveryPoint)
        .map(|l| format!("{} ({})", l.hostname.as_deref().unwrap_or("?"), l.source_server_id.as_deref().unwrap_or("?")))
        .collect();
    let mut out = vec![];
    if !latest.is_empty() {
        out.push(format!(
            "{} servers have no recovery snapshot before {before} and launch from their latest data \
             (Selection.onNotReady: warn): {}",
            latest.len(),
            names(latest.iter().map(|s| s.to_string()).collect())
        ));
    }
    if !skipped.is_empty() {
        out.push(format!(
            "{} servers have no recovery snapshot before {before} and are left out (Selection.onNotReady: skip): {}",
            skipped.len(),
            names(skipped)
        ));
    }
    out
}

/// Up to `NAMED_IN_WARNING` of `all`, and how many more (the report names every one).
pub(super) fn names(mut all: Vec<String>) -> String {
    let more = all.len().saturating_sub(NAMED_IN_WARNING);
    all.truncate(NAMED_IN_WARNING);
    let mut text = all.join(", ");
    if more > 0 {
        text += &format!(" and {more} more (the run's report names every one)");
    }
    text
}

/// The answer's `recoveryPoints`: the time, and each server's snapshot and when it was taken
/// (its recovered point), oldest first; None when the run recovers the latest data.
pub fn summary(payload: &Payload) -> Option<Value> {
    let before = payload.recover_before?;
    let mut points: Vec<(&String, &crate::pitr::RecoveryPoint)> = payload.points.iter().collect();
    points.sort_by_key(|(id, p)| (p.taken, *id));
    let servers: Vec<Value> = points
        .iter()
        .take(NAMED)
        .map(|(id, p)| {
            json!({"sourceServerID": id, "snapshotID": p.snapshot_id, "taken": crate::time::secs(&p.taken),
                   "ageSeconds": p.age_s(before)})
        })
        .collect();
    Some(json!({
        "recoverBefore": crate::time::secs(&before),
        "fromSnapshots": points.len(),
        "oldest": points.first().map(|(_, p)| crate::time::secs(&p.taken)),
        "newest": points.last().map(|(_, p)| crate::time::secs(&p.taken)),
        "servers": servers,
        "notNamed": points.len().saturating_sub(NAMED),
    }))
}

//! A point-in-time run's snapshot that DRS no longer keeps when its wave starts. The run
//! chooses each server's snapshot once, when it is planned; a wave held back for longer than
//! DRS keeps that snapshot (a long approval, a hook's delay, an outage) would have
//! StartRecovery refuse it. When StartRecovery refuses a chunk that names snapshots, each is
//! looked for again (`pitr::recheck`): one DRS still keeps is kept; one it does not is
//! replaced by the newest it keeps from before the time (still before it, as close to it as
//! DRS allows). With none left, the server launches its latest data under `onNotReady: warn`
//! and is given up otherwise. Each replacement is recorded once in the run's record (a
//! concurrent check's wins) and followed by every later check (`apply`), the answer and the
//! report. A replacement that is itself gone by the time its server can start (held back by
//! a busy server or the quotas) is replaced in turn, a write that holds only while the record
//! still has it; the record keeps the snapshot chosen at planning as the one replaced.

use super::payload::Payload;
use super::progress::ServerFailure;
use super::wave::Check;
use crate::config::Partition;
use crate::ledger::{Repointed, RunRecord};
use crate::pitr::{self, Recheck, RecoveryPoint};
use std::collections::BTreeMap;

/// The plan as the record's replacements leave it: each replaced snapshot's successor, and no
/// snapshot for a server that has none left.
pub fn apply(plan: &mut Payload, record: &RunRecord) {
    for (id, r) in &record.repointed {
        match &r.now {
            Some(point) => _ = plan.points.insert(id.clone(), point.clone()),
            None => _ = plan.points.remove(id),
        }
    }
}

/// What looking again at a refused chunk's snapshots came to.
#[derive(Debug, Default)]
pub struct Repointing {
    /// The chunk's snapshots after the replacements, by source server id.
    pub points: BTreeMap<String, RecoveryPoint>,
    /// Servers with no snapshot before the time left, given up (not under `onNotReady: warn`).
    pub gave_up: Vec<ServerFailure>,
    /// How many snapshots were replaced or found gone: none, and the refusal was another.
    pub changed: usize,
    /// Replacements that could not be recorded: the chunk waits for the next check.
    pub unrecorded: Vec<String>,
    /// Snapshots whose retention could not be read again (throttled, no answer): with none
    /// changed, the chunk waits for the next check rather than fail on a refusal that may be
    /// this very expiry.
    pub unread: Vec<String>,
}

/// Looks again at the snapshots the chunk `ids` of partition `p` names, after StartRecovery
/// refused it; records what replaces each one DRS no longer keeps.
pub async fn replace(c: &Check<'_>, w: usize, p: &Partition, ids: &[&String]) -> Repointing {
    let payload = c.payload;
    let mut out = Repointing::default();
    let Some(before) = payload.recover_before else { return out };
    let chosen: Vec<(String, RecoveryPoint)> =
        ids.iter().filter_map(|id| payload.points.get(id.as_str()).map(|pt| ((*id).clone(), pt.clone()))).collect();
    out.points = chosen.iter().cloned().collect();
    let store = crate::ledger::of(c.clients);
    for (id, verdict) in pitr::recheck(c.clients, p, before, &chosen).await {
        let (now, why) = match verdict {
            Recheck::Kept => continue,
            Recheck::Unread(e) => {
                out.unread.push(format!("{id}: {e}"));
                continue;
            }
            Recheck::Replaced(point) => (Some(point), String::new()),
            Recheck::Gone(why) => (None, why),
        };
        let Some(current) = out.points.get(&id).cloned() else { continue };
        // A replacement that is itself no longer kept (its resend was held back, by a busy
        // server or the quotas, for longer than DRS kept it) is replaced in turn; the record
        // keeps the snapshot chosen at planning as `was`.
        let earlier = c.record.repointed.get(&id).filter(|r| r.now.as_ref() == Some(&current));
        let was = earlier.map_or_else(|| current.clone(), |r| r.was.clone());
        let asked = Repointed { was, now, why, at: c.clients.now() };
        let written = match earlier {
            Some(_) => store.repoint_again(&payload.key(), &id, &current.snapshot_id, &asked).await,
            None => store.repoint(&payload.key(), &id, &asked).await,
        };
        let held = match written {
            Ok(held) => held,
            Err(e) => {
                out.unrecorded.push(format!("{id}: {e}"));
                continue;
            }
        };
        out.changed += 1;
        tracing::warn!(execution = %payload.execution, wave = w, server = %id, was = %held.was.snapshot_id,
            now = ?held.now.as_ref().map(|n| &n.snapshot_id), "recovery snapshot no longer kept; replaced");
        match &held.now {
            Some(point) => _ = out.points.insert(id, point.clone()),
            None => {
                out.points.remove(&id);
                if !payload.latest_without_point {
                    out.gave_up.push(ServerFailure {
                        source_server_id: id,
                        hostname: None,
                        partition: p.to_string(),
                        reason: gone_reason(&held, before),
                    });
                }
            }
        }
    }
    out
}

/// The servers of wave `w` whose snapshot went with none left before the time, given up by
/// the run's record of it (not under `onNotReady: warn`).
pub fn given_up(payload: &Payload, record: &RunRecord, w: usize) -> Vec<ServerFailure> {
    let (Some(before), false) = (payload.recover_before, payload.latest_without_point) else { return vec![] };
    if record.repointed.is_empty() {
        return vec![];
    }
    let Some(wave) = payload.waves.get(w) else { return vec![] };
    wave.groups
        .iter()
        .flat_map(|g| g.servers.iter().map(move |id| (g.partition, id)))
        .filter_map(|(p, id)| {
            let r = record.repointed.get(id).filter(|r| r.now.is_none())?;
            Some(ServerFailure {
                source_server_id: id.clone(),
                hostname: None,
                partition: payload.partitions.get(p).cloned().unwrap_or_default(),
                reason: gone_reason(r, before),
            })
        })
        .collect()
}

/// What the report says of a server whose snapshot was replaced.
pub fn note(r: &Repointed) -> String {
    let was = format!("{} (taken {})", r.was.snapshot_id, crate::time::secs(&r.was.taken));
    match &r.now {
        Some(n) => format!(
            "recovery snapshot {was}, chosen when the run was planned, was no longer kept when its wave started: \
             replaced by {}, the newest kept from before the time",
            n.snapshot_id
        ),
        None => {
            format!("recovery snapshot {was} was no longer kept when its wave started, and none from before the time: {}", r.why)
        }
    }
}

/// Why a server whose snapshot went, with none left before the time, is given up.
fn gone_reason(r: &Repointed, before: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "its recovery snapshot {} (taken {}) was no longer kept when its wave started, and DRS keeps none from \
         before parameters.RecoverBefore ({}): {}; given up (Selection.onNotReady: warn would launch its latest data)",
        r.was.snapshot_id,
        crate::time::secs(&r.was.taken),
        crate::time::secs(&before),
        r.why
    )
}

/// The warning lines of a run whose snapshots were replaced, or found gone with none left
/// before the time (each kind named up to `NAMED`).
pub fn warnings(payload: &Payload, record: &RunRecord) -> Vec<String> {
    let Some(before) = payload.recover_before.as_ref().map(crate::time::secs) else { return vec![] };
    let was = |id: &str, r: &Repointed| format!("{id} ({} taken {})", r.was.snapshot_id, crate::time::secs(&r.was.taken));
    let (mut replaced, mut gone) = (vec![], vec![]);
    for (id, r) in &record.repointed {
        match &r.now {
            Some(n) => replaced.push(format!("{} -> {} taken {}", was(id, r), n.snapshot_id, crate::time::secs(&n.taken))),
            None => gone.push(was(id, r)),
        }
    }
    let mut out = vec![];
    if !replaced.is_empty() {
        out.push(format!(
            "{} servers' recovery snapshots were no longer kept by DRS when their wave started and were replaced by the \
             newest it keeps from before {before}: {}",
            replaced.len(),
            super::points::names(replaced)
        ));
    }
    if !gone.is_empty() {
        let then = if payload.latest_without_point {
            "they launch their latest data (Selection.onNotReady: warn)"
        } else {
            "they are given up (Selection.onNotReady: warn would launch their latest data)"
        };
        out.push(format!(
            "{} servers' recovery snapshots were no longer kept by DRS when their wave started, and it keeps none from \
             before {before}: {then}: {}",
            gone.len(),
            super::points::names(gone)
        ));
    }
    out
}

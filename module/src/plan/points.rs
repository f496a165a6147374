//! The plan's recovery points: for a resource with `RecoverBefore`, each server's newest
//! recovery snapshot taken before the time (`pitr::find`) and its age against the time, and
//! the servers without one judged by the resource's `Selection.onNotReady`: `fail` is an error
//! of the resource (nothing starts), `warn` launches its latest data and `skip` leaves it out,
//! both named in the resolution's warnings.

use super::{Plan, ResourcePlan};
use crate::aws::Clients;
use crate::pitr::{self, PointError, RecoveryPoint};
use crate::resource::DrsResource;
use crate::selection::{Action, ServerRef};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A resource's recovery points as planned.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PointsPlan {
    /// `RecoverBefore`.
    pub before: DateTime<Utc>,
    /// What a server without a snapshot before the time does (`Selection.onNotReady`).
    pub on_missing: Action,
    pub chosen: Vec<Chosen>,
    pub missing: Vec<MissingPoint>,
}

/// A server and the snapshot it launches.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chosen {
    pub server: ServerRef,
    pub snapshot_id: String,
    pub taken: DateTime<Utc>,
    /// How long before `RecoverBefore` it was taken.
    pub age_seconds: f64,
}

/// A server with no recovery snapshot before the time, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingPoint {
    pub server: ServerRef,
    pub reason: String,
}

impl PointsPlan {
    /// The chosen snapshots by source server id, as the run's plan keeps them.
    pub fn by_server(&self) -> BTreeMap<String, RecoveryPoint> {
        self.chosen
            .iter()
            .map(|c| (c.server.source_server_id.clone(), RecoveryPoint { snapshot_id: c.snapshot_id.clone(), taken: c.taken }))
            .collect()
    }

    /// The servers left out of the run (none unless `onNotReady` is `skip`).
    pub fn skipped(&self) -> impl Iterator<Item = &MissingPoint> {
        self.missing.iter().filter(|_| self.on_missing == Action::Skip)
    }

    /// Lines for the plan's text: each server's snapshot and its age, each one without.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let before = crate::time::secs(&self.before);
        let _ = writeln!(
            out,
            "  recover before {before}: {} servers from a recovery snapshot, {} without one",
            self.chosen.len(),
            self.missing.len()
        );
        for c in &self.chosen {
            let _ = writeln!(
                out,
                "    {}: {} taken {}, {} before",
                c.server,
                c.snapshot_id,
                crate::time::secs(&c.taken),
                age(c.age_seconds)
            );
        }
        let does = match self.on_missing {
            Action::Fail => "fails the run (Selection.onNotReady: fail)",
            Action::Warn => "launches its latest data (Selection.onNotReady: warn)",
            Action::Skip => "is left out (Selection.onNotReady: skip)",
        };
        for m in &self.missing {
            let _ = writeln!(out, "    {}: NO recovery snapshot before {before}: {}; it {does}", m.server, m.reason);
        }
        out
    }
}

/// An age as people read it: `9m 56s`, `2h 00m`, `3d 01h`.
fn age(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    match (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60) {
        (0, 0, m, s) => format!("{m}m {s:02}s"),
        (0, h, m, _) => format!("{h}h {m:02}m"),
        (d, h, _, _) => format!("{d}d {h:02}h"),
    }
}

/// Finds the recovery points of every resource of `plan` that names `RecoverBefore` (matched
/// to `resources` by name) and adds them to its plan, its errors and its warnings. A time
/// after the run's clock is refused for the first resource that names one.
pub async fn attach(clients: &Clients, plan: &mut Plan, resources: &[&DrsResource]) -> Result<(), PointError> {
    for r in plan.resources.iter_mut() {
        let Some(resource) = resources.iter().find(|x| x.name == r.resource_name) else { continue };
        let Some(before) = resource.recovery.recover_before else { continue };
        pitr::check_time(&resource.name, before, clients.now())?;
        let found = pitr::find(clients, before, &r.resolution.servers).await;
        judge(r, resource.selection.policy.on_not_ready, before, found);
    }
    Ok(())
}

fn judge(r: &mut ResourcePlan, on_missing: Action, before: DateTime<Utc>, found: pitr::Found) {
    let name = r.resource_name.clone();
    let when = crate::time::secs(&before);
    for (p, (why, n)) in &found.unread {
        r.resolution
            .errors
            .push(format!("{name}: RecoverBefore: the recovery snapshots of {n} servers in {p} cannot be read: {why}"));
    }
    for m in &found.missing {
        let line = format!("{name}: {} has no recovery snapshot before {when}: {}", m.server, m.reason);
        match on_missing {
            Action::Fail => r.resolution.errors.push(line + " (Selection.onNotReady: fail)"),
            Action::Warn => r.resolution.warnings.push(line + "; it launches its latest data (Selection.onNotReady: warn)"),
            Action::Skip => r.resolution.warnings.push(line + "; it is left out (Selection.onNotReady: skip)"),
        }
    }
    let chosen = r
        .resolution
        .servers
        .iter()
        .filter_map(|s| {
            let point = found.points.get(&s.source_server_id)?;
            Some(Chosen {
                server: s.clone(),
                snapshot_id: point.snapshot_id.clone(),
                taken: point.taken,
                age_seconds: point.age_s(before),
            })
        })
        .collect();
    let missing = found.missing.into_iter().map(|m| MissingPoint { server: m.server, reason: m.reason }).collect();
    r.recovery_points = Some(PointsPlan { before, on_missing, chosen, missing });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_minutes_hours_or_days() {
        assert_eq!(age(596.0), "9m 56s");
        assert_eq!(age(7200.0), "2h 00m");
        assert_eq!(age(3.0 * 86_400.0 + 3600.0), "3d 01h");
    }
}

//! A wave boundary with hooks: `after-wave` of the wave that ended, then `before-wave` of the
//! next, their answers judged by the tenant's policy and turned into one verdict. What must
//! outlive the check is in the run's ledger record, each decided once by a conditional write
//! (a concurrent or re-delivered check follows the record): how the wave crossed (the servers
//! its hooks left out, their decisions as the wave's jobs carry them) and a delay's hold. One
//! write, so a decision is never half applied, and no write to a partition that may be dark.

use super::observe::{self, ObservedJob, ServerInfo};
use super::payload::Payload;
use super::progress::{HookDecision, ServerFailure};
use super::wave::Check;
use crate::aws::Clients;
use crate::config::{HookFailure, Partition};
use crate::error::ErrorCode;
use crate::hooks::context::{self, Wave};
use crate::hooks::runner::{Answer, HookSet};
use crate::ledger::{Crossing, RunRecord};
use chrono::{DateTime, Utc};
use drs_host::Decision;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The wave's servers as hooks see them, and what the run's record holds of its boundary.
#[derive(Default)]
pub struct Marks {
    /// (partition, server) in payload order.
    pub servers: Vec<(Partition, ServerInfo)>,
    /// Skipped server id -> the hook that skipped it (the recorded crossing's).
    pub skipped: BTreeMap<String, String>,
    /// A hook's delay, as recorded.
    pub hold_until: Option<DateTime<Utc>>,
    /// Partitions (payload indexes) whose servers could not be read: known down before the
    /// read, or failing now (the error). Their servers are not in `servers`.
    pub unread: BTreeMap<usize, String>,
}

/// Each group with its partition.
fn asked_again<'a>(
    groups: &[&'a super::payload::Group],
    payload: &Payload,
) -> anyhow::Result<Vec<(Partition, &'a super::payload::Group)>> {
    groups.iter().map(|g| payload.partition(g.partition).map(|p| (p, *g))).collect()
}

/// Every partition of the wave at once; one known to be down (`down`: payload indexes) is not
/// asked, and one that fails now is named in `unread` rather than failing the check.
pub async fn marks(
    clients: &Clients,
    payload: &Payload,
    w: usize,
    down: &BTreeSet<usize>,
    record: &RunRecord,
) -> anyhow::Result<Marks> {
    let mut m = Marks {
        skipped: record.crossing(w).map(|c| c.skip.clone()).unwrap_or_default(),
        hold_until: record.hold(w),
        ..Marks::default()
    };
    let groups: Vec<&super::payload::Group> = payload.waves[w].groups.iter().collect();
    let asked = asked_again(&groups, payload)?;
    let read = crate::aws::fanout::each(clients, asked, |(p, g)| async move {
        if down.contains(&g.partition) {
            anyhow::bail!("{p}: unreachable at this check");
        }
        observe::servers(clients, &p, g.servers.iter().map(String::as_str)).await
    })
    .await;
    for ((p, g), found) in asked_again(&groups, payload)?.into_iter().zip(read) {
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                m.unread.insert(g.partition, format!("{e:#}"));
                continue;
            }
        };
        let by: BTreeMap<&str, &ServerInfo> = found.iter().map(|s| (s.source_server_id.as_str(), s)).collect();
        for id in &g.servers {
            let Some(s) = by.get(id.as_str()) else { continue };
            m.servers.push((p.clone(), (*s).clone()));
        }
    }
    Ok(m)
}

pub enum Verdict {
    /// Start the wave without these servers (id -> hook).
    Proceed {
        skip: BTreeMap<String, String>,
    },
    /// A hook's delay has not passed.
    Wait(String),
    /// Hold at the pause gate with this reason.
    Pause(String),
    Fail {
        code: ErrorCode,
        message: String,
    },
}

fn wave<'a>(clients: &Clients, payload: &'a Payload, set: &'a HookSet, w: usize) -> Wave<'a> {
    let name = &payload.waves[w].name;
    Wave { execution: &payload.execution, tenant: &set.tenant, mode: payload.mode, index: w, name, now: clients.now() }
}

fn describe(d: &Decision) -> (String, Option<String>) {
    match d {
        Decision::Proceed => ("proceed".into(), None),
        Decision::Skip(ids) => ("skip".into(), Some(format!("{} servers: {}", ids.len(), ids.join(", ")))),
        Decision::Delay(s) => ("delay".into(), Some(format!("{s} s"))),
        Decision::Pause(r) => ("pause".into(), Some(r.clone())),
        Decision::Abort(r) => ("abort".into(), Some(r.clone())),
    }
}

/// Runs `after-wave` of the waves that `ended` (each with its failed servers) and
/// `before-wave` of wave `w`, and judges the answers; also returns every answer as recorded
/// (the after-wave ones first) and how many of them are about each wave that ended.
pub async fn decide(
    c: &super::wave::Check<'_>,
    w: usize,
    set: &HookSet,
    marks: &Marks,
    ended: &[(usize, Vec<ServerFailure>)],
) -> anyhow::Result<(Verdict, Vec<HookDecision>, Vec<(usize, usize)>)> {
    let (clients, payload) = (c.clients, c.payload);
    let mut record = vec![];
    let mut answers = vec![];
    let mut counts = vec![];
    for (d, failures) in ended {
        let about = after(c, *d, failures, set).await?;
        counts.push((*d, about.len()));
        answers.extend(about);
    }
    answers.extend(set.before_wave(context::context(&wave(clients, payload, set, w), &marks.servers)).await);
    let verdict = judge(&answers, set.on_failure, marks, clients.now(), &mut record);
    if let Verdict::Wait(_) = &verdict {
        if marks.hold_until.is_none() {
            let delay = answers.iter().filter_map(|a| match a.result {
                Ok(Decision::Delay(s)) => Some(s),
                _ => None,
            });
            let until = clients.now() + chrono::Duration::seconds(delay.max().unwrap_or(0) as i64);
            let until = crate::ledger::of(clients).hold(&payload.key(), w, until).await?;
            return Ok((Verdict::Wait(format!("a hook delays the wave until {}", until.to_rfc3339())), record, counts));
        }
    }
    Ok((verdict, record, counts))
}

/// `after-wave` of wave `w` (the wave's outcome per server); also run after the last wave.
/// `failures`: the wave's failed servers with their reasons, as the status check found them.
pub async fn after(c: &Check<'_>, w: usize, failures: &[ServerFailure], set: &HookSet) -> anyhow::Result<Vec<Answer>> {
    let (clients, payload, jobs) = (c.clients, c.payload, c.jobs);
    let m = marks(clients, payload, w, &c.down(), c.record).await?;
    let wjobs: Vec<&ObservedJob> = jobs.iter().filter(|j| j.wave == w).collect();
    let launched: HashSet<String> = wjobs
        .iter()
        .flat_map(|j| j.servers.iter())
        .filter(|s| s.launch_status == super::observe::LaunchStatus::Launched)
        .map(|s| s.source_server_id.clone())
        .collect();
    let failed: BTreeMap<String, String> = failures.iter().map(|f| (f.source_server_id.clone(), f.reason.clone())).collect();
    let servers: Vec<(Partition, ServerInfo)> =
        m.servers.into_iter().filter(|(_, s)| !m.skipped.contains_key(&s.source_server_id)).collect();
    Ok(set.after_wave(context::result(&wave(clients, payload, set, w), &servers, &launched, &failed)).await)
}

/// The answers, judged: a hook that failed or could not load by the tenant's policy; abort
/// over delay over pause.
pub fn judge(
    answers: &[Answer],
    policy: HookFailure,
    marks: &Marks,
    now: DateTime<Utc>,
    record: &mut Vec<HookDecision>,
) -> Verdict {
    let (mut skip, mut pauses, mut delayed, mut abort) = (BTreeMap::new(), vec![], false, None);
    for a in answers {
        for l in &a.logs {
            tracing::info!(hook = %a.hook, point = a.point, "{l}");
        }
        let (decision, detail) = match &a.result {
            Ok(d) => describe(d),
            Err(f) if policy == HookFailure::FailOpen => {
                (format!("{} (fail-open: proceed)", f.what()), Some(f.reason().to_owned()))
            }
            Err(f) => (format!("{} (fail-closed: abort)", f.what()), Some(f.reason().to_owned())),
        };
        record.push(HookDecision { hook: a.hook.clone(), point: a.point.into(), decision, detail });
        match &a.result {
            Err(f) if policy == HookFailure::FailClosed => {
                let (what, why) = (f.what(), f.reason());
                abort.get_or_insert((
                    ErrorCode::HookFailed,
                    format!("hook {} ({}) {what} and the tenant's policy is fail-closed: {why}", a.hook, a.point),
                ));
            }
            Err(_) | Ok(Decision::Proceed) => {}
            Ok(Decision::Abort(r)) => {
                abort.get_or_insert((ErrorCode::HookAborted, format!("hook {} ({}) aborted the run: {r}", a.hook, a.point)));
            }
            Ok(Decision::Pause(r)) => pauses.push(format!("{}: {r}", a.hook)),
            Ok(Decision::Delay(_)) => delayed = true,
            Ok(Decision::Skip(ids)) if a.point == "before-wave" => {
                for id in ids {
                    skip.insert(id.clone(), a.hook.clone());
                }
            }
            // Skipping the servers of a wave that already ran means nothing: recorded only.
            Ok(Decision::Skip(_)) => {}
        }
    }
    if let Some((code, message)) = abort {
        return Verdict::Fail { code, message };
    }
    // A delay is served once: when its hold has passed, the wave goes on.
    match (delayed, marks.hold_until) {
        (true, None) => return Verdict::Wait(String::new()),
        (true, Some(until)) if now < until => {
            return Verdict::Wait(format!("a hook delays the wave until {}", until.to_rfc3339()))
        }
        _ => {}
    }
    if !pauses.is_empty() {
        return Verdict::Pause(pauses.join("; "));
    }
    Verdict::Proceed { skip }
}

/// Records how wave `w` crosses (before anything of it starts); returns the crossing that
/// holds, this one or the one a concurrent check recorded first, whose skips the wave takes.
pub async fn record_crossing(
    c: &Check<'_>,
    w: usize,
    skip: BTreeMap<String, String>,
    decisions: String,
) -> anyhow::Result<Crossing> {
    let components = c.hooks.map(|h| h.digests().clone()).unwrap_or_default();
    let crossing = Crossing { skip, decisions, components, at: c.clients.now() };
    Ok(crate::ledger::of(c.clients).cross(&c.payload.key(), w, &crossing).await?)
}

/// The decisions as one tag value (at most 256 characters) for the wave's jobs.
pub fn tag_value(record: &[HookDecision]) -> String {
    let text: Vec<String> = record.iter().map(|d| format!("{}:{}={}", d.hook, d.point, d.decision)).collect();
    text.join(";").chars().take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::runner::Failure;

    fn answer(hook: &str, point: &'static str, result: Result<Decision, Failure>) -> Answer {
        Answer { hook: hook.into(), point, result, logs: vec![] }
    }

    fn verdict(answers: &[Answer], policy: HookFailure) -> (Verdict, Vec<HookDecision>) {
        let mut record = vec![];
        let v = judge(answers, policy, &Marks::default(), Utc::now(), &mut record);
        (v, record)
    }

    #[test]
    fn abort_outranks_delay_which_outranks_pause_and_skip() {
        let pause = answer("a", "before-wave", Ok(Decision::Pause("probe red".into())));
        let delay = answer("b", "before-wave", Ok(Decision::Delay(30)));
        let abort = answer("c", "after-wave", Ok(Decision::Abort("half failed".into())));
        let skip = answer("d", "before-wave", Ok(Decision::Skip(vec!["s-1".into()])));
        let (v, record) = verdict(&[pause, delay, abort, skip], HookFailure::FailOpen);
        assert!(matches!(v, Verdict::Fail { code: ErrorCode::HookAborted, ref message } if message.contains("half failed")));
        assert_eq!(record.len(), 4, "every answer is recorded");

        let (v, _) = verdict(
            &[answer("a", "before-wave", Ok(Decision::Pause("x".into()))), answer("b", "before-wave", Ok(Decision::Delay(5)))],
            HookFailure::FailClosed,
        );
        assert!(matches!(v, Verdict::Wait(_)));
        let (v, _) = verdict(
            &[
                answer("a", "before-wave", Ok(Decision::Pause("x".into()))),
                answer("d", "before-wave", Ok(Decision::Skip(vec!["s-1".into()]))),
            ],
            HookFailure::FailClosed,
        );
        assert!(matches!(v, Verdict::Pause(ref r) if r == "a: x"));
    }

    #[test]
    fn a_failed_or_unloadable_hook_follows_the_tenants_policy_and_after_wave_skips_are_only_recorded() {
        let failed = || answer("h", "before-wave", Err(Failure::Call("hook ran longer than its 50 ms limit".into())));
        let (v, record) = verdict(&[failed()], HookFailure::FailClosed);
        assert!(matches!(v, Verdict::Fail { code: ErrorCode::HookFailed, .. }));
        assert!(record[0].decision.contains("fail-closed"));
        let (v, record) = verdict(&[failed()], HookFailure::FailOpen);
        assert!(matches!(v, Verdict::Proceed { ref skip } if skip.is_empty()));
        assert!(record[0].decision.contains("fail-open"));

        let unloadable = || answer("u", "before-wave", Err(Failure::Load("component hash 1 does not match its pin 2".into())));
        let (v, record) = verdict(&[unloadable()], HookFailure::FailClosed);
        assert!(matches!(v, Verdict::Fail { code: ErrorCode::HookFailed, ref message }
                if message == "hook u (before-wave) could not load and the tenant's policy is fail-closed: component hash 1 does not match its pin 2"),);
        assert_eq!(record[0].decision, "could not load (fail-closed: abort)");
        let (v, record) = verdict(&[unloadable()], HookFailure::FailOpen);
        assert!(matches!(v, Verdict::Proceed { ref skip } if skip.is_empty()));
        assert_eq!(record[0].decision, "could not load (fail-open: proceed)");
        assert_eq!(record[0].detail.as_deref(), Some("component hash 1 does not match its pin 2"));

        let late = answer("d", "after-wave", Ok(Decision::Skip(vec!["s-1".into()])));
        let (v, _) = verdict(&[late], HookFailure::FailClosed);
        assert!(matches!(v, Verdict::Proceed { ref skip } if skip.is_empty()));
    }
}

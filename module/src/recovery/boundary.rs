//! A wave boundary with hooks: `after-wave` of the wave that ended, then `before-wave` of the
//! next, their answers judged by the tenant's policy and turned into one verdict. What must
//! outlive the check is written where every later check reads it: servers a hook skipped
//! carry the tag `drs-orch:skipped` (`<execution>/<wave>/<hook>`), a delay is a
//! `drs-orch:hold` tag (`<execution>/<wave>/<not before>`) on the wave's first server, and
//! the decisions ride on the wave's jobs as `drs-orch:hooks`.

use super::observe::{self, ObservedJob, ServerInfo};
use super::payload::Payload;
use super::progress::{HookDecision, ServerFailure};
use crate::aws::Clients;
use crate::config::HookFailure;
use crate::error::ErrorCode;
use crate::hooks::context::{self, Wave};
use crate::hooks::runner::{Answer, HookSet};
use chrono::{DateTime, Utc};
use drs_host::Decision;
use std::collections::{BTreeMap, HashSet};

pub const SKIPPED: &str = "drs-orch:skipped";
pub const HOLD: &str = "drs-orch:hold";

/// What earlier checks left on the wave's servers.
#[derive(Default)]
pub struct Marks {
    /// (partition, server) in payload order.
    pub servers: Vec<(String, ServerInfo)>,
    /// Skipped server id -> the hook that skipped it.
    pub skipped: BTreeMap<String, String>,
    pub hold_until: Option<DateTime<Utc>>,
}

pub async fn marks(clients: &Clients, payload: &Payload, w: usize) -> anyhow::Result<Marks> {
    let prefix = format!("{}/{w}/", payload.execution);
    let mut m = Marks::default();
    for g in &payload.waves[w].groups {
        let p = payload.partition(g.partition)?;
        let found = observe::servers(clients, &p, g.servers.iter().map(String::as_str)).await?;
        let by: BTreeMap<&str, &ServerInfo> = found.iter().map(|s| (s.source_server_id.as_str(), s)).collect();
        for id in &g.servers {
            let Some(s) = by.get(id.as_str()) else { continue };
            if let Some(hook) = s.tags.get(SKIPPED).and_then(|v| v.strip_prefix(&prefix)) {
                m.skipped.insert(id.clone(), hook.to_owned());
            }
            if let Some(t) = s.tags.get(HOLD).and_then(|v| v.strip_prefix(&prefix)) {
                m.hold_until = t.parse().ok();
            }
            m.servers.push((payload.partitions[g.partition].clone(), (*s).clone()));
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

fn wave<'a>(payload: &'a Payload, set: &'a HookSet, w: usize) -> Wave<'a> {
    Wave { execution: &payload.execution, tenant: &set.tenant, mode: payload.mode, index: w, name: &payload.waves[w].name }
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

/// Runs `after-wave` of wave `w - 1` and `before-wave` of wave `w`, and judges the answers;
/// also returns every answer as recorded.
pub async fn decide(
    clients: &Clients,
    payload: &Payload,
    w: usize,
    jobs: &[ObservedJob],
    set: &HookSet,
    marks: &Marks,
    previous_failures: &[ServerFailure],
) -> anyhow::Result<(Verdict, Vec<HookDecision>)> {
    let mut record = vec![];
    let mut answers = vec![];
    if w > 0 {
        answers.extend(after(clients, payload, w - 1, jobs, previous_failures, set).await?);
    }
    answers.extend(set.before_wave(context::context(&wave(payload, set, w), &marks.servers)).await);
    let verdict = judge(&answers, set.on_failure, marks, &mut record);
    if let Verdict::Wait(_) = &verdict {
        if marks.hold_until.is_none() {
            let delay = answers.iter().filter_map(|a| match a.result {
                Ok(Decision::Delay(s)) => Some(s),
                _ => None,
            });
            let until = Utc::now() + chrono::Duration::seconds(delay.max().unwrap_or(0) as i64);
            hold(clients, payload, w, marks, until).await?;
            return Ok((Verdict::Wait(format!("a hook delays the wave until {}", until.to_rfc3339())), record));
        }
    }
    Ok((verdict, record))
}

/// `after-wave` of wave `w` (the wave's outcome per server); also run after the last wave.
/// `failures`: the wave's failed servers with their reasons, as the status check found them.
pub async fn after(
    clients: &Clients,
    payload: &Payload,
    w: usize,
    jobs: &[ObservedJob],
    failures: &[ServerFailure],
    set: &HookSet,
) -> anyhow::Result<Vec<Answer>> {
    let m = marks(clients, payload, w).await?;
    let wjobs: Vec<&ObservedJob> = jobs.iter().filter(|j| j.wave == w).collect();
    let launched: HashSet<String> = wjobs
        .iter()
        .flat_map(|j| j.servers.iter())
        .filter(|s| s.launch_status == super::observe::LaunchStatus::Launched)
        .map(|s| s.source_server_id.clone())
        .collect();
    let failed: BTreeMap<String, String> = failures.iter().map(|f| (f.source_server_id.clone(), f.reason.clone())).collect();
    let servers: Vec<(String, ServerInfo)> =
        m.servers.into_iter().filter(|(_, s)| !m.skipped.contains_key(&s.source_server_id)).collect();
    Ok(set.after_wave(context::result(&wave(payload, set, w), &servers, &launched, &failed)).await)
}

/// The answers, judged: a failed hook by the tenant's policy; abort over delay over pause.
pub fn judge(answers: &[Answer], policy: HookFailure, marks: &Marks, record: &mut Vec<HookDecision>) -> Verdict {
    let (mut skip, mut pauses, mut delayed, mut abort) = (BTreeMap::new(), vec![], false, None);
    for a in answers {
        for l in &a.logs {
            tracing::info!(hook = %a.hook, point = a.point, "{l}");
        }
        let (decision, detail) = match &a.result {
            Ok(d) => describe(d),
            Err(e) if policy == HookFailure::FailOpen => ("failed (fail-open: proceed)".to_owned(), Some(e.clone())),
            Err(e) => ("failed (fail-closed: abort)".to_owned(), Some(e.clone())),
        };
        record.push(HookDecision { hook: a.hook.clone(), point: a.point.into(), decision, detail });
        match &a.result {
            Err(e) if policy == HookFailure::FailClosed => {
                abort.get_or_insert((
                    ErrorCode::HookFailed,
                    format!("hook {} ({}) failed and the tenant's policy is fail-closed: {e}", a.hook, a.point),
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
        (true, Some(until)) if Utc::now() < until => {
            return Verdict::Wait(format!("a hook delays the wave until {}", until.to_rfc3339()))
        }
        _ => {}
    }
    if !pauses.is_empty() {
        return Verdict::Pause(pauses.join("; "));
    }
    Verdict::Proceed { skip }
}

async fn tag(clients: &Clients, partition: &str, arn: &str, key: &str, value: String) -> anyhow::Result<()> {
    let (account, region) = partition.split_once('/').unwrap_or_default();
    let p = crate::config::Partition { account: account.into(), region: region.into() };
    let drs = clients.drs(&p).await?;
    drs.tag_resource().resource_arn(arn).tags(key, value).send().await.map_err(|e| super::failed(&p, "drs:TagResource", &e))?;
    Ok(())
}

async fn hold(clients: &Clients, payload: &Payload, w: usize, marks: &Marks, until: DateTime<Utc>) -> anyhow::Result<()> {
    let Some((p, first)) = marks.servers.first() else { return Ok(()) };
    let value = format!("{}/{w}/{}", payload.execution, until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    tag(clients, p, &first.arn, HOLD, value).await
}

/// Marks the skipped servers before anything starts, so a crash in between loses nothing.
pub async fn mark_skipped(
    clients: &Clients,
    payload: &Payload,
    w: usize,
    marks: &Marks,
    skip: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    for (p, s) in marks.servers.iter().filter(|(_, s)| skip.contains_key(&s.source_server_id)) {
        let value = format!("{}/{w}/{}", payload.execution, skip[&s.source_server_id]);
        tag(clients, p, &s.arn, SKIPPED, value).await?;
    }
    Ok(())
}

/// The decisions as one tag value (at most 256 characters) for the wave's jobs.
pub fn tag_value(record: &[HookDecision]) -> String {
    let text: Vec<String> = record.iter().map(|d| format!("{}:{}={}", d.hook, d.point, d.decision)).collect();
    text.join(";").chars().take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(hook: &str, point: &'static str, result: Result<Decision, String>) -> Answer {
        Answer { hook: hook.into(), point, result, logs: vec![] }
    }

    fn verdict(answers: &[Answer], policy: HookFailure) -> (Verdict, Vec<HookDecision>) {
        let mut record = vec![];
        let v = judge(answers, policy, &Marks::default(), &mut record);
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
    fn a_failed_hook_follows_the_tenants_policy_and_after_wave_skips_are_only_recorded() {
        let failed = || answer("h", "before-wave", Err("hook ran longer than its 50 ms limit".into()));
        let (v, record) = verdict(&[failed()], HookFailure::FailClosed);
        assert!(matches!(v, Verdict::Fail { code: ErrorCode::HookFailed, .. }));
        assert!(record[0].decision.contains("fail-closed"));
        let (v, record) = verdict(&[failed()], HookFailure::FailOpen);
        assert!(matches!(v, Verdict::Proceed { ref skip } if skip.is_empty()));
        assert!(record[0].decision.contains("fail-open"));

        let late = answer("d", "after-wave", Ok(Decision::Skip(vec!["s-1".into()])));
        let (v, _) = verdict(&[late], HookFailure::FailClosed);
        assert!(matches!(v, Verdict::Proceed { ref skip } if skip.is_empty()));
    }
}

//! A wave boundary with hooks: `after-wave` of the wave that ended, then `before-wave` of the
//! next, their answers judged by the tenant's policy and turned into one verdict. What must
//! outlive the check is written where every later check reads it: servers a hook skipped
//! carry the tag `drs-orch:skipped` (`<execution>@<decided>/<wave>/<hook>`), a delay is a
//! `drs-orch:hold` tag (`<execution>/<wave>/<not before>`) on the wave's first server, and
//! the decisions ride on the wave's jobs as `drs-orch:hooks`.
//!
//! A skip decision is one unit: the skip marks first, then `drs-orch:decision`
//! (`<execution>@<decided>/<wave>/<count>`) on the wave's first server, last. A check takes
//! the marks of a decision whose record it finds, and only those; marks without their record
//! (a crash mid-way) are ignored and the boundary is decided and written again, so a
//! decision is never half applied. Marks and holds older than the run's job lookback belong
//! to an earlier run of the same execution id and are ignored too.

use super::observe::{self, ObservedJob, ServerInfo};
use super::payload::Payload;
use super::progress::{HookDecision, ServerFailure};
use crate::aws::Clients;
use crate::config::{HookFailure, Partition};
use crate::error::ErrorCode;
use crate::hooks::context::{self, Wave};
use crate::hooks::runner::{Answer, HookSet};
use chrono::{DateTime, Utc};
use drs_host::Decision;
use std::collections::{BTreeMap, BTreeSet, HashSet};

pub const SKIPPED: &str = "drs-orch:skipped";
pub const HOLD: &str = "drs-orch:hold";
/// The record that a wave's skip decision was written whole (written after its marks).
pub const DECISION: &str = "drs-orch:decision";

/// A complete decision's record: when it was made (unix seconds) and how many it skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decided {
    at: i64,
    count: usize,
}

/// `<execution>@<at>/<w>/<count>` of this execution and wave, or None.
fn parse_decision(value: &str, execution: &str, w: usize) -> Option<Decided> {
    let rest = value.strip_prefix(execution)?.strip_prefix('@')?;
    let (at, rest) = rest.split_once('/')?;
    let (wave, count) = rest.split_once('/')?;
    (wave.parse::<usize>().ok()? == w).then_some(())?;
    Some(Decided { at: at.parse().ok()?, count: count.parse().ok()? })
}

/// The hook named by a skip mark of this execution's wave `w` (any decision's), for the report.
pub fn skipping_hook<'a>(mark: &'a str, execution: &str, w: usize) -> Option<&'a str> {
    let (_at, rest) = mark.strip_prefix(execution)?.strip_prefix('@')?.split_once('/')?;
    rest.strip_prefix(&format!("{w}/"))
}

/// The prefix of the skip marks of one decision.
fn skip_prefix(execution: &str, at: i64, w: usize) -> String {
    format!("{execution}@{at}/{w}/")
}

/// What earlier checks left on the wave's servers.
#[derive(Default)]
pub struct Marks {
    /// (partition, server) in payload order.
    pub servers: Vec<(Partition, ServerInfo)>,
    /// Skipped server id -> the hook that skipped it.
    pub skipped: BTreeMap<String, String>,
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
pub async fn marks(clients: &Clients, payload: &Payload, w: usize, down: &BTreeSet<usize>) -> anyhow::Result<Marks> {
    let hold_prefix = format!("{}/{w}/", payload.execution);
    let mut m = Marks::default();
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
            let hold = s.tags.get(HOLD).and_then(|v| v.strip_prefix(&hold_prefix)).and_then(|t| t.parse::<DateTime<Utc>>().ok());
            // A hold older than the run's lookback is an earlier run's of the same id.
            if hold.is_some_and(|t| t >= payload.jobs_from) {
                m.hold_until = hold;
            }
            m.servers.push((p.clone(), (*s).clone()));
        }
    }
    m.skipped = decided_skips(&m.servers, &payload.execution, w, payload.jobs_from.timestamp());
    Ok(m)
}

/// The skips of the wave's latest complete decision made from `not_before` on: the marks
/// carrying its stamp, when there are as many as it records; else none (re-decided).
fn decided_skips(servers: &[(Partition, ServerInfo)], execution: &str, w: usize, not_before: i64) -> BTreeMap<String, String> {
    let decided = servers
        .iter()
        .filter_map(|(_, s)| s.tags.get(DECISION).and_then(|v| parse_decision(v, execution, w)))
        .filter(|d| d.at >= not_before)
        .max_by_key(|d| d.at);
    let Some(d) = decided else { return BTreeMap::new() };
    let prefix = skip_prefix(execution, d.at, w);
    let skipped: BTreeMap<String, String> = servers
        .iter()
        .filter_map(|(_, s)| {
            let hook = s.tags.get(SKIPPED)?.strip_prefix(&prefix)?;
            Some((s.source_server_id.clone(), hook.to_owned()))
        })
        .collect();
    if skipped.len() != d.count {
        tracing::warn!(
            execution,
            wave = w,
            marked = skipped.len(),
            recorded = d.count,
            "a skip decision's marks do not match its record: deciding again"
        );
        return BTreeMap::new();
    }
    skipped
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

/// Runs `after-wave` of wave `w - 1` and `before-wave` of wave `w`, and judges the answers;
/// also returns every answer as recorded.
pub async fn decide(
    c: &super::wave::Check<'_>,
    w: usize,
    set: &HookSet,
    marks: &Marks,
    previous_failures: &[ServerFailure],
) -> anyhow::Result<(Verdict, Vec<HookDecision>)> {
    let (clients, payload) = (c.clients, c.payload);
    let mut record = vec![];
    let mut answers = vec![];
    if w > 0 {
        answers.extend(after(clients, payload, w - 1, c.jobs, previous_failures, set, &c.down()).await?);
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
    down: &BTreeSet<usize>,
) -> anyhow::Result<Vec<Answer>> {
    let m = marks(clients, payload, w, down).await?;
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

/// The answers, judged: a failed hook by the tenant's policy; abort over delay over pause.
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

async fn tag(clients: &Clients, p: &Partition, arn: &str, key: &str, value: String) -> anyhow::Result<()> {
    let drs = clients.drs(p).await?;
    drs.tag_resource()
        .resource_arn(arn)
        .tags(key, value)
        .send()
        .await
        .map_err(|e| crate::aws::failed(p, "drs:TagResource", &e))?;
    Ok(())
}

async fn hold(clients: &Clients, payload: &Payload, w: usize, marks: &Marks, until: DateTime<Utc>) -> anyhow::Result<()> {
    let Some((p, first)) = marks.servers.first() else { return Ok(()) };
    let value = format!("{}/{w}/{}", payload.execution, crate::time::secs(&until));
    tag(clients, p, &first.arn, HOLD, value).await
}

/// Marks the skipped servers before anything starts, then records the decision as whole
/// (last): a crash in between leaves marks no check takes, and the boundary is decided again.
pub async fn mark_skipped(
    clients: &Clients,
    payload: &Payload,
    w: usize,
    marks: &Marks,
    skip: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let Some((first_p, first)) = marks.servers.first() else { return Ok(()) };
    // A decision made in the same second as an incomplete one takes the next second, so
    // their marks never share a stamp.
    let at = clients.now().timestamp().max(stale_stamp(&marks.servers, &payload.execution, w) + 1);
    let prefix = skip_prefix(&payload.execution, at, w);
    // Every partition at once, a few calls in each (a hook may skip thousands of servers).
    let marked: Vec<(Partition, &ServerInfo)> =
        marks.servers.iter().filter(|(_, s)| skip.contains_key(&s.source_server_id)).map(|(p, s)| (p.clone(), s)).collect();
    let count = marked.len();
    let prefix = &prefix;
    let results = crate::aws::fanout::by_partition(clients, marked, |p, s: &ServerInfo| async move {
        tag(clients, &p, &s.arn, SKIPPED, format!("{prefix}{}", skip[&s.source_server_id])).await
    })
    .await;
    results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    tag(clients, first_p, &first.arn, DECISION, format!("{}@{at}/{w}/{count}", payload.execution)).await
}

/// The latest stamp of this execution's skip marks on the wave's servers (0: none).
fn stale_stamp(servers: &[(Partition, ServerInfo)], execution: &str, w: usize) -> i64 {
    let head = format!("{execution}@");
    servers
        .iter()
        .filter_map(|(_, s)| {
            let (at, rest) = s.tags.get(SKIPPED)?.strip_prefix(&head)?.split_once('/')?;
            rest.starts_with(&format!("{w}/")).then(|| at.parse::<i64>().ok())?
        })
        .max()
        .unwrap_or(0)
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
        let v = judge(answers, policy, &Marks::default(), Utc::now(), &mut record);
        (v, record)
    }

    fn server(id: &str, tags: &[(&str, &str)]) -> (Partition, ServerInfo) {
        let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        (
            Partition { account: "1".into(), region: "r".into() },
            ServerInfo { source_server_id: id.into(), arn: format!("arn:{id}"), hostname: id.into(), tags },
        )
    }

    #[test]
    fn only_a_recorded_decision_skips_and_only_with_its_own_marks() {
        let full = [
            server("s-1", &[(SKIPPED, "x@100/0/h"), (DECISION, "x@100/0/2")]),
            server("s-2", &[(SKIPPED, "x@100/0/h")]),
            server("s-3", &[]),
        ];
        let skips = decided_skips(&full, "x", 0, 0);
        assert_eq!(skips.keys().collect::<Vec<_>>(), ["s-1", "s-2"]);
        // A crash after the first mark: no record, no decision.
        let partial = [server("s-1", &[(SKIPPED, "x@100/0/h")]), server("s-2", &[]), server("s-3", &[])];
        assert!(decided_skips(&partial, "x", 0, 0).is_empty());
        // A record whose marks were not all written (or were overwritten) is no decision.
        let short = [server("s-1", &[(SKIPPED, "x@100/0/h"), (DECISION, "x@100/0/2")]), server("s-2", &[(SKIPPED, "x@90/0/h")])];
        assert!(decided_skips(&short, "x", 0, 0).is_empty());
        // Stale marks of an earlier, incomplete decision do not join a later one.
        let later = [server("s-1", &[(SKIPPED, "x@100/0/h"), (DECISION, "x@101/0/1")]), server("s-2", &[(SKIPPED, "x@101/0/h")])];
        assert_eq!(decided_skips(&later, "x", 0, 0).keys().collect::<Vec<_>>(), ["s-2"]);
        assert_eq!(stale_stamp(&later, "x", 0), 101);
        assert_eq!(skipping_hook("x@101/0/skip-tagged", "x", 0), Some("skip-tagged"));
        assert_eq!(skipping_hook("x@101/0/skip-tagged", "x", 1), None);
        assert_eq!(skipping_hook("xy@101/0/h", "x", 0), None);
        // Another execution's, another wave's, or an old run's record is not this one's.
        assert!(decided_skips(&full, "y", 0, 0).is_empty());
        assert!(decided_skips(&full, "x", 1, 0).is_empty());
        assert!(decided_skips(&full, "x", 0, 101).is_empty());
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

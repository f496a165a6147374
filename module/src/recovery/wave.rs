//! One wave of a status check: what its jobs say (counts, steps, failures), whether it may
//! start (its hook boundary and approval gate), starting what is not yet in a job, and the
//! judgement of its failure policy. `judge` returns what the run does next.

use super::boundary::{self, Marks, Verdict};
use super::branches::Shared;
use super::gate::{self, Gate};
use super::observe::{self, LaunchStatus, ObservedJob, ServerLog};
use super::outage::Outages;
use super::payload::Payload;
use super::progress::{ServerFailure, WaveProgress, WaveState};
use super::start::{start_wave, Started};
use crate::aws::Clients;
use crate::config::Partition;
use crate::error::ErrorCode;
use crate::hooks::runner::HookSet;
use crate::ledger::{GateAnswer, GateAsked, GivenUp, RunRecord};
use crate::resource::FailurePolicy;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What one check knows: the execution's jobs as read at its start, and the tenant's hooks.
pub struct Check<'a> {
    pub clients: &'a Clients,
    pub payload: &'a Payload,
    pub jobs: &'a [ObservedJob],
    pub hooks: Option<&'a HookSet>,
    /// Partitions this check cannot read, and what earlier checks recorded about them.
    pub outages: &'a Outages,
    /// False past the run's deadline: the check judges what runs and starts nothing (no
    /// wave, no approval, no hook), so a run that times out leaves no launch behind.
    pub may_start: bool,
    /// The run's record as the check read it: gates asked, servers given up.
    pub record: &'a RunRecord,
    /// What the waves judged at this check share: quotas, after-wave hooks run.
    pub shared: &'a Shared,
}

impl Check<'_> {
    /// The partitions this check cannot read (payload indexes).
    pub fn down(&self) -> BTreeSet<usize> {
        self.outages.down.keys().copied().collect()
    }
}

/// What the run does after a wave.
pub enum Next {
    /// The wave completed within its policy: judge the next one.
    Completed,
    /// The wave is running or waiting (approval, hook delay, quotas): later waves wait.
    Holds,
    /// The run fails.
    Fails(ErrorCode, String),
}

/// Whether a wave that has not started may start now.
enum Crossing {
    /// Start it, without these servers (id -> the hook that skipped it); the hooks' decisions
    /// as a tag for its jobs.
    Open { skip: BTreeMap<String, String>, hooks_tag: Option<String> },
    /// Not now, or never.
    Closed(Next),
}

/// Judges wave `w`; `earlier` holds the waves before it (the after-wave answers of those it
/// depends on are filed there), `started_jobs` collects the jobs this check starts, `lost` the partitions whose
/// servers of this wave this check counts as failed (unreachable past the grace).
pub async fn judge(
    c: &Check<'_>,
    w: usize,
    earlier: &mut [WaveProgress],
    started_jobs: &mut Vec<String>,
    lost: &mut BTreeSet<(usize, usize)>,
) -> anyhow::Result<(WaveProgress, Next)> {
    let wave = &c.payload.waves[w];
    // A wave once judged completed stays as it was judged (its jobs may be unreadable now).
    if let Some(progress) = c.record.completed(w).and_then(|p| serde_json::from_str::<WaveProgress>(p).ok()) {
        return Ok((progress, Next::Completed));
    }
    let mut progress = WaveProgress::waiting(&wave.name, wave.server_count());
    let wjobs: Vec<&ObservedJob> = c.jobs.iter().filter(|j| j.wave == w).collect();
    let mine: HashSet<&str> = wave.groups.iter().flat_map(|g| g.servers.iter().map(String::as_str)).collect();
    tally(&mut progress, &wjobs, &mine);
    let in_job: HashSet<&str> =
        wjobs.iter().flat_map(|j| &j.servers).map(|s| s.source_server_id.as_str()).filter(|s| mine.contains(s)).collect();
    let in_jobs = in_job.len();
    let unreached = unreached(c, w, &in_job, &mut progress, lost);

    // A crossing once recorded (the hooks' skips and decisions) is the wave's; the servers
    // are read for the hooks only while the wave has yet to cross.
    let crossed = c.record.crossing(w);
    let (mut skip, mut hooks_tag) = match crossed {
        Some(x) => (x.skip.clone(), Some(x.decisions.clone()).filter(|d| !d.is_empty())),
        None => (BTreeMap::new(), None),
    };
    progress.skipped = skip.len();
    if wjobs.is_empty() && crossed.is_none() {
        if !c.may_start {
            return Ok((progress, Next::Holds));
        }
        let marks = match c.hooks {
            Some(_) => boundary::marks(c.clients, c.payload, w, &c.down(), c.record).await?,
            None => Marks::default(),
        };
        // A partition that answered the jobs' read but not the servers' waits for the next
        // check (which finds it down, with its grace, or back): hooks decide on what they see.
        let failing: Vec<String> = marks
            .unread
            .iter()
            .filter(|(p, _)| !c.outages.is_down(**p))
            .map(|(p, e)| format!("{}: its servers could not be read for the hooks: {e}", c.payload.partitions[*p]))
            .collect();
        if !failing.is_empty() {
            progress.waiting_for.extend(failing);
            return Ok((progress, Next::Holds));
        }
        match cross(c, w, &marks, earlier, &mut progress).await? {
            Crossing::Open { skip: s, hooks_tag: t } => (skip, hooks_tag) = (s, t),
            Crossing::Closed(next) => return Ok((progress, next)),
        }
    }
    let mut fail_fast = wave.policy == FailurePolicy::FailFast && progress.failed > 0;
    // Servers of unreachable partitions are counted failed (lost) or hold the wave (waiting).
    let unreached_count = unreached.lost.len() + unreached.waiting;
    let mut all_in_jobs = in_jobs + progress.skipped + unreached_count >= progress.servers;
    // Servers busy in another run's job past busyWaitMinutes (start.rs): failed, not waiting,
    // and never started later in the run (the ledger records them).
    let mut gave_up = given_up_earlier(c, w, &in_job);
    progress.failed += gave_up.len();
    all_in_jobs = all_in_jobs || in_jobs + progress.skipped + unreached_count + gave_up.len() >= progress.servers;
    if !fail_fast && !all_in_jobs && c.may_start {
        let mut left_out: HashSet<&str> = skip.keys().map(String::as_str).collect();
        left_out.extend(gave_up.iter().map(|f| f.source_server_id.as_str()));
        let started: Started = start_wave(c, w, &left_out, hooks_tag, &unreached.partitions).await?;
        started_jobs.extend(started.jobs.iter().cloned());
        progress.jobs.extend(started.jobs);
        progress.waiting_for.extend(started.waiting);
        record_given_up(c, w, &started.gave_up).await;
        progress.failed += started.gave_up.len();
        gave_up.extend(started.gave_up);
        fail_fast = wave.policy == FailurePolicy::FailFast && progress.failed > 0;
        all_in_jobs = in_jobs + progress.skipped + unreached_count + gave_up.len() >= progress.servers;
    }
    let running = unreached.waiting > 0 || !all_in_jobs || wjobs.iter().any(|j| !j.done());
    let next = if fail_fast || (!running && wave.policy.broken(progress.failed, progress.servers - progress.skipped)) {
        progress.failures = failures(c.clients, &wjobs).await?;
        progress.failures.extend(unreached.lost);
        progress.failures.extend(gave_up);
        progress.state = WaveState::Failed;
        Next::Fails(ErrorCode::WaveFailed, wave_failure(&wave.name, &progress, &wave.policy))
    } else if running {
        progress.state = WaveState::Running;
        progress.steps = steps(c.clients, &wjobs).await?;
        progress.failures = unreached.lost;
        progress.failures.extend(gave_up);
        Next::Holds
    } else {
        progress.state = WaveState::Completed;
        if progress.failed > 0 {
            progress.failures = failures(c.clients, &wjobs).await?;
            progress.failures.extend(gave_up);
        }
        progress.failures.extend(unreached.lost);
        record_completed(c, w, &progress).await;
        Next::Completed
    };
    Ok((progress, next))
}

/// Records the wave completed, as judged (its failures named up to `NAMED_FAILURES`). A write
/// that fails is logged: the next check judges the wave again from its jobs.
async fn record_completed(c: &Check<'_>, w: usize, progress: &WaveProgress) {
    let mut kept = progress.clone();
    kept.failures.truncate(NAMED_FAILURES);
    kept.steps.clear();
    let Ok(text) = serde_json::to_string(&kept) else { return };
    if let Err(e) = crate::ledger::of(c.clients).complete(&c.payload.key(), w, &text).await {
        tracing::warn!(error = %e, wave = w, "the wave's completion could not be recorded; judged again next check");
    }
}

/// Failures a completed wave's record names one by one (the counts hold them all).
const NAMED_FAILURES: usize = 200;

/// The wave's servers in partitions this check cannot read or an earlier check gave up on.
struct Unreached {
    /// Servers counted as failed: their partition stayed unreachable past the grace.
    lost: Vec<ServerFailure>,
    /// Servers whose partition is unreachable within the grace: the wave waits for them.
    waiting: usize,
    /// Partitions where nothing of this wave may start now.
    partitions: BTreeSet<usize>,
}

fn unreached(
    c: &Check<'_>,
    w: usize,
    in_job: &HashSet<&str>,
    progress: &mut WaveProgress,
    lost: &mut BTreeSet<(usize, usize)>,
) -> Unreached {
    let o = c.outages;
    let mut out = Unreached { lost: vec![], waiting: 0, partitions: BTreeSet::new() };
    for g in &c.payload.waves[w].groups {
        let p = g.partition;
        let (given_up, down) = (o.lost.contains(&(w, p)), o.is_down(p));
        if !given_up && !down {
            continue;
        }
        out.partitions.insert(p);
        let name = c.payload.partitions.get(p).cloned().unwrap_or_default();
        let left: Vec<&String> = g.servers.iter().filter(|id| !in_job.contains(id.as_str())).collect();
        if given_up || o.past_grace(p) {
            if !given_up {
                lost.insert((w, p));
            }
            let since = crate::time::secs(&o.since(p));
            let why = match o.down.get(&p) {
                Some(e) => format!("{name} unreachable since {since}, past the grace: not started or not known launched: {e}"),
                None => format!("{name} was unreachable past the grace (from {since}); not started, out of wave order, since"),
            };
            progress.failed += left.len();
            out.lost.extend(left.iter().map(|id| ServerFailure {
                source_server_id: (*id).clone(),
                hostname: None,
                partition: name.clone(),
                reason: why.clone(),
            }));
        } else {
            out.waiting += left.len();
            let fails_at = crate::time::secs(&(o.since(p) + chrono::Duration::minutes(c.payload.grace_minutes as i64)));
            progress.waiting_for.push(format!(
                "{name} unreachable since {}: {} servers count as failed at {fails_at} if it stays so: {}",
                crate::time::secs(&o.since(p)),
                left.len(),
                o.down.get(&p).map(String::as_str).unwrap_or_default()
            ));
        }
    }
    out
}

/// The boundary before a wave starts: its hooks (after-wave of the wave before, before-wave
/// of this one), then its approval gate, then the hooks' skips marked on the servers.
async fn cross(
    c: &Check<'_>,
    w: usize,
    marks: &Marks,
    earlier: &mut [WaveProgress],
    progress: &mut WaveProgress,
) -> anyhow::Result<Crossing> {
    let wave = &c.payload.waves[w];
    let (mut pause, mut skip, mut hooks_tag) = (wave.pause.clone(), BTreeMap::new(), None);
    let afters = c.shared.afters_for(c.payload, c.record, w);
    if let Some(set) = c.hooks {
        let ended: Vec<(usize, Vec<ServerFailure>)> =
            afters.iter().map(|d| (*d, earlier.get(*d).map(|p| p.failures.clone()).unwrap_or_default())).collect();
        let (verdict, record, counts) = boundary::decide(c, w, set, marks, &ended).await?;
        progress.hook_decisions.extend(record);
        match verdict {
            Verdict::Fail { code, message } => {
                progress.state = WaveState::Failed;
                return Ok(Crossing::Closed(Next::Fails(code, format!("wave {}: {message}", wave.name))));
            }
            Verdict::Wait(why) => {
                progress.waiting_for.push(why);
                return Ok(Crossing::Closed(Next::Holds));
            }
            Verdict::Pause(reason) => pause = Some(pause.map(|p| format!("{p}; {reason}")).unwrap_or(reason)),
            Verdict::Proceed { skip: s } => skip = s,
        }
        hooks_tag = Some(boundary::tag_value(&progress.hook_decisions));
        // The after-wave answers (first, in the order of `ended`) are about the waves that
        // ended: file them there.
        let mut all = std::mem::take(&mut progress.hook_decisions).into_iter();
        for (d, n) in counts {
            let about: Vec<_> = all.by_ref().take(n).collect();
            if let Some(ended) = earlier.get_mut(d) {
                ended.hook_decisions.extend(about);
            }
        }
        progress.hook_decisions = all.collect();
    }
    // A gate once asked holds until it is answered, whatever the hooks say at a later check.
    let pause = match (c.record.gate(w), pause) {
        (Some(asked), _) => Some(asked.reason.clone()),
        (None, Some(reason)) => {
            let asked = GateAsked { reason, at: c.clients.now() };
            match crate::ledger::of(c.clients).ask_gate(&c.payload.key(), w, &asked).await {
                Ok(holds) => Some(holds.reason),
                // Not recorded, not asked: the next check records it, then asks.
                Err(e) if e.is_transient() => {
                    progress.state = WaveState::Paused;
                    progress.waiting_for.push(format!("the approval could not be recorded yet (retried next check): {e}"));
                    return Ok(Crossing::Closed(Next::Holds));
                }
                Err(e) => return Err(e.into()),
            }
        }
        (None, None) => None,
    };
    if let Some(reason) = &pause {
        match gate_answer(c, w, &wave.name, reason).await? {
            Gate::Waiting(arn) => {
                progress.state = WaveState::Paused;
                progress.waiting_for.push(format!("approval {arn}: {reason}"));
                progress.approval = Some(arn);
                return Ok(Crossing::Closed(Next::Holds));
            }
            Gate::Rejected(why, _) => {
                progress.state = WaveState::Failed;
                return Ok(Crossing::Closed(Next::Fails(ErrorCode::ApprovalRejected, format!("wave {}: {why}", wave.name))));
            }
            Gate::Approved(_) => {}
        }
    }
    // With hooks, the crossing is recorded before anything of the wave starts; a concurrent
    // check's record wins, and its skips are the wave's.
    if c.hooks.is_some() {
        match boundary::record_crossing(c, w, skip, hooks_tag.unwrap_or_default()).await {
            Ok(holds) => (skip, hooks_tag) = (holds.skip, Some(holds.decisions).filter(|d| !d.is_empty())),
            Err(e) if e.downcast_ref::<crate::ledger::LedgerError>().is_some_and(|l| l.is_transient()) => {
                progress.waiting_for.push(format!("the hooks' decision could not be recorded yet (retried next check): {e:#}"));
                return Ok(Crossing::Closed(Next::Holds));
            }
            Err(e) => return Err(e),
        }
    }
    c.shared.crossed(&afters);
    progress.skipped = skip.len();
    Ok(Crossing::Open { skip, hooks_tag })
}

/// Where wave `w`'s gate stands: the answer the run's record holds, else the approval
/// execution's (asked for the first time if need be), recorded once answered. A write that
/// fails is logged: the next check reads the execution again.
async fn gate_answer(c: &Check<'_>, w: usize, wave_name: &str, reason: &str) -> anyhow::Result<Gate> {
    if let Some(a) = c.record.answer(w) {
        return Ok(answered(a));
    }
    let gate = gate::check(c.clients, c.payload.run(), &c.payload.resource, w, wave_name, reason).await?;
    let answer = match &gate {
        Gate::Waiting(_) => return Ok(gate),
        Gate::Approved(a) => GateAnswer { approved: true, detail: String::new(), at: c.clients.now(), approval: Some(a.clone()) },
        Gate::Rejected(why, a) => {
            GateAnswer { approved: false, detail: why.clone(), at: c.clients.now(), approval: Some(a.clone()) }
        }
    };
    match crate::ledger::of(c.clients).answer_gate(&c.payload.key(), w, &answer).await {
        Ok(holds) => Ok(answered(&holds)),
        Err(e) => {
            tracing::warn!(error = %e, wave = w, "the gate's answer could not be recorded; read again next check");
            Ok(gate)
        }
    }
}

/// The gate as the run's record holds its answer (one recorded before approvals were kept has
/// no approver: an empty one stands in).
fn answered(a: &GateAnswer) -> Gate {
    let approval = a.approval.clone().unwrap_or(gate::Approval {
        decision: if a.approved { gate::Decision::Approved } else { gate::Decision::Rejected },
        approver: None,
        at: None,
        approval: String::new(),
        reason: None,
    });
    if a.approved {
        Gate::Approved(approval)
    } else {
        Gate::Rejected(a.detail.clone(), approval)
    }
}

/// The wave's servers the run gave up at an earlier check (and that are in no job), as
/// failures.
fn given_up_earlier(c: &Check<'_>, w: usize, in_job: &HashSet<&str>) -> Vec<ServerFailure> {
    let mut out: Vec<ServerFailure> = c
        .record
        .given_up(w)
        .filter(|(id, _)| !in_job.contains(id))
        .map(|(id, g)| ServerFailure {
            source_server_id: id.to_owned(),
            hostname: g.hostname.clone(),
            partition: g.partition.clone(),
            reason: format!("{}; given up, not started later in the run", g.reason),
        })
        .collect();
    // A server whose snapshot went with none left before the time is given up by the run's
    // record of it (`repoint.rs`), whether or not its given-up write went through: it never
    // launches its latest data unless onNotReady says warn.
    let recorded: HashSet<String> = out.iter().map(|f| f.source_server_id.clone()).collect();
    out.extend(
        super::repoint::given_up(c.payload, c.record, w)
            .into_iter()
            .filter(|f| !in_job.contains(f.source_server_id.as_str()) && !recorded.contains(&f.source_server_id)),
    );
    out
}

/// Records the servers this check gave up, so that no later check starts them. A write that
/// fails is logged: a later check finds them busy (or gives up again) from their marks.
async fn record_given_up(c: &Check<'_>, w: usize, gave_up: &[ServerFailure]) {
    let given: Vec<(String, GivenUp)> = gave_up
        .iter()
        .map(|f| {
            let g = GivenUp { hostname: f.hostname.clone(), partition: f.partition.clone(), reason: f.reason.clone() };
            (f.source_server_id.clone(), g)
        })
        .collect();
    if let Err(e) = crate::ledger::of(c.clients).give_up(&c.payload.key(), w, &given).await {
        tracing::warn!(error = %e, wave = w, "the servers given up could not be recorded in the ledger");
    }
}

/// Counts from the jobs: launched and failed servers, jobs, first start and last end.
fn tally(progress: &mut WaveProgress, jobs: &[&ObservedJob], mine: &HashSet<&str>) {
    for j in jobs {
        progress.jobs.push(j.job_id.clone());
        if j.created.is_some() && progress.started.is_none_or(|s| j.created < Some(s)) {
            progress.started = j.created;
        }
        for s in j.servers.iter().filter(|s| mine.contains(s.source_server_id.as_str())) {
            match s.launch_status {
                LaunchStatus::Launched => progress.launched += 1,
                LaunchStatus::Failed => progress.failed += 1,
                // A completed job whose server never launched failed it.
                _ if j.done() => progress.failed += 1,
                _ => {}
            }
        }
    }
    if !jobs.is_empty() && jobs.iter().all(|j| j.done()) {
        progress.ended = jobs.iter().filter_map(|j| j.ended).max();
    }
}

async fn steps(clients: &Clients, jobs: &[&ObservedJob]) -> anyhow::Result<BTreeMap<String, usize>> {
    let running: Vec<&ObservedJob> = jobs.iter().copied().filter(|j| !j.done()).collect();
    // launchStatus stays PENDING through snapshot and conversion: only then is the log
    // needed to tell where a server is.
    let pending: Vec<&ObservedJob> =
        running.iter().copied().filter(|j| j.servers.iter().any(|s| s.launch_status == LaunchStatus::Pending)).collect();
    let logs: BTreeMap<&str, BTreeMap<String, ServerLog>> =
        pending.iter().map(|j| j.arn.as_str()).zip(observe::job_logs(clients, &pending).await).collect();
    let mut out = BTreeMap::new();
    for j in running {
        for s in &j.servers {
            let step = match s.launch_status {
                LaunchStatus::Launched | LaunchStatus::Failed => s.launch_status.to_string(),
                _ => logs
                    .get(j.arn.as_str())
                    .and_then(|l| l.get(&s.source_server_id))
                    .map(|l| l.step.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or("PENDING".into()),
            };
            *out.entry(step).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// Every failed server of the wave's jobs with the reason from the job log (the logs, and
/// then the hostnames by partition, read concurrently).
async fn failures(clients: &Clients, jobs: &[&ObservedJob]) -> anyhow::Result<Vec<ServerFailure>> {
    let failed = |j: &ObservedJob, s: &observe::JobServer| {
        s.launch_status == LaunchStatus::Failed || (j.done() && s.launch_status != LaunchStatus::Launched)
    };
    let with_failures: Vec<&ObservedJob> = jobs.iter().copied().filter(|j| j.servers.iter().any(|s| failed(j, s))).collect();
    // Without the log (its partition failing now), the launch status is the reason.
    let logs = observe::job_logs(clients, &with_failures).await;
    let mut out = vec![];
    let mut by_partition: BTreeMap<&Partition, Vec<usize>> = BTreeMap::new();
    for (j, log) in with_failures.iter().zip(&logs) {
        for s in j.servers.iter().filter(|s| failed(j, s)) {
            let l: Option<&ServerLog> = log.get(&s.source_server_id);
            by_partition.entry(&j.partition).or_default().push(out.len());
            out.push(ServerFailure {
                source_server_id: s.source_server_id.clone(),
                hostname: None,
                partition: j.partition.to_string(),
                reason: l
                    .and_then(|l| l.reason.clone())
                    .unwrap_or_else(|| format!("launch status {} (job {})", s.launch_status, j.job_id)),
            });
        }
    }
    let names = crate::aws::fanout::each(clients, by_partition.iter(), |(p, at)| {
        let ids: Vec<&str> = at.iter().map(|i| out[*i].source_server_id.as_str()).collect();
        async move { observe::hostnames(clients, p, ids.into_iter()).await.unwrap_or_default() }
    })
    .await;
    for ((_, at), names) in by_partition.iter().zip(names) {
        for i in at {
            out[*i].hostname = names.get(&out[*i].source_server_id).cloned();
        }
    }
    Ok(out)
}

fn wave_failure(name: &str, p: &WaveProgress, policy: &FailurePolicy) -> String {
    let rule = policy.describe();
    let list: Vec<String> = p
        .failures
        .iter()
        .map(|f| format!("{} ({}) in {}: {}", f.hostname.as_deref().unwrap_or("?"), f.source_server_id, f.partition, f.reason))
        .collect();
    format!("wave {name}: {} of {} servers failed ({rule}): {}", p.failed, p.servers, list.join("; "))
}

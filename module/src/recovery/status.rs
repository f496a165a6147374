//! One status check of an activation: read the execution's jobs back from DRS, judge each
//! wave in order by its failure policy, and move the first unfinished one along (ask for
//! its approval, start its servers, wait for its jobs). Nothing here depends on an earlier
//! check having run: a duplicate or a retried check does the same thing, and DRS refuses
//! to put a server in two active jobs.

use super::boundary::{self, Marks, Verdict};
use super::gate::{self, Gate};
use super::observe::{self, ObservedJob, ServerLog};
use crate::resource::FailurePolicy;
use super::payload::Payload;
use super::start::{start_wave, Started};
use crate::aws::Clients;
use crate::config::Partition;
use crate::error::ErrorCode;
use crate::report::HookDecision;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaveState {
    Waiting,
    Paused,
    Running,
    Completed,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFailure {
    pub source_server_id: String,
    pub hostname: Option<String>,
    pub partition: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveProgress {
    pub name: String,
    pub state: WaveState,
    pub servers: usize,
    pub launched: usize,
    pub failed: usize,
    pub jobs: Vec<String>,
    /// The first job's creation and the last job's end (service time).
    pub started: Option<String>,
    pub ended: Option<String>,
    /// Servers of running jobs by their latest job-log step (SNAPSHOT_START, LAUNCH_START...).
    pub steps: BTreeMap<String, usize>,
    pub failures: Vec<ServerFailure>,
    /// Why the wave is not moving: an approval, quotas, another active job, a hook's delay.
    pub waiting_for: Vec<String>,
    /// The approval execution a paused wave waits on.
    #[serde(default)]
    pub approval: Option<String>,
    /// Servers a hook left out of the wave.
    #[serde(default)]
    pub skipped: usize,
    /// What the tenant's hooks answered at this check (after-wave of the previous wave and
    /// before-wave of this one; after the last wave, its after-wave).
    #[serde(default)]
    pub hook_decisions: Vec<HookDecision>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Outcome {
    Running,
    Done,
    Failed { code: ErrorCode, message: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub execution: String,
    pub resource: String,
    pub outcome: Outcome,
    pub waves: Vec<WaveProgress>,
    /// Jobs this check started.
    pub started_jobs: Vec<String>,
}

impl Status {
    /// The summary sent with SendTaskSuccess (or as the status check's detail).
    pub fn summary(&self, payload: &Payload) -> serde_json::Value {
        serde_json::json!({
            "execution": self.execution, "resource": self.resource, "mode": payload.mode,
            "outcome": self.outcome,
            "servers": payload.server_count(),
            "launched": self.waves.iter().map(|w| w.launched).sum::<usize>(),
            "failed": self.waves.iter().map(|w| w.failed).sum::<usize>(),
            "waves": self.waves.iter().map(|w| serde_json::json!({
                "name": w.name, "state": w.state, "servers": w.servers, "launched": w.launched, "failed": w.failed,
                "skipped": w.skipped, "jobs": w.jobs, "started": w.started, "ended": w.ended, "failures": w.failures,
                "hookDecisions": w.hook_decisions})).collect::<Vec<_>>(),
        })
    }
}

fn failed(code: ErrorCode, message: String) -> Outcome {
    Outcome::Failed { code, message }
}

pub async fn check(clients: &Clients, payload: &Payload) -> anyhow::Result<Status> {
    let partitions: Vec<Partition> =
        (0..payload.partitions.len()).map(|i| payload.partition(i)).collect::<anyhow::Result<_>>()?;
    let jobs = observe::jobs(clients, &partitions, &payload.execution, &payload.jobs_from).await?;
    let mut status = Status {
        execution: payload.execution.clone(),
        resource: payload.resource.clone(),
        outcome: Outcome::Done,
        waves: vec![],
        started_jobs: vec![],
    };
    let hooks = match (&payload.tenant, payload.hooks.is_empty()) {
        (Some(t), false) => Some(crate::hooks::runner::load(clients.config(), t, &payload.hooks)?),
        _ => None,
    };
    let mut moving = false;
    for (w, wave) in payload.waves.iter().enumerate() {
        let mut progress = WaveProgress {
            name: wave.name.clone(),
            state: WaveState::Waiting,
            servers: wave.server_count(),
            launched: 0,
            failed: 0,
            jobs: vec![],
            started: None,
            ended: None,
            steps: BTreeMap::new(),
            failures: vec![],
            waiting_for: vec![],
            skipped: 0,
            approval: None,
            hook_decisions: vec![],
        };
        if moving || status.outcome != Outcome::Done {
            status.waves.push(progress);
            continue;
        }
        let wjobs: Vec<&ObservedJob> = jobs.iter().filter(|j| j.wave == w).collect();
        let mine: HashSet<&str> = wave.groups.iter().flat_map(|g| g.ids.iter().map(String::as_str)).collect();
        tally(&mut progress, &wjobs, &mine);
        let in_jobs = wjobs.iter().flat_map(|j| &j.servers).filter(|s| mine.contains(s.source_server_id.as_str())).count();

        // With hooks, what earlier checks decided is on the wave's servers (skips, a delay);
        // a wave whose jobs hold all but the servers they record as skipped needs no read.
        let recorded_skips = wjobs.iter().find_map(|j| j.skipped).unwrap_or(0);
        let marks = match &hooks {
            Some(_) if in_jobs + recorded_skips < progress.servers => boundary::marks(clients, payload, w).await?,
            _ => Marks::default(),
        };
        progress.skipped = marks.skipped.len().max(recorded_skips);
        let mut skip = marks.skipped.clone();
        let mut hooks_tag = None;
        if wjobs.is_empty() && marks.skipped.is_empty() {
            let mut pause = wave.pause.clone();
            if let Some(set) = &hooks {
                let previous_failures = w.checked_sub(1).map(|p| status.waves[p].failures.clone()).unwrap_or_default();
                match boundary::decide(clients, payload, w, &jobs, set, &marks, &previous_failures, &mut progress.hook_decisions)
                    .await?
                {
                    Verdict::Fail { code, message } => {
                        progress.state = WaveState::Failed;
                        status.outcome = failed(code, format!("wave {}: {message}", wave.name));
                        status.waves.push(progress);
                        continue;
                    }
                    Verdict::Wait(why) => {
                        progress.state = WaveState::Waiting;
                        progress.waiting_for.push(why);
                        moving = true;
                        status.outcome = Outcome::Running;
                        status.waves.push(progress);
                        continue;
                    }
                    Verdict::Pause(reason) => pause = Some(pause.map(|p| format!("{p}; {reason}")).unwrap_or(reason)),
                    Verdict::Proceed { skip: s } => skip = s,
                }
                hooks_tag = Some(boundary::tag_value(&progress.hook_decisions));
                // The after-wave answers are about the wave that ended: file them there.
                if w > 0 {
                    let (after, before): (Vec<_>, Vec<_>) =
                        std::mem::take(&mut progress.hook_decisions).into_iter().partition(|d| d.point == "after-wave");
                    progress.hook_decisions = before;
                    status.waves[w - 1].hook_decisions.extend(after);
                }
            }
            if let Some(reason) = &pause {
                match gate::check(clients, &payload.execution, &payload.resource, w, &wave.name, reason).await? {
                    Gate::Waiting(arn) => {
                        progress.state = WaveState::Paused;
                        progress.waiting_for.push(format!("approval {arn}: {reason}"));
                        progress.approval = Some(arn);
                        moving = true;
                        status.outcome = Outcome::Running;
                        status.waves.push(progress);
                        continue;
                    }
                    Gate::Rejected(why) => {
                        progress.state = WaveState::Failed;
                        status.outcome = failed(ErrorCode::ApprovalRejected, format!("wave {}: {why}", wave.name));
                        status.waves.push(progress);
                        continue;
                    }
                    Gate::Approved => {}
                }
            }
            if !skip.is_empty() {
                boundary::mark_skipped(clients, payload, w, &marks, &skip).await?;
                progress.skipped = skip.len();
            }
        }
        let fail_fast = wave.policy == FailurePolicy::FailFast && progress.failed > 0;
        let all_in_jobs = in_jobs + progress.skipped >= progress.servers;
        if !fail_fast && !all_in_jobs {
            let skipped: HashSet<&str> = skip.keys().map(String::as_str).collect();
            let started: Started = start_wave(clients, payload, w, &jobs, &skipped, hooks_tag).await?;
            status.started_jobs.extend(started.jobs.iter().cloned());
            progress.jobs.extend(started.jobs);
            progress.waiting_for.extend(started.waiting);
        }
        let running = !all_in_jobs || wjobs.iter().any(|j| !j.done());
        if fail_fast || (!running && wave.policy.broken(progress.failed, progress.servers - progress.skipped)) {
            progress.failures = failures(clients, &wjobs).await?;
            progress.state = WaveState::Failed;
            status.outcome = failed(ErrorCode::WaveFailed, wave_failure(&wave.name, &progress, &wave.policy));
        } else if running {
            progress.state = WaveState::Running;
            progress.steps = steps(clients, &wjobs).await?;
            moving = true;
            status.outcome = Outcome::Running;
        } else {
            progress.state = WaveState::Completed;
            if progress.failed > 0 {
                progress.failures = failures(clients, &wjobs).await?;
            }
        }
        status.waves.push(progress);
    }
    // After the last wave, its after-wave hooks have the last word.
    if let (Outcome::Done, Some(set)) = (&status.outcome, &hooks) {
        let last = payload.waves.len() - 1;
        let answers = boundary::after(clients, payload, last, &jobs, &status.waves[last].failures, set).await?;
        let mut record = vec![];
        if let Verdict::Fail { code, message } = boundary::judge(&answers, set.on_failure, &Marks::default(), &mut record) {
            status.outcome = failed(code, format!("after wave {}: {message}", payload.waves[last].name));
        }
        status.waves[last].hook_decisions.extend(record);
    }
    // Judged after the jobs: a run that finished in time is not failed by a late check.
    if status.outcome == Outcome::Running && past(&payload.deadline) {
        let open: Vec<String> = status
            .waves
            .iter()
            .filter(|w| w.state != WaveState::Completed)
            .map(|w| format!("{} ({:?}, {} of {} launched)", w.name, w.state, w.launched, w.servers))
            .collect();
        status.outcome =
            failed(ErrorCode::Timeout, format!("the execution passed its deadline {}; not done: {}", payload.deadline, open.join(", ")));
    }
    Ok(status)
}

fn past(deadline: &str) -> bool {
    deadline.parse::<chrono::DateTime<chrono::Utc>>().is_ok_and(|d| chrono::Utc::now() > d)
}

/// Counts from the jobs: launched and failed servers, jobs, first start and last end.
fn tally(progress: &mut WaveProgress, jobs: &[&ObservedJob], mine: &HashSet<&str>) {
    for j in jobs {
        progress.jobs.push(j.job_id.clone());
        if progress.started.as_ref().is_none_or(|s| j.created < *s) {
            progress.started = Some(j.created.clone());
        }
        for s in j.servers.iter().filter(|s| mine.contains(s.source_server_id.as_str())) {
            match s.launch_status.as_str() {
                "LAUNCHED" => progress.launched += 1,
                "FAILED" => progress.failed += 1,
                // A completed job whose server never launched failed it.
                _ if j.done() => progress.failed += 1,
                _ => {}
            }
        }
    }
    if !jobs.is_empty() && jobs.iter().all(|j| j.done()) {
        progress.ended = jobs.iter().filter_map(|j| j.ended.clone()).max();
    }
}

async fn steps(clients: &Clients, jobs: &[&ObservedJob]) -> anyhow::Result<BTreeMap<String, usize>> {
    let mut out = BTreeMap::new();
    for j in jobs.iter().filter(|j| !j.done()) {
        // launchStatus stays PENDING through snapshot and conversion: only then is the log
        // needed to tell where a server is.
        let log = if j.servers.iter().any(|s| s.launch_status == "PENDING") {
            observe::job_log(clients, j).await?
        } else {
            BTreeMap::new()
        };
        for s in &j.servers {
            let step = match s.launch_status.as_str() {
                "LAUNCHED" | "FAILED" => s.launch_status.clone(),
                _ => log.get(&s.source_server_id).map(|l| l.step.clone()).filter(|s| !s.is_empty()).unwrap_or("PENDING".into()),
            };
            *out.entry(step).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// Every failed server of the wave's jobs with the reason from the job log.
async fn failures(clients: &Clients, jobs: &[&ObservedJob]) -> anyhow::Result<Vec<ServerFailure>> {
    let mut out = vec![];
    for j in jobs {
        let bad: Vec<_> =
            j.servers.iter().filter(|s| s.launch_status == "FAILED" || (j.done() && s.launch_status != "LAUNCHED")).collect();
        if bad.is_empty() {
            continue;
        }
        let log = observe::job_log(clients, j).await?;
        for s in bad {
            let l: Option<&ServerLog> = log.get(&s.source_server_id);
            out.push(ServerFailure {
                source_server_id: s.source_server_id.clone(),
                hostname: None,
                partition: j.partition.to_string(),
                reason: l
                    .and_then(|l| l.reason.clone())
                    .unwrap_or_else(|| format!("launch status {} (job {})", s.launch_status, j.job_id)),
            });
        }
        let unnamed = out.iter().filter(|f| f.hostname.is_none()).map(|f| f.source_server_id.as_str());
        let names = observe::hostnames(clients, &j.partition, unnamed).await?;
        for f in out.iter_mut() {
            f.hostname = f.hostname.take().or_else(|| names.get(&f.source_server_id).cloned());
        }
    }
    Ok(out)
}

fn wave_failure(name: &str, p: &WaveProgress, policy: &FailurePolicy) -> String {
    let rule = match policy {
        FailurePolicy::FailFast => "fail-fast".to_owned(),
        FailurePolicy::Continue => "continue".to_owned(),
        FailurePolicy::Threshold { max_failed, max_failed_percent } => {
            let mut parts = vec![];
            if let Some(m) = max_failed {
                parts.push(format!("MaxFailed {m}"));
            }
            if let Some(pc) = max_failed_percent {
                parts.push(format!("MaxFailedPercent {pc}"));
            }
            parts.join(", ")
        }
    };
    let list: Vec<String> = p
        .failures
        .iter()
        .map(|f| format!("{} ({}) in {}: {}", f.hostname.as_deref().unwrap_or("?"), f.source_server_id, f.partition, f.reason))
        .collect();
    format!("wave {name}: {} of {} servers failed ({rule}): {}", p.failed, p.servers, list.join("; "))
}

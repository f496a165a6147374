//! How executions move on the simulator's clock, one step at a time. Whenever the partition
//! is touched, every event due by now is applied in time order, across executions: a CREATED
//! execution goes IN_PROGRESS; its next step begins when the one before it ended (a wait step
//! WAITING for its minutes; a server step EXECUTING, its servers launched in one job as
//! StartRecovery launches them, at that time); a server step ends with its job: FAILED when a
//! CRITICAL server failed to launch (its execution FAILED, the later steps NOT_STARTED),
//! COMPLETED otherwise; the execution COMPLETED after its last step. A cancelled execution
//! becomes CANCELLED once no step of it runs, its remaining steps SKIPPED.

use super::model::{ErrorDetail, ExecConfig, Execution, ExecutionStatus, StepStatus};
use crate::drs::jobs::{self, Launch};
use crate::fleet::Quotas;
use crate::world::Partition;
use chrono::{DateTime, Duration, Utc};

/// More moves than any partition's executions can make in one touch: a guard, not a limit
/// that is ever met.
const MAX_MOVES: usize = 1_000_000;

/// Applies every execution event due by `now`, in time order.
pub fn advance(p: &mut Partition, q: &Quotas, now: DateTime<Utc>) {
    if p.drs.plans.executions.iter().all(|e| e.status.is_terminal()) {
        return;
    }
    for _ in 0..MAX_MOVES {
        // Jobs launched by an earlier move are brought to `now` too.
        crate::drs::progress::advance(p, now);
        let due = (0..p.drs.plans.executions.len())
            .filter_map(|i| due(p, &p.drs.plans.executions[i]).filter(|t| *t <= now).map(|t| (t, i)))
            .min();
        let Some((t, i)) = due else { return };
        apply(p, q, i, t);
    }
}

/// A cancelled execution with no step running ends now (CancelRecoveryPlanExecution answers
/// CANCELLED then, CANCELLING while a server step runs).
pub fn settle(p: &mut Partition, i: usize, now: DateTime<Utc>) {
    let e = &p.drs.plans.executions[i];
    if e.status == ExecutionStatus::Cancelling && !e.steps.iter().any(|s| s.status == StepStatus::Executing) {
        finish_cancel(&mut p.drs.plans.executions[i], now);
    }
}

/// When the execution's next event is due (None: nothing will happen without a call).
fn due(p: &Partition, e: &Execution) -> Option<DateTime<Utc>> {
    match e.status {
        ExecutionStatus::Created => Some(e.started),
        ExecutionStatus::Completed | ExecutionStatus::Failed | ExecutionStatus::Cancelled => None,
        ExecutionStatus::Cancelling => match e.steps.iter().find(|s| s.status == StepStatus::Executing) {
            Some(s) => job_end(p, s.job.as_deref()),
            None => Some(e.cursor),
        },
        ExecutionStatus::InProgress => {
            let Some(j) = e.current() else { return Some(e.cursor) };
            let s = &e.steps[j];
            match (s.status, &s.config) {
                (StepStatus::NotStarted, _) => Some(e.cursor),
                (StepStatus::Waiting, ExecConfig::Wait(m)) => s.began.map(|b| b + Duration::minutes(*m)),
                (StepStatus::Executing, _) => job_end(p, s.job.as_deref()),
                _ => None,
            }
        }
    }
}

/// When a job ended (None while it runs).
fn job_end(p: &Partition, job: Option<&str>) -> Option<DateTime<Utc>> {
    p.drs.jobs.iter().find(|j| Some(j.id.as_str()) == job).and_then(|j| j.ended())
}

fn apply(p: &mut Partition, q: &Quotas, i: usize, t: DateTime<Utc>) {
    let e = &p.drs.plans.executions[i];
    match e.status {
        ExecutionStatus::Created => {
            let e = &mut p.drs.plans.executions[i];
            e.status = ExecutionStatus::InProgress;
            e.cursor = t;
        }
        ExecutionStatus::Cancelling => match e.steps.iter().position(|s| s.status == StepStatus::Executing) {
            Some(j) => end_server_step(p, i, j, t),
            None => finish_cancel(&mut p.drs.plans.executions[i], t),
        },
        ExecutionStatus::InProgress => match e.current() {
            None => {
                let e = &mut p.drs.plans.executions[i];
                e.status = ExecutionStatus::Completed;
                e.completed = Some(t);
            }
            Some(j) => match e.steps[j].status {
                StepStatus::NotStarted => begin(p, q, i, j, t),
                StepStatus::Waiting => {
                    let e = &mut p.drs.plans.executions[i];
                    e.steps[j].status = StepStatus::Completed;
                    e.steps[j].updated = t;
                    e.cursor = t;
                }
                StepStatus::Executing => end_server_step(p, i, j, t),
                _ => {}
            },
        },
        ExecutionStatus::Completed | ExecutionStatus::Failed | ExecutionStatus::Cancelled => {}
    }
}

/// Step `j` begins at `t`: a wait starts waiting; a server step launches its servers.
fn begin(p: &mut Partition, q: &Quotas, i: usize, j: usize, t: DateTime<Utc>) {
    let e = &p.drs.plans.executions[i];
    let drill = e.drill;
    let servers: Vec<(String, Option<String>)> = match &e.steps[j].config {
        ExecConfig::Server(list) => list
            .iter()
            .map(|s| (s.server.source_server_id.clone(), e.snapshots.get(&s.server.source_server_id).cloned()))
            .collect(),
        ExecConfig::Wait(_) => {
            let s = &mut p.drs.plans.executions[i].steps[j];
            s.status = StepStatus::Waiting;
            s.began = Some(t);
            s.updated = t;
            return;
        }
    };
    let launched = jobs::launch(p, q, t, Launch { servers, drill, tags: Default::default() });
    match launched {
        Ok(k) => {
            let job = p.drs.jobs[k].id.clone();
            let s = &mut p.drs.plans.executions[i].steps[j];
            s.status = StepStatus::Executing;
            s.job = Some(job.clone());
            s.updated = t;
            if let ExecConfig::Server(list) = &mut s.config {
                list.iter_mut().for_each(|x| x.job_id = Some(job.clone()));
            }
        }
        Err(refused) => fail(&mut p.drs.plans.executions[i], j, t, ErrorDetail { code: refused.code, message: refused.message }),
    }
}

/// A server step's job has ended at `t`: FAILED when a CRITICAL server did not launch.
fn end_server_step(p: &mut Partition, i: usize, j: usize, t: DateTime<Utc>) {
    let step = &p.drs.plans.executions[i].steps[j];
    let job = p.drs.jobs.iter().find(|x| Some(x.id.as_str()) == step.job.as_deref());
    let failed: Vec<String> = match (&step.config, job) {
        (ExecConfig::Server(list), Some(job)) => list
            .iter()
            .filter(|s| s.server.critical())
            .filter(|s| {
                job.servers
                    .iter()
                    .find(|js| js.source_server_id == s.server.source_server_id)
                    .is_none_or(|js| js.launch_status != "LAUNCHED")
            })
            .map(|s| s.server.source_server_id.clone())
            .collect(),
        _ => vec![],
    };
    if failed.is_empty() {
        let e = &mut p.drs.plans.executions[i];
        e.steps[j].status = StepStatus::Completed;
        e.steps[j].updated = t;
        e.cursor = t;
        return;
    }
    let job = step.job.clone().unwrap_or_default();
    let message = format!("{} CRITICAL servers failed to launch in job {job}: {}", failed.len(), failed.join(", "));
    fail(&mut p.drs.plans.executions[i], j, t, ErrorDetail { code: "LAUNCH_FAILED".into(), message });
}

/// Step `j` failed at `t`: so does its execution (a cancelled one ends CANCELLED instead).
fn fail(e: &mut Execution, j: usize, t: DateTime<Utc>, error: ErrorDetail) {
    let step = &mut e.steps[j];
    step.status = StepStatus::Failed;
    step.updated = t;
    let message = format!("Step {} ({}) failed: {}", j + 1, step.name, error.message);
    step.error = Some(error);
    e.cursor = t;
    if e.status == ExecutionStatus::Cancelling {
        return finish_cancel(e, t);
    }
    e.status = ExecutionStatus::Failed;
    e.completed = Some(t);
    e.error = Some(ErrorDetail { code: "STEP_FAILED".into(), message });
}

fn finish_cancel(e: &mut Execution, t: DateTime<Utc>) {
    for s in e.steps.iter_mut().filter(|s| matches!(s.status, StepStatus::NotStarted | StepStatus::Waiting)) {
        s.status = StepStatus::Skipped;
        s.updated = t;
    }
    e.status = ExecutionStatus::Cancelled;
    e.completed = Some(t);
    e.cursor = t;
}

//! Executions: StartRecoveryPlanExecution (the plan's steps copied, CREATED; one execution
//! of a plan at a time), GetRecoveryPlanExecution, ListRecoveryPlanExecutions (newest first,
//! by plan and status), CancelRecoveryPlanExecution (the rest skipped once the running step
//! ends), DeleteRecoveryPlanExecution (an ended one); and their steps:
//! GetRecoveryPlanExecutionStep, ListRecoveryPlanExecutionSteps (by status),
//! UpdateRecoveryPlanExecutionStep (skip a step not started, failed or timed out, which
//! resumes a failed execution; or change the servers or the wait of a step not started) and
//! RetryRecoveryPlanExecutionStep (a failed server step runs again, its attempt counted).

use super::model::{ExecConfig, ExecServer, ExecStep, Execution, ExecutionStatus, StepConfig, StepStatus};
use super::{arn_prefix, conflict, new_id, not_found, page_as, plan_index, remember, replayed};
use crate::ctx::Ctx;
use crate::drs::input::{self, invalid};
use crate::drs::partition::with_partition;
use crate::protocol::{json_reply, ApiError, Reply};
use crate::world::Partition;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const EXECUTION: &str = "RECOVERY_PLAN_EXECUTION";
const EXECUTION_STEP: &str = "RECOVERY_PLAN_EXECUTION_STEP";

fn execution_index(p: &Partition, arn: &str) -> Result<usize, ApiError> {
    p.drs.plans.executions.iter().position(|e| e.arn == arn).ok_or_else(|| not_found(arn, EXECUTION))
}

fn step_index(p: &Partition, arn: &str) -> Result<(usize, usize), ApiError> {
    let execution = arn.rsplit_once("/step/").map(|(e, _)| e).ok_or_else(|| not_found(arn, EXECUTION_STEP))?;
    let i = execution_index(p, execution).map_err(|_| not_found(arn, EXECUTION_STEP))?;
    let j = p.drs.plans.executions[i].steps.iter().position(|s| s.arn == arn).ok_or_else(|| not_found(arn, EXECUTION_STEP))?;
    Ok((i, j))
}

fn one(p: &Partition, i: usize) -> Reply {
    json_reply(200, &json!({"recoveryPlanExecution": p.drs.plans.executions[i].to_json()}))
}

fn one_step(p: &Partition, i: usize, j: usize) -> Reply {
    json_reply(200, &json!({"recoveryPlanExecutionStep": p.drs.plans.executions[i].step_json(j)}))
}

/// The plan's other execution that has not ended, if any.
fn running_of(p: &Partition, plan_arn: &str, except: Option<usize>) -> Option<usize> {
    p.drs
        .plans
        .executions
        .iter()
        .enumerate()
        .position(|(k, e)| e.plan_arn == plan_arn && !e.status.is_terminal() && Some(k) != except)
}

pub fn start(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let plan_arn = input::req_str(body, "recoveryPlanArn")?;
    let drill = input::req_str(body, "mode")? == "DRILL";
    let tags = input::tags(body, "tags")?;
    with_partition(ctx, |p| {
        let i = plan_index(p, plan_arn)?;
        if let Some(arn) = replayed(p, "StartRecoveryPlanExecution", body)? {
            if let Ok(k) = execution_index(p, &arn) {
                return Ok(json_reply(201, &json!({"recoveryPlanExecution": p.drs.plans.executions[k].to_json()})));
            }
        }
        if let Some(k) = running_of(p, plan_arn, None) {
            let e = &p.drs.plans.executions[k];
            return Err(conflict(
                plan_arn,
                "RECOVERY_PLAN",
                format!("Recovery plan {plan_arn} has execution {} in status {}", e.arn, e.status.as_str()),
            ));
        }
        let plan = &p.drs.plans.plans[i];
        if plan.status() != "ACTIVE" {
            return Err(invalid("recoveryPlanArn", &format!("{plan_arn} has no server step: it is INVALID and cannot run")));
        }
        let in_plan: Vec<&str> = plan
            .steps
            .iter()
            .flat_map(|s| match &s.config {
                StepConfig::Server(list) => list.iter().map(|x| x.source_server_id.as_str()).collect(),
                StepConfig::Wait(_) => vec![],
            })
            .collect();
        let mut snapshots = BTreeMap::new();
        for (k, s) in body["sourceServers"].as_array().into_iter().flatten().enumerate() {
            let id = s["sourceServerID"].as_str().unwrap_or_default();
            if !in_plan.contains(&id) {
                return Err(invalid(&format!("sourceServers[{k}].sourceServerID"), &format!("{id} is in no step of the plan")));
            }
            snapshots.insert(id.to_owned(), s["recoverySnapshotID"].as_str().unwrap_or_default().to_owned());
        }
        let now = ctx.now();
        let arn = format!("{}recovery-plan-execution/{}", arn_prefix(p), new_id("exec"));
        let steps = plan
            .steps
            .iter()
            .map(|s| ExecStep {
                arn: format!("{arn}/step/{}", new_id("step")),
                name: s.name.clone(),
                config: match &s.config {
                    StepConfig::Server(list) => {
                        ExecConfig::Server(list.iter().map(|x| ExecServer { server: x.clone(), job_id: None }).collect())
                    }
                    StepConfig::Wait(m) => ExecConfig::Wait(*m),
                },
                status: StepStatus::NotStarted,
                attempt: 1,
                created: now,
                updated: now,
                error: None,
                began: None,
                job: None,
            })
            .collect();
        let execution = Execution {
            arn: arn.clone(),
            plan_arn: plan_arn.to_owned(),
            drill,
            status: ExecutionStatus::Created,
            started: now,
            completed: None,
            error: None,
            tags,
            snapshots,
            steps,
            cursor: now,
        };
        let out = json!({"recoveryPlanExecution": execution.to_json()});
        p.drs.plans.executions.push(execution);
        remember(p, "StartRecoveryPlanExecution", body, &arn);
        Ok(json_reply(201, &out))
    })
}

pub fn get(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanExecutionArn")?;
    with_partition(ctx, |p| Ok(one(p, execution_index(p, arn)?)))
}

pub fn list(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let plan = input::opt_str(body, "recoveryPlanArn")?;
    let status = input::opt_str(body, "status")?;
    with_partition(ctx, |p| {
        let matching: Vec<&Execution> = p
            .drs
            .plans
            .executions
            .iter()
            .rev()
            .filter(|e| plan.is_none_or(|a| e.plan_arn == a) && status.is_none_or(|s| e.status.as_str() == s))
            .collect();
        page_as("recoveryPlanExecutions", &matching, body, |e| e.summary_json())
    })
}

pub fn cancel(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanExecutionArn")?;
    with_partition(ctx, |p| {
        let i = execution_index(p, arn)?;
        let now = ctx.now();
        let e = &mut p.drs.plans.executions[i];
        match e.status {
            ExecutionStatus::Created | ExecutionStatus::InProgress => {
                e.status = ExecutionStatus::Cancelling;
                e.cursor = now;
            }
            ExecutionStatus::Cancelling => {}
            s => return Err(conflict(arn, EXECUTION, format!("Execution {arn} has ended ({})", s.as_str()))),
        }
        super::progress::settle(p, i, now);
        Ok(one(p, i))
    })
}

pub fn delete(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanExecutionArn")?;
    with_partition(ctx, |p| {
        let i = execution_index(p, arn)?;
        let status = p.drs.plans.executions[i].status;
        if !status.is_terminal() {
            return Err(conflict(
                arn,
                EXECUTION,
                format!("Execution {arn} is {}: only an ended one is deleted", status.as_str()),
            ));
        }
        p.drs.plans.executions.remove(i);
        Ok(json_reply(200, &json!({"recoveryPlanExecutionArn": arn})))
    })
}

pub fn get_step(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanExecutionStepArn")?;
    with_partition(ctx, |p| {
        let (i, j) = step_index(p, arn)?;
        Ok(one_step(p, i, j))
    })
}

pub fn list_steps(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanExecutionArn")?;
    let status = body["filter"]["status"].as_str();
    with_partition(ctx, |p| {
        let i = execution_index(p, arn)?;
        let e = &p.drs.plans.executions[i];
        let which: Vec<usize> = (0..e.steps.len()).filter(|j| status.is_none_or(|s| e.steps[*j].status.as_str() == s)).collect();
        page_as("recoveryPlanExecutionSteps", &which, body, |j| e.step_summary_json(*j))
    })
}

/// Resumes an execution that failed at a step now skipped or retried: IN_PROGRESS again,
/// unless its plan has started another meanwhile.
fn resume(p: &mut Partition, i: usize, now: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
    let e = &p.drs.plans.executions[i];
    if e.status != ExecutionStatus::Failed {
        return Ok(());
    }
    if let Some(k) = running_of(p, &e.plan_arn, Some(i)) {
        let other = p.drs.plans.executions[k].arn.clone();
        return Err(conflict(&e.arn, EXECUTION, format!("Execution {other} of the same plan has not ended")));
    }
    let e = &mut p.drs.plans.executions[i];
    e.status = ExecutionStatus::InProgress;
    e.completed = None;
    e.error = None;
    e.cursor = now;
    Ok(())
}

pub fn update_step(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanExecutionStepArn")?;
    let status = input::opt_str(body, "status")?;
    let servers = body.get("servers").and_then(Value::as_array).cloned();
    let wait = body["waitDurationMinutes"].as_i64();
    if status.is_none() && servers.is_none() && wait.is_none() {
        return Err(invalid("recoveryPlanExecutionStepArn", "name a status, servers or waitDurationMinutes to update"));
    }
    if status.is_some_and(|s| s != "SKIPPED") {
        return Err(invalid("status", "only SKIPPED is accepted"));
    }
    with_partition(ctx, |p| {
        let (i, j) = step_index(p, arn)?;
        let now = ctx.now();
        let current = p.drs.plans.executions[i].steps[j].status;
        let refuse = |why: &str| Err(conflict(arn, EXECUTION_STEP, format!("Step {arn} is {}: {why}", current.as_str())));
        let new_servers = match &servers {
            Some(list) => {
                if !matches!(p.drs.plans.executions[i].steps[j].config, ExecConfig::Server(_)) {
                    return Err(invalid("servers", "only a server step has servers"));
                }
                Some(super::steps::servers(p, list, "servers")?)
            }
            None => None,
        };
        if wait.is_some() && !matches!(p.drs.plans.executions[i].steps[j].config, ExecConfig::Wait(_)) {
            return Err(invalid("waitDurationMinutes", "only a wait step has a duration"));
        }
        if (new_servers.is_some() || wait.is_some()) && current != StepStatus::NotStarted {
            return refuse("only a step not started can change");
        }
        if status.is_some() {
            if !matches!(current, StepStatus::NotStarted | StepStatus::Failed | StepStatus::TimedOut) {
                return refuse("only a step not started, failed or timed out can be skipped");
            }
            if current != StepStatus::NotStarted {
                resume(p, i, now)?;
            }
        }
        let step = &mut p.drs.plans.executions[i].steps[j];
        if let Some(list) = new_servers {
            step.config = ExecConfig::Server(list.into_iter().map(|server| ExecServer { server, job_id: None }).collect());
        }
        if let Some(m) = wait {
            step.config = ExecConfig::Wait(m);
        }
        if status.is_some() {
            step.status = StepStatus::Skipped;
        }
        step.updated = now;
        super::progress::advance(p, &ctx.world.quotas.read(), now);
        Ok(one_step(p, i, j))
    })
}

pub fn retry_step(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanExecutionStepArn")?;
    with_partition(ctx, |p| {
        let (i, j) = step_index(p, arn)?;
        let step = &p.drs.plans.executions[i].steps[j];
        if !matches!(step.config, ExecConfig::Server(_)) {
            return Err(invalid("recoveryPlanExecutionStepArn", "only a server step can be retried"));
        }
        if !matches!(step.status, StepStatus::Failed | StepStatus::TimedOut) {
            let why = format!("Step {arn} is {}: only a failed step can be retried", step.status.as_str());
            return Err(conflict(arn, EXECUTION_STEP, why));
        }
        let now = ctx.now();
        resume(p, i, now)?;
        let step = &mut p.drs.plans.executions[i].steps[j];
        step.status = StepStatus::NotStarted;
        step.attempt += 1;
        step.error = None;
        step.job = None;
        if let ExecConfig::Server(list) = &mut step.config {
            list.iter_mut().for_each(|s| s.job_id = None);
        }
        step.updated = now;
        super::progress::advance(p, &ctx.world.quotas.read(), now);
        Ok(one_step(p, i, j))
    })
}

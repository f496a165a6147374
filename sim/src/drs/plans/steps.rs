//! A plan's steps: CreateRecoveryPlanStep (appended, or inserted at its `stepOrder`),
//! GetRecoveryPlanStep, UpdateRecoveryPlanStep (its name or configuration; a step's type is
//! immutable), DeleteRecoveryPlanStep, ListRecoveryPlanSteps (in order) and
//! ReorderRecoveryPlanSteps (the plan's every step, each once, in the new order).

use super::model::{PlanServer, Step, StepConfig};
use super::{arn_prefix, conflict, new_id, not_found, page_as, parent_of_step, plan_index, remember, replayed, MAX_STEPS};
use crate::ctx::Ctx;
use crate::drs::input::{self, invalid};
use crate::drs::partition::with_partition;
use crate::protocol::{json_reply, ApiError, Reply};
use crate::world::Partition;
use serde_json::{json, Value};

/// A step's configuration as a request gives it (already checked against the model's
/// shape); each server must be a source server of the caller's account and region.
fn configuration(p: &Partition, v: &Value, field: &str) -> Result<StepConfig, ApiError> {
    if let Some(wait) = v.get("waitStepConfiguration").filter(|w| !w.is_null()) {
        return Ok(StepConfig::Wait(wait["waitDurationMinutes"].as_i64().unwrap_or(1)));
    }
    let list = v["serverStepConfiguration"]["servers"].as_array().cloned().unwrap_or_default();
    servers(p, &list, &format!("{field}.serverStepConfiguration.servers")).map(StepConfig::Server)
}

/// Servers of a step (or of an execution step's update), each named once.
pub fn servers(p: &Partition, list: &[Value], field: &str) -> Result<Vec<PlanServer>, ApiError> {
    let ours = format!("{}source-server/", arn_prefix(p));
    let mut out: Vec<PlanServer> = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let arn = s["serverArn"].as_str().unwrap_or_default();
        let id = arn.strip_prefix(&ours).filter(|id| p.drs.servers.contains_key(*id)).ok_or_else(|| {
            invalid(&format!("{field}[{i}].serverArn"), &format!("{arn} is not a source server of this account and region"))
        })?;
        if out.iter().any(|o| o.arn == arn) {
            return Err(invalid(field, &format!("{arn} is listed twice")));
        }
        out.push(PlanServer {
            arn: arn.to_owned(),
            source_server_id: id.to_owned(),
            impact: s["impactLevel"].as_str().map(str::to_owned),
        });
    }
    Ok(out)
}

/// The plan and position of a step ARN (404 when either is gone).
fn step_index(p: &Partition, arn: &str) -> Result<(usize, usize), ApiError> {
    let plan = parent_of_step(arn).ok_or_else(|| not_found(arn, "RECOVERY_PLAN_STEP"))?;
    let i = plan_index(p, plan).map_err(|_| not_found(arn, "RECOVERY_PLAN_STEP"))?;
    let j = p.drs.plans.plans[i].steps.iter().position(|s| s.arn == arn).ok_or_else(|| not_found(arn, "RECOVERY_PLAN_STEP"))?;
    Ok((i, j))
}

fn name_taken(p: &Partition, plan: usize, name: &str, except: Option<usize>) -> Result<(), ApiError> {
    let steps = &p.drs.plans.plans[plan].steps;
    match steps.iter().enumerate().find(|(j, s)| s.name == name && Some(*j) != except) {
        Some((_, s)) => Err(conflict(&s.arn, "RECOVERY_PLAN_STEP", format!("The plan has a step named {name} already"))),
        None => Ok(()),
    }
}

pub fn create(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let plan_arn = input::req_str(body, "recoveryPlanArn")?;
    let name = input::req_str(body, "stepName")?;
    with_partition(ctx, |p| {
        let i = plan_index(p, plan_arn)?;
        if let Some(arn) = replayed(p, "CreateRecoveryPlanStep", body)? {
            if let Some(j) = p.drs.plans.plans[i].steps.iter().position(|s| s.arn == arn) {
                return Ok(json_reply(201, &json!({"recoveryPlanStep": p.drs.plans.plans[i].step_json(j)})));
            }
        }
        let config = configuration(p, &body["configuration"], "configuration")?;
        name_taken(p, i, name, None)?;
        let count = p.drs.plans.plans[i].steps.len();
        if count >= MAX_STEPS {
            return Err(ApiError::new(
                402,
                "ServiceQuotaExceededException",
                format!("A recovery plan holds at most {MAX_STEPS} steps; {plan_arn} has {count}"),
            )
            .with("resourceId", plan_arn)
            .with("resourceType", "RECOVERY_PLAN")
            .with("serviceCode", "drs")
            .with("quotaCode", "steps-per-recovery-plan"));
        }
        let at = match body["stepOrder"].as_u64() {
            None => count,
            Some(o) if (o as usize) <= count + 1 => o as usize - 1,
            Some(_) => {
                return Err(invalid("stepOrder", &format!("must be from 1 to {} (the plan has {count} steps)", count + 1)))
            }
        };
        let now = ctx.now();
        let arn = format!("{plan_arn}/step/{}", new_id("st"));
        let plan = &mut p.drs.plans.plans[i];
        plan.steps.insert(at, Step { arn: arn.clone(), name: name.to_owned(), config, created: now, updated: now });
        plan.updated = now;
        let out = json!({"recoveryPlanStep": plan.step_json(at)});
        remember(p, "CreateRecoveryPlanStep", body, &arn);
        Ok(json_reply(201, &out))
    })
}

pub fn get(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanStepArn")?;
    with_partition(ctx, |p| {
        let (i, j) = step_index(p, arn)?;
        Ok(json_reply(200, &json!({"recoveryPlanStep": p.drs.plans.plans[i].step_json(j)})))
    })
}

pub fn update(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanStepArn")?;
    with_partition(ctx, |p| {
        let (i, j) = step_index(p, arn)?;
        let config = match body.get("configuration").filter(|c| !c.is_null()) {
            Some(c) => Some(configuration(p, c, "configuration")?),
            None => None,
        };
        if let Some(c) = &config {
            if c.is_server() != p.drs.plans.plans[i].steps[j].config.is_server() {
                return Err(invalid("configuration", "a step's type cannot change (delete it and create another)"));
            }
        }
        if let Some(name) = input::opt_str(body, "stepName")? {
            name_taken(p, i, name, Some(j))?;
            p.drs.plans.plans[i].steps[j].name = name.to_owned();
        }
        let now = ctx.now();
        let plan = &mut p.drs.plans.plans[i];
        if let Some(c) = config {
            plan.steps[j].config = c;
        }
        plan.steps[j].updated = now;
        plan.updated = now;
        Ok(json_reply(200, &json!({"recoveryPlanStep": plan.step_json(j)})))
    })
}

pub fn delete(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "recoveryPlanStepArn")?;
    with_partition(ctx, |p| {
        let (i, j) = step_index(p, arn)?;
        let plan = &mut p.drs.plans.plans[i];
        plan.steps.remove(j);
        plan.updated = ctx.now();
        Ok(json_reply(200, &json!({"recoveryPlanStepArn": arn})))
    })
}

pub fn list(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let plan_arn = input::req_str(body, "recoveryPlanArn")?;
    with_partition(ctx, |p| {
        let i = plan_index(p, plan_arn)?;
        let plan = &p.drs.plans.plans[i];
        let order: Vec<usize> = (0..plan.steps.len()).collect();
        page_as("recoveryPlanSteps", &order, body, |j| plan.step_json(*j))
    })
}

pub fn reorder(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let plan_arn = input::req_str(body, "recoveryPlanArn")?;
    let ordered: Vec<String> =
        body["orderedStepArns"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    with_partition(ctx, |p| {
        let i = plan_index(p, plan_arn)?;
        let plan = &mut p.drs.plans.plans[i];
        let mut steps = Vec::with_capacity(ordered.len());
        for (k, arn) in ordered.iter().enumerate() {
            let Some(j) = plan.steps.iter().position(|s| s.arn == *arn) else {
                return Err(invalid(&format!("orderedStepArns[{k}]"), &format!("{arn} is not a step of {plan_arn}")));
            };
            if ordered[..k].contains(arn) {
                return Err(invalid(&format!("orderedStepArns[{k}]"), &format!("{arn} is listed twice")));
            }
            steps.push(plan.steps[j].clone());
        }
        if steps.len() != plan.steps.len() {
            return Err(invalid(
                "orderedStepArns",
                &format!("must list every step of the plan: {} listed, the plan has {}", steps.len(), plan.steps.len()),
            ));
        }
        plan.steps = steps;
        plan.updated = ctx.now();
        let all: Vec<Value> = (0..plan.steps.len()).map(|j| plan.step_json(j)).collect();
        Ok(json_reply(200, &json!({"recoveryPlanSteps": all})))
    })
}

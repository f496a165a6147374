//! Bringing one native plan in line: CreateRecoveryPlan (named and tagged after its resource,
//! its client token derived from the request, so a retried sync makes no second plan),
//! UpdateRecoveryPlan for its description, TagResource for the module's tags, then its steps:
//! deleted first (a plan holds 20), updated, created (appended, each with a client token from
//! the plan, its name and configuration), and reordered when their order is not the wanted
//! one. A stale plan (the resource no longer reaches its account and region) is deleted.

use super::drift::StepEdits;
use super::error::NativeError;
use super::layout::{DesiredPlan, DesiredStep, StepKind};
use super::names;
use crate::aws::errors::AwsError;
use aws_sdk_drs::types::{
    RecoveryPlanServer, RecoveryPlanServerImpactLevel, RecoveryPlanStepConfiguration, ServerStepConfiguration,
    WaitStepConfiguration,
};
use std::collections::BTreeMap;

/// What one change did, as the report lists it.
pub type Done = Vec<String>;

/// Creates the plan with no steps; returns its ARN.
pub async fn create_plan(drs: &aws_sdk_drs::Client, want: &DesiredPlan, done: &mut Done) -> Result<String, NativeError> {
    let tags: Vec<String> = want.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let token = names::token(&["plan", &want.partition.to_string(), &want.name, &want.description, &tags.join("\n")]);
    let out = drs
        .create_recovery_plan()
        .name(&want.name)
        .description(&want.description)
        .set_tags(Some(want.tags.clone().into_iter().collect()))
        .client_token(token)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("drs:CreateRecoveryPlan", &e))?;
    let arn =
        out.recovery_plan().ok_or(NativeError::Answer("CreateRecoveryPlan answered no plan"))?.recovery_plan_arn().to_owned();
    done.push(format!("created the plan {arn}"));
    Ok(arn)
}

pub async fn describe(drs: &aws_sdk_drs::Client, arn: &str, want: &DesiredPlan, done: &mut Done) -> Result<(), NativeError> {
    drs.update_recovery_plan()
        .recovery_plan_arn(arn)
        .description(&want.description)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("drs:UpdateRecoveryPlan", &e))?;
    done.push("restored its description".into());
    Ok(())
}

pub async fn tag(
    drs: &aws_sdk_drs::Client,
    arn: &str,
    tags: &BTreeMap<String, String>,
    done: &mut Done,
) -> Result<(), NativeError> {
    drs.tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("drs:TagResource", &e))?;
    done.push(format!("tagged it {}", tags.keys().cloned().collect::<Vec<_>>().join(", ")));
    Ok(())
}

pub async fn delete_plan(drs: &aws_sdk_drs::Client, arn: &str, done: &mut Done) -> Result<(), NativeError> {
    drs.delete_recovery_plan()
        .recovery_plan_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("drs:DeleteRecoveryPlan", &e))?;
    done.push(format!("deleted the plan {arn}"));
    Ok(())
}

/// The SDK's form of a step's configuration.
fn configuration(step: &DesiredStep) -> Result<RecoveryPlanStepConfiguration, NativeError> {
    let bad = |_| NativeError::Answer("a step's configuration lacks a required member");
    Ok(match &step.kind {
        StepKind::Wait { minutes } => RecoveryPlanStepConfiguration::WaitStepConfiguration(
            WaitStepConfiguration::builder().wait_duration_minutes(i32::try_from(*minutes).unwrap_or(1)).build().map_err(bad)?,
        ),
        StepKind::Servers { servers } => {
            let list = servers
                .iter()
                .map(|s| {
                    let impact = if s.critical {
                        RecoveryPlanServerImpactLevel::Critical
                    } else {
                        RecoveryPlanServerImpactLevel::Optional
                    };
                    RecoveryPlanServer::builder().server_arn(&s.arn).impact_level(impact).build().map_err(bad)
                })
                .collect::<Result<Vec<_>, _>>()?;
            RecoveryPlanStepConfiguration::ServerStepConfiguration(
                ServerStepConfiguration::builder().set_servers(Some(list)).build().map_err(bad)?,
            )
        }
    })
}

/// The step's configuration as text, for its client token.
fn canonical(step: &DesiredStep) -> String {
    match &step.kind {
        StepKind::Wait { minutes } => format!("wait {minutes}"),
        StepKind::Servers { servers } => servers
            .iter()
            .map(|s| format!("{}{}", s.arn, if s.critical { "" } else { " optional" }))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Applies `edits` to the plan's steps; `kept` maps each remaining step's ARN to its wanted
/// index (for the reorder).
pub async fn steps(
    drs: &aws_sdk_drs::Client,
    arn: &str,
    want: &DesiredPlan,
    edits: &StepEdits,
    mut kept: Vec<(usize, String)>,
    done: &mut Done,
) -> Result<(), NativeError> {
    for (step, name) in &edits.delete {
        drs.delete_recovery_plan_step()
            .recovery_plan_step_arn(step)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("drs:DeleteRecoveryPlanStep", &e))?;
        done.push(format!("deleted step '{name}'"));
    }
    for (step, i) in &edits.update {
        let w = &want.steps[*i];
        drs.update_recovery_plan_step()
            .recovery_plan_step_arn(step)
            .configuration(configuration(w)?)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("drs:UpdateRecoveryPlanStep", &e))?;
        done.push(format!("updated step '{}'", w.name));
    }
    for i in &edits.create {
        let w = &want.steps[*i];
        let token = names::token(&["step", arn, &w.name, &canonical(w)]);
        let out = drs
            .create_recovery_plan_step()
            .recovery_plan_arn(arn)
            .step_name(&w.name)
            .configuration(configuration(w)?)
            .client_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("drs:CreateRecoveryPlanStep", &e))?;
        let step = out.recovery_plan_step().ok_or(NativeError::Answer("CreateRecoveryPlanStep answered no step"))?;
        kept.push((*i, step.recovery_plan_step_arn().to_owned()));
        done.push(format!("created step '{}'", w.name));
    }
    if edits.reorder {
        kept.sort_by_key(|(i, _)| *i);
        drs.reorder_recovery_plan_steps()
            .recovery_plan_arn(arn)
            .set_ordered_step_arns(Some(kept.into_iter().map(|(_, a)| a).collect()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("drs:ReorderRecoveryPlanSteps", &e))?;
        done.push("reordered its steps".into());
    }
    Ok(())
}

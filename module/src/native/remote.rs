//! The native plans as DRS has them in one account x region: the plans named after a
//! resource (ListRecoveryPlans through the SDK's paginator), each read whole (GetRecoveryPlan
//! for its description and tags, ListRecoveryPlanSteps for its steps in order). A plan of the
//! name that the target role may not read (it lacks the module's tag, so the role's policy
//! refuses it) is told apart from a failure to read.

use super::error::NativeError;
use crate::aws::errors::{AwsError, Kind};
use crate::aws::Clients;
use crate::config::Partition;
use aws_sdk_drs::types::{RecoveryPlanServerImpactLevel, RecoveryPlanStepConfiguration};
use std::collections::BTreeMap;

/// One step as DRS has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStep {
    pub arn: String,
    pub name: String,
    pub kind: RemoteKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteKind {
    /// Each server's ARN and whether it is CRITICAL (DRS's default when unset).
    Servers(Vec<(String, bool)>),
    Wait(i32),
    /// A configuration this version of the SDK does not know.
    Unknown,
}

/// One plan as DRS has it.
#[derive(Debug, Clone)]
pub struct RemotePlan {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub steps: Vec<RemoteStep>,
}

/// A plan of the name that the caller may not read.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub arn: String,
    pub error: AwsError,
}

/// Every plan of the partition whose name is one of `names`, read whole, by name.
pub struct Found {
    pub plans: BTreeMap<String, Vec<RemotePlan>>,
    pub unreadable: BTreeMap<String, Vec<Unreadable>>,
}

pub async fn read(clients: &Clients, p: &Partition, names: &[&str]) -> Result<Found, NativeError> {
    let drs = clients.drs(p).await.map_err(NativeError::client)?;
    let listed: Vec<_> = drs
        .list_recovery_plans()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| AwsError::from_sdk("drs:ListRecoveryPlans", &e))?;
    let mut found = Found { plans: BTreeMap::new(), unreadable: BTreeMap::new() };
    for summary in listed.iter().filter(|s| names.contains(&s.name())) {
        match read_plan(&drs, summary.recovery_plan_arn()).await {
            Ok(plan) => found.plans.entry(summary.name().to_owned()).or_default().push(plan),
            Err(NativeError::Aws(e)) if e.kind == Kind::PermissionMissing => {
                let u = Unreadable { arn: summary.recovery_plan_arn().to_owned(), error: e };
                found.unreadable.entry(summary.name().to_owned()).or_default().push(u);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

async fn read_plan(drs: &aws_sdk_drs::Client, arn: &str) -> Result<RemotePlan, NativeError> {
    let got =
        drs.get_recovery_plan().recovery_plan_arn(arn).send().await.map_err(|e| AwsError::from_sdk("drs:GetRecoveryPlan", &e))?;
    let plan = got.recovery_plan().ok_or(NativeError::Answer("GetRecoveryPlan answered no plan"))?;
    let steps: Vec<_> = drs
        .list_recovery_plan_steps()
        .recovery_plan_arn(arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| AwsError::from_sdk("drs:ListRecoveryPlanSteps", &e))?;
    let mut steps: Vec<_> = steps.into_iter().collect();
    steps.sort_by_key(|s| s.step_order());
    Ok(RemotePlan {
        arn: plan.recovery_plan_arn().to_owned(),
        name: plan.name().to_owned(),
        description: plan.description().map(str::to_owned),
        tags: plan.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        steps: steps
            .iter()
            .map(|s| RemoteStep {
                arn: s.recovery_plan_step_arn().to_owned(),
                name: s.step_name().to_owned(),
                kind: kind(s.configuration()),
            })
            .collect(),
    })
}

fn kind(c: Option<&RecoveryPlanStepConfiguration>) -> RemoteKind {
    match c {
        Some(RecoveryPlanStepConfiguration::ServerStepConfiguration(s)) => RemoteKind::Servers(
            s.servers()
                .iter()
                .map(|x| (x.server_arn().to_owned(), x.impact_level() != Some(&RecoveryPlanServerImpactLevel::Optional)))
                .collect(),
        ),
        Some(RecoveryPlanStepConfiguration::WaitStepConfiguration(w)) => RemoteKind::Wait(w.wait_duration_minutes()),
        _ => RemoteKind::Unknown,
    }
}

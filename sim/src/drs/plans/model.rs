//! Recovery plans of one account x region as the simulator keeps them: plans and their ordered
//! steps, executions and their steps, and how each renders in the shapes of the service model
//! (RecoveryPlan, RecoveryPlanSummary, RecoveryPlanStep, RecoveryPlanExecution and its
//! summary, RecoveryPlanExecutionStep and its summary).
//!
//! ARNs: the Service Authorization Reference names two resource types, `recovery-plan/<id>`
//! and `recovery-plan-execution/<id>`; the model's `StrictDRSARN` documents the ids as
//! `plan-...`, `st-...`, `exec-...` and `step-...`. A plan's step is written under its plan
//! (`recovery-plan/plan-.../step/st-...`) and an execution's step under its execution, so that
//! a step's ARN names the resource IAM authorizes it on.

use crate::clock::iso;
use crate::fleet::Tags;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Every recovery plan, execution and client token of one account x region.
#[derive(Debug, Default)]
pub struct PlanState {
    /// In creation order.
    pub plans: Vec<Plan>,
    /// In start order.
    pub executions: Vec<Execution>,
    /// (operation, clientToken) -> the request's digest and the ARN it made: a retried call
    /// with the same token answers what the first one made, another call with it conflicts.
    pub tokens: BTreeMap<(String, String), (String, String)>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub tags: Tags,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// In their order: a step's `stepOrder` is its position here, from 1.
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub arn: String,
    pub name: String,
    pub config: StepConfig,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepConfig {
    /// Servers recovered together, in one launch job.
    Server(Vec<PlanServer>),
    /// A timed pause.
    Wait(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanServer {
    pub arn: String,
    pub source_server_id: String,
    /// As given (None renders nothing; it means CRITICAL).
    pub impact: Option<String>,
}

impl PlanServer {
    /// CRITICAL servers fail their step when they fail; OPTIONAL ones do not.
    pub fn critical(&self) -> bool {
        self.impact.as_deref() != Some("OPTIONAL")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    Created,
    InProgress,
    Completed,
    Failed,
    Cancelling,
    Cancelled,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Created => "CREATED",
            ExecutionStatus::InProgress => "IN_PROGRESS",
            ExecutionStatus::Completed => "COMPLETED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::Cancelling => "CANCELLING",
            ExecutionStatus::Cancelled => "CANCELLED",
        }
    }

    /// CREATED, IN_PROGRESS and CANCELLING: a plan has at most one such execution. (The
    /// documentation of DeleteRecoveryPlan names CREATED and IN_PROGRESS; CANCELLING is on
    /// its way to CANCELLED and still has a step running.)
    pub fn is_terminal(self) -> bool {
        matches!(self, ExecutionStatus::Completed | ExecutionStatus::Failed | ExecutionStatus::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    NotStarted,
    Executing,
    Waiting,
    Completed,
    Failed,
    TimedOut,
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::NotStarted => "NOT_STARTED",
            StepStatus::Executing => "EXECUTING",
            StepStatus::Waiting => "WAITING",
            StepStatus::Completed => "COMPLETED",
            StepStatus::Failed => "FAILED",
            StepStatus::TimedOut => "TIMED_OUT",
            StepStatus::Skipped => "SKIPPED",
        }
    }

    pub fn parse(s: &str) -> Option<StepStatus> {
        [
            StepStatus::NotStarted,
            StepStatus::Executing,
            StepStatus::Waiting,
            StepStatus::Completed,
            StepStatus::Failed,
            StepStatus::TimedOut,
            StepStatus::Skipped,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Passed: the execution goes on after it.
    pub fn is_done(self) -> bool {
        matches!(self, StepStatus::Completed | StepStatus::Skipped)
    }
}

/// `ErrorDetail`: a code and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

impl ErrorDetail {
    fn to_json(&self) -> Value {
        json!({"code": self.code, "message": self.message})
    }
}

#[derive(Debug, Clone)]
pub struct Execution {
    pub arn: String,
    pub plan_arn: String,
    pub drill: bool,
    pub status: ExecutionStatus,
    pub started: DateTime<Utc>,
    pub completed: Option<DateTime<Utc>>,
    pub error: Option<ErrorDetail>,
    pub tags: Tags,
    /// The recovery snapshot a server launches (StartRecoveryPlanExecution's sourceServers).
    pub snapshots: BTreeMap<String, String>,
    pub steps: Vec<ExecStep>,
    /// When the execution last moved: the next step may begin from then.
    pub cursor: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ExecStep {
    pub arn: String,
    pub name: String,
    pub config: ExecConfig,
    pub status: StepStatus,
    pub attempt: u32,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub error: Option<ErrorDetail>,
    /// When it began WAITING (a wait step).
    pub began: Option<DateTime<Utc>>,
    /// The launch job of its current attempt (a server step).
    pub job: Option<String>,
}

#[derive(Debug, Clone)]
pub enum ExecConfig {
    Server(Vec<ExecServer>),
    Wait(i64),
}

#[derive(Debug, Clone)]
pub struct ExecServer {
    pub server: PlanServer,
    pub job_id: Option<String>,
}

fn servers_json(servers: &[PlanServer]) -> Value {
    servers
        .iter()
        .map(|s| {
            let mut v = json!({"serverArn": s.arn});
            if let Some(i) = &s.impact {
                v["impactLevel"] = i.clone().into();
            }
            v
        })
        .collect()
}

impl StepConfig {
    pub fn to_json(&self) -> Value {
        match self {
            StepConfig::Server(servers) => json!({"serverStepConfiguration": {"servers": servers_json(servers)}}),
            StepConfig::Wait(m) => json!({"waitStepConfiguration": {"waitDurationMinutes": m}}),
        }
    }

    pub fn is_server(&self) -> bool {
        matches!(self, StepConfig::Server(_))
    }
}

impl ExecConfig {
    pub fn to_json(&self) -> Value {
        match self {
            ExecConfig::Server(servers) => {
                let list: Vec<Value> = servers
                    .iter()
                    .map(|s| {
                        let mut v = json!({"serverArn": s.server.arn});
                        if let Some(i) = &s.server.impact {
                            v["impactLevel"] = i.clone().into();
                        }
                        if let Some(j) = &s.job_id {
                            v["jobID"] = j.clone().into();
                        }
                        v
                    })
                    .collect();
                json!({"executionServerStepConfiguration": {"servers": list}})
            }
            ExecConfig::Wait(m) => json!({"waitStepConfiguration": {"waitDurationMinutes": m}}),
        }
    }
}

impl Plan {
    /// ACTIVE with a server step; INVALID without one (it cannot be run).
    pub fn status(&self) -> &'static str {
        if self.steps.iter().any(|s| s.config.is_server()) {
            "ACTIVE"
        } else {
            "INVALID"
        }
    }

    pub fn summary_json(&self) -> Value {
        json!({
            "recoveryPlanArn": self.arn,
            "name": self.name,
            "status": self.status(),
            "createdAt": iso(self.created),
            "updatedAt": iso(self.updated),
        })
    }

    pub fn to_json(&self) -> Value {
        let mut v = self.summary_json();
        if let Some(d) = &self.description {
            v["description"] = d.clone().into();
        }
        v["tags"] = json!(self.tags);
        v
    }

    pub fn step_json(&self, i: usize) -> Value {
        let s = &self.steps[i];
        json!({
            "recoveryPlanStepArn": s.arn,
            "stepOrder": i + 1,
            "stepName": s.name,
            "configuration": s.config.to_json(),
            "createdAt": iso(s.created),
            "updatedAt": iso(s.updated),
        })
    }
}

impl Execution {
    pub fn summary_json(&self) -> Value {
        let mut v = json!({
            "recoveryPlanExecutionArn": self.arn,
            "recoveryPlanArn": self.plan_arn,
            "mode": if self.drill { "DRILL" } else { "RECOVERY" },
            "status": self.status.as_str(),
            "startedAt": iso(self.started),
        });
        if let Some(e) = &self.error {
            v["errorDetail"] = e.to_json();
        }
        v
    }

    pub fn to_json(&self) -> Value {
        let mut v = self.summary_json();
        if let Some(t) = self.completed {
            v["completedAt"] = iso(t).into();
        }
        v["tags"] = json!(self.tags);
        v
    }

    pub fn step_summary_json(&self, i: usize) -> Value {
        let s = &self.steps[i];
        let mut v = json!({
            "recoveryPlanExecutionStepArn": s.arn,
            "stepName": s.name,
            "stepIndex": i + 1,
            "status": s.status.as_str(),
            "configuration": s.config.to_json(),
        });
        if let Some(e) = &s.error {
            v["errorDetail"] = e.to_json();
        }
        v
    }

    pub fn step_json(&self, i: usize) -> Value {
        let s = &self.steps[i];
        let mut v = self.step_summary_json(i);
        let extra: Map<String, Value> = [
            ("attempt".to_owned(), json!(s.attempt)),
            ("createdAt".to_owned(), json!(iso(s.created))),
            ("updatedAt".to_owned(), json!(iso(s.updated))),
        ]
        .into_iter()
        .collect();
        if let Some(map) = v.as_object_mut() {
            map.extend(extra);
        }
        v
    }

    /// The step running or next to run: the first not passed (None when all have).
    pub fn current(&self) -> Option<usize> {
        self.steps.iter().position(|s| !s.status.is_done())
    }
}

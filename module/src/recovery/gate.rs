//! Pause gates. A wave that must wait for an approval starts an execution of the hub's
//! approval state machine (`approvals.stateMachineArn`), named after the run (execution and
//! resource identity) and the wave so that every status check finds the same one, and two
//! resources given one `ExecutionId` ask for two approvals. Its task waits for a task token that
//! an approver answers: SendTaskSuccess approves (`drs-orch approve`), SendTaskFailure
//! rejects. DescribeExecution tells the status check which it was.

use super::tags::RunTags;
use crate::aws::Clients;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Waiting for an approver; the approval execution's ARN.
    Waiting(String),
    Approved,
    Rejected(String),
}

/// The approval execution's name: one per run and wave (at most 40 + 16 + 10 characters of
/// Step Functions' 80).
pub fn execution_name(run: RunTags<'_>, wave: usize) -> String {
    format!("{}-{}-wave-{wave}", run.execution, run.identity)
}

/// `arn:...:stateMachine:<sm>` -> `arn:...:execution:<sm>:<name>`.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> Option<String> {
    let (head, sm) = state_machine_arn.rsplit_once(":stateMachine:")?;
    Some(format!("{head}:execution:{sm}:{name}"))
}

/// Where wave `wave` stands: asks for the approval the first time, then reads the answer.
pub async fn check(
    clients: &Clients,
    run: RunTags<'_>,
    resource: &str,
    wave: usize,
    wave_name: &str,
    reason: &str,
) -> anyhow::Result<Gate> {
    let sm = clients.config().approvals.as_ref().map(|a| a.state_machine_arn.clone()).ok_or_else(|| {
        anyhow::anyhow!("wave {wave_name} waits for an approval, but the module configuration has no approvals.stateMachineArn")
    })?;
    let name = execution_name(run, wave);
    let execution = run.execution;
    let arn = execution_arn(&sm, &name)
        .ok_or_else(|| anyhow::anyhow!("approvals.stateMachineArn: '{sm}' is not a state machine ARN"))?;
    let sfn = aws_sdk_sfn::Client::new(clients.hub());
    match sfn.describe_execution().execution_arn(&arn).send().await {
        Ok(d) => Ok(match d.status() {
            ExecutionStatus::Running | ExecutionStatus::PendingRedrive => Gate::Waiting(arn),
            ExecutionStatus::Succeeded => Gate::Approved,
            other => Gate::Rejected(format!(
                "the approval of wave {wave_name} ended {}{}",
                other.as_str(),
                d.cause().map(|c| format!(": {c}")).unwrap_or_default()
            )),
        }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_does_not_exist()) => {
            // The reason may be a tenant hook's: the approvers' notification gets it as plain text.
            let reason = crate::text::plain(reason, crate::text::MAX_PLAIN);
            let input =
                json!({"execution": execution, "resource": resource, "wave": wave, "waveName": wave_name, "reason": reason});
            let started = sfn.start_execution().state_machine_arn(&sm).name(&name).input(input.to_string()).send().await;
            match started {
                Ok(s) => {
                    tracing::warn!(
                        execution,
                        wave = wave_name,
                        approval = s.execution_arn(),
                        reason,
                        "wave paused: waiting for an approval"
                    );
                    Ok(Gate::Waiting(s.execution_arn().to_owned()))
                }
                // A concurrent check asked first: the same gate.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_already_exists()) => Ok(Gate::Waiting(arn)),
                // Failing after the SDK's retries in a way that may pass: still waiting; the
                // next check asks again (or finds the execution, if this one was applied).
                Err(e) if crate::aws::errors::AwsError::from_sdk("states:StartExecution", &e).is_transient() => {
                    tracing::warn!(execution, wave = wave_name, error = %crate::aws::errors::display_chain(&e), "the approval request did not go through; retried next check");
                    Ok(Gate::Waiting(arn))
                }
                Err(e) => anyhow::bail!("states:StartExecution {sm}: {}", crate::aws::errors::display_chain(&e)),
            }
        }
        Err(e) if crate::aws::errors::AwsError::from_sdk("states:DescribeExecution", &e).is_transient() => {
            tracing::warn!(execution, wave = wave_name, error = %crate::aws::errors::display_chain(&e), "the approval could not be read; retried next check");
            Ok(Gate::Waiting(arn))
        }
        Err(e) => anyhow::bail!("states:DescribeExecution {arn}: {}", crate::aws::errors::display_chain(&e)),
    }
}

/// For the report: how a paused wave's approval went (`approved ...`, `rejected ...`).
pub async fn outcome(clients: &Clients, run: RunTags<'_>, wave: usize) -> Option<String> {
    let sm = clients.config().approvals.as_ref()?.state_machine_arn.clone();
    let arn = execution_arn(&sm, &execution_name(run, wave))?;
    let d = aws_sdk_sfn::Client::new(clients.hub()).describe_execution().execution_arn(&arn).send().await.ok()?;
    let when = d.stop_date().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).unwrap_or_default();
    Some(match d.status() {
        ExecutionStatus::Succeeded => format!("approved {when} ({arn}): {}", d.output().unwrap_or_default()),
        ExecutionStatus::Running => format!("waiting for an approval ({arn})"),
        other => format!("{} {when} ({arn}): {}", other.as_str().to_lowercase(), d.cause().unwrap_or_default()),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_execution_arn_follows_the_state_machine_arn() {
        assert_eq!(
            super::execution_arn("arn:aws:states:us-east-1:100000000000:stateMachine:approve", "x-wave-1").as_deref(),
            Some("arn:aws:states:us-east-1:100000000000:execution:approve:x-wave-1")
        );
        assert_eq!(super::execution_arn("arn:aws:sns:us-east-1:1:topic", "x"), None);
    }
}

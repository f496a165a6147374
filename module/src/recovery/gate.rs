//! Pause gates. A wave that must wait for an approval starts an execution of the hub's
//! approval state machine (`approvals.stateMachineArn`), named after the run (execution and
//! resource identity) and the wave so that every status check finds the same one, and two
//! resources given one `ExecutionId` ask for two approvals. Its task waits for a task token that
//! an approver answers: SendTaskSuccess approves (`drs-orch approve`), SendTaskFailure
//! rejects. DescribeExecution tells the status check which it was, and who answered and
//! when (`Approval`, for the run's record and its report).

use super::tags::RunTags;
use crate::aws::Clients;
pub use crate::ledger::{Approval, Decision};
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::types::ExecutionStatus;
use chrono::DateTime;
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Waiting for an approver; the approval execution's ARN.
    Waiting(String),
    Approved(Approval),
    /// Why, and who answered.
    Rejected(String, Approval),
}

/// The longest approver name kept.
const MAX_APPROVER: usize = 128;

impl Approval {
    /// The approval execution `arn` as DescribeExecution gave it.
    pub fn of(arn: &str, d: &DescribeExecutionOutput) -> Approval {
        let decision = match d.status() {
            ExecutionStatus::Succeeded => Decision::Approved,
            ExecutionStatus::TimedOut => Decision::TimedOut,
            ExecutionStatus::Aborted => Decision::Aborted,
            ExecutionStatus::Running | ExecutionStatus::PendingRedrive => Decision::Waiting,
            _ => Decision::Rejected,
        };
        let (approver, reason) = match decision {
            Decision::Approved => (d.output().and_then(approver_in_output), None),
            _ => match d.cause() {
                Some(cause) => {
                    let (reason, by) = split_cause(cause);
                    (by, Some(crate::text::line(reason, crate::text::MAX_PLAIN)))
                }
                None => (None, None),
            },
        };
        // Step Functions gives times as epoch seconds with milliseconds; read through a float,
        // they gain nanoseconds (…756000041) that would put the answer after the wave it let
        // start. Kept to the millisecond, as the service has them.
        let at = d
            .stop_date()
            .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
            .map(|t| chrono::SubsecRound::round_subsecs(t, 3));
        Approval { decision, approver, at, approval: arn.to_owned(), reason }
    }
}

/// The approver an approval's output names: its `by`.
fn approver_in_output(output: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(output).ok()?;
    let by = v.get("by")?.as_str()?;
    Some(crate::text::line(by, MAX_APPROVER)).filter(|b| !b.is_empty())
}

/// A rejection's cause as `drs-orch approve --reject` writes it, `<reason> (by <approver>)`:
/// the reason and the approver; a cause written otherwise is all reason.
fn split_cause(cause: &str) -> (&str, Option<String>) {
    match cause.strip_suffix(')').and_then(|c| c.rsplit_once(" (by ")) {
        Some((reason, by)) if !by.is_empty() => (reason, Some(crate::text::line(by, MAX_APPROVER))),
        _ => (cause, None),
    }
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
            ExecutionStatus::Succeeded => Gate::Approved(Approval::of(&arn, &d)),
            other => Gate::Rejected(
                format!(
                    "the approval of wave {wave_name} ended {}{}",
                    other.as_str(),
                    d.cause().map(|c| format!(": {c}")).unwrap_or_default()
                ),
                Approval::of(&arn, &d),
            ),
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

/// For the report: how a paused wave's approval went, read from the approval execution (the
/// run's record holds it once a check read the answer: `GateAnswer`). None when it cannot be
/// read (no approvals configured, or the execution is gone).
pub async fn approval(clients: &Clients, run: RunTags<'_>, wave: usize) -> Option<Approval> {
    let sm = clients.config().approvals.as_ref()?.state_machine_arn.clone();
    let arn = execution_arn(&sm, &execution_name(run, wave))?;
    let d = aws_sdk_sfn::Client::new(clients.hub()).describe_execution().execution_arn(&arn).send().await.ok()?;
    Some(Approval::of(&arn, &d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::DateTime as SmithyTime;

    fn described(status: ExecutionStatus, output: Option<&str>, cause: Option<&str>) -> DescribeExecutionOutput {
        DescribeExecutionOutput::builder()
            .execution_arn("arn:x")
            .state_machine_arn("arn:sm")
            .status(status)
            .start_date(SmithyTime::from_secs(1_777_000_000))
            .stop_date(SmithyTime::from_secs(1_777_000_600))
            .set_output(output.map(str::to_owned))
            .set_cause(cause.map(str::to_owned))
            .build()
            .unwrap()
    }

    #[test]
    fn an_approval_names_who_decided_and_when_as_plain_text() {
        let a = Approval::of("arn:x", &described(ExecutionStatus::Succeeded, Some(r#"{"approved":true,"by":"alice"}"#), None));
        assert_eq!((a.decision, a.approver.as_deref()), (Decision::Approved, Some("alice")));
        assert_eq!(a.at.map(|t| t.timestamp()), Some(1_777_000_600));
        let r = Approval::of("arn:x", &described(ExecutionStatus::Failed, None, Some("not tonight (by bob)")));
        assert_eq!(
            (r.decision, r.approver.as_deref(), r.reason.as_deref()),
            (Decision::Rejected, Some("bob"), Some("not tonight"))
        );
        // A cause written by hand names no approver; an output without `by` neither.
        let r = Approval::of("arn:x", &described(ExecutionStatus::Failed, None, Some("no")));
        assert_eq!((r.approver, r.reason.as_deref()), (None, Some("no")));
        let a = Approval::of("arn:x", &described(ExecutionStatus::Succeeded, Some("{}"), None));
        assert_eq!(a.approver, None);
        // Outside text is kept to one line without control characters (the report escapes it);
        // a role session's ARN or an e-mail address stays as given.
        let a =
            Approval::of("arn:x", &described(ExecutionStatus::Succeeded, Some(r#"{"by":"eve\n<b>x</b>\u0007\u202e"}"#), None));
        assert_eq!(a.approver.as_deref(), Some("eve <b>x</b>"));
        let arn = "arn:aws:sts::111111111111:assumed-role/Approvers/alice@example.com";
        let a = Approval::of("arn:x", &described(ExecutionStatus::Succeeded, Some(&json!({"by": arn}).to_string()), None));
        assert_eq!(a.approver.as_deref(), Some(arn));
        assert_eq!(Approval::of("arn:x", &described(ExecutionStatus::TimedOut, None, None)).decision, Decision::TimedOut);
    }

    #[test]
    fn the_execution_arn_follows_the_state_machine_arn() {
        assert_eq!(
            super::execution_arn("arn:aws:states:us-east-1:100000000000:stateMachine:approve", "x-wave-1").as_deref(),
            Some("arn:aws:states:us-east-1:100000000000:execution:approve:x-wave-1")
        );
        assert_eq!(super::execution_arn("arn:aws:sns:us-east-1:1:topic", "x"), None);
    }
}

//! A run's end, recorded where a later activate of the same execution id looks. The status
//! check that finds the run ended tags the execution's newest job in each partition
//! `drs-orch:ended`; an activate refuses an execution id whose jobs carry it, or whose
//! approvals were already answered, instead of taking the old run's jobs, marks and approvals for its own (which answered
//! "done" having done nothing). Approval executions outlive the jobs' lookback window, so a
//! run with a gate is recognized months later. An approval still waiting that was asked for
//! before this activation's lookback window belongs to an earlier run of the id that never
//! ended: it is refused too, as its answer would otherwise start this run's wave.

use super::failed;
use super::gate;
use super::observe;
use super::payload::Payload;
use super::progress::Outcome;
use super::tags;
use crate::aws::Clients;
use crate::config::Partition;
use aws_sdk_sfn::types::ExecutionStatus;

/// Rounds of reading again the partitions that could not be read (`refuse_ended`).
const RETRY_ROUNDS: u32 = 3;

/// An execution id that already belongs to an earlier run (ended, or left waiting).
#[derive(Debug, thiserror::Error)]
#[error("execution '{execution}' belongs to an earlier run: {evidence}")]
pub struct AlreadyRan {
    pub execution: String,
    /// What shows it, with when: the end recorded on a job, or an answered approval.
    pub evidence: String,
}

/// The outcome as the end tag records it: `done` or `failed:<code>`, then the time.
pub fn ended_value(outcome: &Outcome, at: chrono::DateTime<chrono::Utc>) -> String {
    let what = match outcome {
        Outcome::Done => "done".to_owned(),
        Outcome::Failed { code, .. } => format!("failed:{}", code.as_str()),
        Outcome::Running => "running".to_owned(),
    };
    format!("{what} {}", crate::time::secs(&at))
}

fn partitions(payload: &Payload) -> anyhow::Result<Vec<Partition>> {
    (0..payload.partitions.len()).map(|i| payload.partition(i)).collect()
}

/// Fails with `AlreadyRan` when the payload's execution id belongs to a run that ended, or
/// to an earlier run whose approval is still waiting.
/// Called by activate before it writes anything.
pub async fn refuse_ended(clients: &Clients, payload: &Payload) -> anyhow::Result<()> {
    let mut parts = partitions(payload)?;
    // Read at once, partitions throttled past the SDK's retries (or not answering) are read
    // again, up to 3 more times with a growing pause: a storm should slow an activate, not
    // fail it.
    for round in 0..=RETRY_ROUNDS {
        let observed = observe::jobs(clients, &parts, &payload.execution, &payload.jobs_from_text()).await;
        if let Some(j) = observed.jobs.iter().find(|j| j.marks.contains_key(tags::ENDED)) {
            let evidence = format!("{} (job {} in {})", j.marks[tags::ENDED], j.job_id, j.partition);
            return Err(AlreadyRan { execution: payload.execution.clone(), evidence }.into());
        }
        let Some((i, e)) = observed.down.first_key_value() else { break };
        // A partition that cannot be read could hold the only record of the end.
        if round == RETRY_ROUNDS {
            anyhow::bail!("{}: {e} (the execution's earlier runs could not be looked for)", parts[*i]);
        }
        parts = observed.down.keys().map(|i| parts[*i].clone()).collect();
        tokio::time::sleep(std::time::Duration::from_millis(500 * (u64::from(round) + 1))).await;
    }
    let Some(approvals) = clients.config().approvals.as_ref() else { return Ok(()) };
    let sfn = aws_sdk_sfn::Client::new(clients.hub());
    for (w, wave) in payload.waves.iter().enumerate() {
        let Some(arn) = gate::execution_arn(&approvals.state_machine_arn, &gate::execution_name(&payload.execution, w)) else {
            continue;
        };
        match sfn.describe_execution().execution_arn(&arn).send().await {
            Ok(d) if !matches!(d.status(), ExecutionStatus::Running | ExecutionStatus::PendingRedrive) => {
                let when = d.stop_date().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
                let evidence = format!(
                    "the approval of its wave {} ended {} at {} ({arn})",
                    wave.name,
                    d.status().as_str(),
                    when.unwrap_or_default()
                );
                return Err(AlreadyRan { execution: payload.execution.clone(), evidence }.into());
            }
            Ok(d) => {
                let asked = chrono::DateTime::from_timestamp(d.start_date().secs(), 0);
                if let Some(asked) = asked.filter(|t| *t < payload.jobs_from) {
                    let evidence = format!(
                        "the approval of its wave {} has been waiting since {}, before this activation's lookback window \
                         (from {}): {arn}",
                        wave.name,
                        crate::time::secs(&asked),
                        payload.jobs_from_text()
                    );
                    return Err(AlreadyRan { execution: payload.execution.clone(), evidence }.into());
                }
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_does_not_exist()) => {}
            Err(e) => anyhow::bail!("states:DescribeExecution {arn}: {}", crate::aws::errors::display_chain(&e)),
        }
    }
    Ok(())
}

/// Records the end on the newest job of the execution in every partition, concurrently
/// (idempotent: a partition where a job carries it already is left). One job is enough for
/// `refuse_ended`, and the newest stays longest within a later activation's lookback; at
/// 10,000 servers, tagging every job made the last check 300 TagResource calls in a row.
/// Returns in how many partitions the end is recorded now. A partition that cannot be reached
/// is passed over: only a run whose jobs can be reached nowhere fails here (and its check
/// retries).
pub async fn mark_ended(clients: &Clients, payload: &Payload, outcome: &Outcome) -> anyhow::Result<usize> {
    let value = ended_value(outcome, chrono::Utc::now());
    let from = payload.jobs_from_text();
    let parts = partitions(payload)?;
    let results = crate::aws::fanout::each(clients, &parts, |p| mark_in(clients, p, &payload.execution, &from, &value)).await;
    let (mut n, mut errors) = (0, vec![]);
    for r in results {
        match r {
            Ok(recorded) => n += usize::from(recorded),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if n == 0 && !errors.is_empty() {
        anyhow::bail!("the run's end could not be recorded on any of its jobs: {}", errors.join("; "));
    }
    Ok(n)
}

/// One partition: the end on its newest job of the execution; whether a job carries it now.
async fn mark_in(clients: &Clients, p: &Partition, execution: &str, from: &str, value: &str) -> anyhow::Result<bool> {
    let jobs = observe::jobs_in(clients, p, execution, from).await?;
    if jobs.iter().any(|j| j.marks.contains_key(tags::ENDED)) {
        return Ok(true);
    }
    let Some(newest) = jobs.iter().max_by(|a, b| (a.created, &a.job_id).cmp(&(b.created, &b.job_id))) else {
        return Ok(false);
    };
    clients
        .drs(p)
        .await?
        .tag_resource()
        .resource_arn(&newest.arn)
        .tags(tags::ENDED, value)
        .send()
        .await
        .map_err(|e| failed(p, "drs:TagResource", &e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn the_end_tag_says_what_and_when() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T01:02:03Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(ended_value(&Outcome::Done, at), "done 2026-12-01T01:02:03Z");
        let failed = Outcome::Failed { code: ErrorCode::WaveFailed, message: "x".into() };
        assert_eq!(ended_value(&failed, at), "failed:WaveFailed 2026-12-01T01:02:03Z");
    }
}

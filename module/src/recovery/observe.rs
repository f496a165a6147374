//! What an execution has started, read back from DRS: its jobs, found by their tags with
//! DescribeJobs (newest first, from the execution's start), and per-server progress from
//! DescribeJobLogItems. Every status check starts here, so nothing depends on the payload
//! having been updated.

use super::tags::{self, RunTags};
use crate::aws::failed;
use crate::aws::Clients;
use crate::config::Partition;
use aws_sdk_drs::types::{DescribeJobsRequestFilters, Job};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A job's status in DRS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Pending,
    Started,
    Completed,
}

impl JobStatus {
    /// A status DRS may add later counts as not finished: the check waits rather than judge.
    fn of(s: Option<&aws_sdk_drs::types::JobStatus>) -> JobStatus {
        use aws_sdk_drs::types::JobStatus as S;
        match s {
            Some(S::Completed) => JobStatus::Completed,
            Some(S::Pending) => JobStatus::Pending,
            _ => JobStatus::Started,
        }
    }
}

/// A server's launch status within a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LaunchStatus {
    Pending,
    InProgress,
    Launched,
    Failed,
    Terminated,
}

impl LaunchStatus {
    /// A status DRS may add later counts as in progress: never as launched or failed.
    fn of(s: Option<&aws_sdk_drs::types::LaunchStatus>) -> LaunchStatus {
        use aws_sdk_drs::types::LaunchStatus as S;
        match s {
            Some(S::Launched) => LaunchStatus::Launched,
            Some(S::Failed) => LaunchStatus::Failed,
            Some(S::Terminated) => LaunchStatus::Terminated,
            Some(S::Pending) | None => LaunchStatus::Pending,
            Some(_) => LaunchStatus::InProgress,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LaunchStatus::Pending => "PENDING",
            LaunchStatus::InProgress => "IN_PROGRESS",
            LaunchStatus::Launched => "LAUNCHED",
            LaunchStatus::Failed => "FAILED",
            LaunchStatus::Terminated => "TERMINATED",
        }
    }
}

impl std::fmt::Display for LaunchStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A time as DRS writes it (RFC 3339, any offset), in UTC; None when it is not one.
pub fn service_time(t: Option<&str>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobServer {
    pub source_server_id: String,
    pub launch_status: LaunchStatus,
    pub recovery_instance_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedJob {
    pub partition: Partition,
    pub job_id: String,
    pub arn: String,
    /// The wave index from the job's tags.
    pub wave: usize,
    pub status: JobStatus,
    /// Service time; None when DRS gave none that parses.
    pub created: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub drill: bool,
    pub servers: Vec<JobServer>,
    /// The hooks' decisions when the wave started (`drs-orch:hooks`).
    pub hooks: Option<String>,
    /// Servers of the wave that hooks left out (`drs-orch:skipped-count`).
    pub skipped: Option<usize>,
}

impl ObservedJob {
    pub fn done(&self) -> bool {
        self.status == JobStatus::Completed
    }
}

/// The jobs of one partition created from `from` whose tags name the run.
pub async fn jobs_in(clients: &Clients, p: &Partition, run: RunTags<'_>, from: &str) -> anyhow::Result<Vec<ObservedJob>> {
    let mut out = vec![];
    each_job(clients, p, from, |j| out.extend(observed(p, j, run))).await?;
    Ok(out)
}

/// Every job of one partition created from `from`, handed to `each` page by page (a page is
/// dropped before the next is read).
pub async fn each_job(clients: &Clients, p: &Partition, from: &str, mut each: impl FnMut(&Job)) -> anyhow::Result<()> {
    let drs = clients.drs(p).await?;
    let filters = DescribeJobsRequestFilters::builder().from_date(from).build();
    let mut pages = drs.describe_jobs().filters(filters).max_results(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(p, "drs:DescribeJobs", &e))?;
        page.items().iter().for_each(&mut each);
    }
    Ok(())
}

/// The execution's jobs in the partitions that answered, and those that did not.
#[derive(Debug, Default)]
pub struct Observed {
    pub jobs: Vec<ObservedJob>,
    /// Index into the partitions asked -> the error, after the SDK's retries.
    pub down: BTreeMap<usize, String>,
}

/// Every partition's jobs of the run, concurrently; one that fails does not fail the others.
pub async fn jobs(clients: &Clients, partitions: &[Partition], run: RunTags<'_>, from: &str) -> Observed {
    let per = crate::aws::fanout::each(clients, partitions, |p| jobs_in(clients, p, run, from)).await;
    let mut out = Observed::default();
    for (i, r) in per.into_iter().enumerate() {
        match r {
            Ok(jobs) => out.jobs.extend(jobs),
            Err(e) => {
                tracing::warn!(partition = %partitions[i], error = %format!("{e:#}"), "a partition cannot be read");
                // A session that ended early: the next check assumes the role again.
                if Clients::is_session_refused(&e) {
                    clients.forget(&partitions[i].account).await;
                }
                out.down.insert(i, format!("{e:#}"));
            }
        }
    }
    out
}

fn observed(p: &Partition, j: &Job, run: RunTags<'_>) -> Option<ObservedJob> {
    let t = j.tags()?;
    if !run.matches(t) {
        return None;
    }
    Some(ObservedJob {
        partition: p.clone(),
        job_id: j.job_id().to_owned(),
        arn: j.arn().unwrap_or_default().to_owned(),
        wave: t.get(tags::WAVE)?.parse().ok()?,
        status: JobStatus::of(j.status()),
        created: service_time(j.creation_date_time()),
        ended: service_time(j.end_date_time()),
        drill: j.initiated_by().is_some_and(|i| i.as_str() == "START_DRILL"),
        hooks: t.get(tags::HOOKS).cloned(),
        skipped: t.get(tags::SKIPPED_COUNT).and_then(|n| n.parse().ok()),
        servers: j
            .participating_servers()
            .iter()
            .map(|s| JobServer {
                source_server_id: s.source_server_id().unwrap_or_default().to_owned(),
                launch_status: LaunchStatus::of(s.launch_status()),
                recovery_instance_id: s.recovery_instance_id().map(str::to_owned),
            })
            .collect(),
    })
}

/// Per server of one job, its latest step (SNAPSHOT_START, CONVERSION_END, LAUNCH_FAILED...)
/// and, for a failure, the reason DRS gives.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerLog {
    pub step: String,
    pub reason: Option<String>,
}

/// The logs of `jobs`, in their order, read concurrently (every partition at once, a few
/// calls in each: `concurrency`). A log that cannot be read is empty: it is detail, and the
/// launch status stands in for it.
pub async fn job_logs(clients: &Clients, jobs: &[&ObservedJob]) -> Vec<BTreeMap<String, ServerLog>> {
    let items = jobs.iter().map(|j| (j.partition.clone(), *j)).collect();
    crate::aws::fanout::by_partition(
        clients,
        items,
        |_, j: &ObservedJob| async move { job_log(clients, j).await.unwrap_or_default() },
    )
    .await
}

pub async fn job_log(clients: &Clients, job: &ObservedJob) -> anyhow::Result<BTreeMap<String, ServerLog>> {
    let drs = clients.drs(&job.partition).await?;
    let mut pages = drs.describe_job_log_items().job_id(&job.job_id).max_results(1000).into_paginator().send();
    let mut out: BTreeMap<String, ServerLog> = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(&job.partition, "drs:DescribeJobLogItems", &e))?;
        for item in page.items() {
            let Some(sid) = item.event_data().and_then(|d| d.source_server_id()) else { continue };
            let entry = out.entry(sid.to_owned()).or_default();
            entry.step = item.event().map(|e| e.as_str().to_owned()).unwrap_or_default();
            if let Some(raw) = item.event_data().and_then(|d| d.raw_error()) {
                entry.reason = Some(raw.to_owned());
            }
        }
    }
    Ok(out)
}

/// A source server as hooks and messages need it.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub source_server_id: String,
    pub arn: String,
    pub hostname: String,
    pub tags: BTreeMap<String, String>,
}

/// Source servers of one partition by id (DescribeSourceServers, 200 ids a call).
pub async fn servers<'a>(
    clients: &Clients,
    p: &Partition,
    ids: impl Iterator<Item = &'a str>,
) -> anyhow::Result<Vec<ServerInfo>> {
    let ids: Vec<String> = ids.map(str::to_owned).collect();
    let mut out = vec![];
    if ids.is_empty() {
        return Ok(out);
    }
    let drs = clients.drs(p).await?;
    for chunk in ids.chunks(200) {
        let filters = aws_sdk_drs::types::DescribeSourceServersRequestFilters::builder()
            .set_source_server_ids(Some(chunk.to_vec()))
            .build();
        let mut pages = drs.describe_source_servers().filters(filters).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed(p, "drs:DescribeSourceServers", &e))?;
            for s in page.items() {
                let host = s.source_properties().and_then(|sp| sp.identification_hints()).and_then(|h| h.hostname());
                out.push(ServerInfo {
                    source_server_id: s.source_server_id().unwrap_or_default().to_owned(),
                    arn: s.arn().unwrap_or_default().to_owned(),
                    hostname: host.unwrap_or_default().to_owned(),
                    tags: s.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
                });
            }
        }
    }
    Ok(out)
}

/// Hostnames of source servers of one partition, for messages a DR engineer reads.
pub async fn hostnames<'a>(
    clients: &Clients,
    p: &Partition,
    ids: impl Iterator<Item = &'a str>,
) -> anyhow::Result<BTreeMap<String, String>> {
    Ok(servers(clients, p, ids)
        .await?
        .into_iter()
        .filter(|s| !s.hostname.is_empty())
        .map(|s| (s.source_server_id, s.hostname))
        .collect())
}

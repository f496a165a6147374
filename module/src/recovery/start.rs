//! StartRecovery for the servers of a wave not yet in any job of the execution, split into
//! jobs within the quotas of their account x region, each job tagged with the execution and
//! the wave. A quota answer from DRS leaves the chunk for the next status check. A conflict
//! (a server already in an active job) is resolved per server: the partition's active jobs
//! name the busy ones, the rest of the chunk starts now, and each busy server waits, named
//! with the job that holds it, until a later check finds it free. The first check that finds
//! it busy records since when in the run's ledger record; once it has waited longer than
//! `busyWaitMinutes` (module configuration) it is given up: the wave counts it as failed
//! under its FailurePolicy, and no later check starts it (the record holds it given up).

use super::observe::{self, ObservedJob};
use super::payload::{Payload, WavePayload};
use super::progress::ServerFailure;
use super::tags;
use super::wave::Check;
use crate::aws::errors::AwsError;
use crate::aws::failed;
use crate::aws::Clients;
use crate::config::Partition;
use crate::launch::{self, Desired};
use crate::pitr::RecoveryPoint;
use crate::resource::Mode;
use crate::selection::ServerRef;
use aws_sdk_drs::error::ProvideErrorMetadata;
use aws_sdk_drs::types::StartRecoveryRequestSourceServer;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// How many busy servers a partition's waiting list names one by one; the rest are counted.
const NAMED_BUSY: usize = 10;

/// What one pass started, and why anything is still waiting.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub jobs: Vec<String>,
    pub servers: usize,
    /// Servers left for a later check, with the reason (quota, another active job).
    pub waiting: Vec<String>,
    /// Servers busy in another run's job for longer than `busyWaitMinutes`: failed.
    pub gave_up: Vec<ServerFailure>,
}

/// `skipped`: servers a hook left out, and servers given up earlier in the run (never
/// started later); `hooks`: the hooks' decisions, tagged on the jobs; `unreachable`:
/// partitions (payload indexes) where nothing starts now.
pub async fn start_wave(
    c: &Check<'_>,
    w: usize,
    skipped: &HashSet<&str>,
    hooks: Option<String>,
    unreachable: &BTreeSet<usize>,
) -> anyhow::Result<Started> {
    let (clients, payload, jobs) = (c.clients, c.payload, c.jobs);
    let wave: &WavePayload = &payload.waves[w];
    let q = &clients.config().quotas;
    let in_jobs: HashSet<&str> = jobs.iter().flat_map(|j| j.servers.iter().map(|s| s.source_server_id.as_str())).collect();
    let mode = payload.mode.as_str();
    let mut job_tags = tags::job_tags(&payload.execution, &payload.resource, w, &wave.name, mode);
    job_tags.insert(tags::RESOURCE_ID.to_owned(), payload.resource_id.clone());
    if let Some(h) = hooks.filter(|h| !h.is_empty()) {
        job_tags.insert(tags::HOOKS.to_owned(), h);
    }
    if !skipped.is_empty() {
        job_tags.insert(tags::SKIPPED_COUNT.to_owned(), skipped.len().to_string());
    }
    let mut out = Started::default();
    // First the jobs the quotas let start now; only their servers take LaunchSettings, so a
    // wave held back by quotas is not read again in full on every check.
    let mut planned: Vec<(Partition, Vec<&String>)> = vec![];
    for g in wave.groups.iter().filter(|g| !unreachable.contains(&g.partition)) {
        let p = payload.partition(g.partition)?;
        let todo: Vec<&String> =
            g.servers.iter().filter(|id| !in_jobs.contains(id.as_str()) && !skipped.contains(id.as_str())).collect();
        // Our own active jobs here count against the quotas, and so do the jobs this check
        // started for other waves; DRS enforces the rest. Waves that may start here at this
        // check share the headroom: past its first job, a wave takes no more than its part.
        let active: Vec<&ObservedJob> = jobs.iter().filter(|j| j.partition == p && !j.done()).collect();
        let active_servers = active.iter().map(|j| j.servers.len()).sum::<usize>();
        let a = c.shared.allowance(g.partition, active.len(), active_servers, q.concurrent_jobs, q.servers_in_active_jobs);
        let (mut n_jobs, mut n_servers, mut mine_jobs, mut mine_servers) = (a.jobs, a.servers, 0, 0);
        for chunk in todo.chunks(q.servers_per_job.max(1)) {
            let over_quota = n_jobs + 1 > q.concurrent_jobs || n_servers + chunk.len() > q.servers_in_active_jobs;
            let over_share = mine_jobs > 0 && (mine_jobs + 1 > a.share_jobs || mine_servers + chunk.len() > a.share_servers);
            if over_quota || over_share {
                let shared = if a.sharing > 1 { format!(", shared by {} waves starting here", a.sharing) } else { String::new() };
                out.waiting.push(format!(
                    "{p}: {} servers wait for the quotas (concurrent jobs, servers in active jobs{shared})",
                    chunk.len()
                ));
                continue;
            }
            (n_jobs, n_servers, mine_jobs, mine_servers) =
                (n_jobs + 1, n_servers + chunk.len(), mine_jobs + 1, mine_servers + chunk.len());
            c.shared.started(g.partition, chunk.len());
            planned.push((p.clone(), chunk.to_vec()));
        }
    }
    let held = match &payload.launch {
        Some(want) => {
            let refs: Vec<ServerRef> = planned
                .iter()
                .flat_map(|(p, chunk)| {
                    chunk.iter().map(|id| ServerRef {
                        account: p.account.clone(),
                        region: p.region.clone(),
                        hostname: (*id).clone(),
                        source_server_id: (*id).clone(),
                    })
                })
                .collect();
            apply_launch_settings(clients, &wave.name, &refs, want, &mut out).await?
        }
        None => HashSet::new(),
    };
    // Partitions at once (bounded by `concurrency.overall`), the chunks of each in turn: at
    // 60 partitions and 30 ms a call, one after another made the check that starts a wave
    // take 2.3 s.
    let mut by_partition: BTreeMap<Partition, Vec<Vec<&String>>> = BTreeMap::new();
    for (p, chunk) in planned {
        let chunk: Vec<&String> = chunk.into_iter().filter(|id| !held.contains(id.as_str())).collect();
        if !chunk.is_empty() {
            by_partition.entry(p).or_default().push(chunk);
        }
    }
    let job_tags = &job_tags;
    let results =
        crate::aws::fanout::each(clients, by_partition, |(p, chunks)| async move { start_in(c, w, &p, chunks, job_tags).await })
            .await;
    for one in results {
        out.jobs.extend(one.jobs);
        out.servers += one.servers;
        out.waiting.extend(one.waiting);
        out.gave_up.extend(one.gave_up);
    }
    Ok(out)
}

/// A chunk whose start failed past what the calls themselves handle (nothing of it started):
/// a failure that may pass (no answer, throttled, a role not assumed now) leaves its servers
/// waiting for the next check, which finds the partition down (with its grace) or back; a
/// refusal (access denied, a request DRS will not take) gives them up, named with it, and
/// their wave's FailurePolicy judges. Either way it is this partition's alone: the other
/// chunks and partitions of the check go on.
fn chunk_failed(p: &Partition, ids: &[&String], e: anyhow::Error, out: &mut Started) {
    let refusal = e.downcast_ref::<crate::aws::CallFailed>().filter(|f| !f.error.is_transient());
    if let Some(f) = refusal {
        tracing::warn!(partition = %p, error = %format!("{e:#}"), servers = ids.len(), "StartRecovery refused: servers given up");
        // The failure line names the partition already.
        let why = format!("{}: {}", f.error.action, f.error.detail);
        let already: HashSet<String> = out.gave_up.iter().map(|f| f.source_server_id.clone()).collect();
        out.gave_up.extend(ids.iter().filter(|id| !already.contains(id.as_str())).map(|id| ServerFailure {
            source_server_id: (*id).clone(),
            hostname: None,
            partition: p.to_string(),
            reason: format!("not started: {why}"),
        }));
    } else {
        out.waiting.push(format!("{p}: {} servers wait: {e:#} (retried next check)", ids.len()));
    }
}

/// A real recovery launches no server that already runs as a recovery instance of another real
/// recovery (activate left out those up when the run was planned; another run of the resource,
/// such as an ARC step and the platform's activation at once, may have launched one since): it
/// is given up, named with its instance. A partition whose instances cannot be read starts
/// nothing at this check.
async fn not_launched_since<'a>(
    c: &Check<'_>,
    p: &Partition,
    chunks: Vec<Vec<&'a String>>,
    out: &mut Started,
) -> Vec<Vec<&'a String>> {
    if c.payload.mode != Mode::Recovery || c.payload.relaunch_recovered {
        return chunks;
    }
    let ids: Vec<&String> = chunks.iter().flatten().copied().collect();
    let live = match super::recovered::launched_since(c.clients, p, &ids).await {
        Ok(live) => live,
        Err(e) => {
            out.waiting.push(format!(
                "{p}: {} servers wait: whether another recovery launched them since this run was planned cannot be told: \
                 {e:#} (retried next check)",
                ids.len()
            ));
            return vec![];
        }
    };
    for (id, instance) in &live {
        out.gave_up.push(ServerFailure {
            source_server_id: id.clone(),
            hostname: None,
            partition: p.to_string(),
            reason: format!(
                "already runs as recovery instance {instance} of another real recovery, launched after this run was \
                 planned (RelaunchRecovered: true launches it again)"
            ),
        });
    }
    chunks
        .into_iter()
        .map(|chunk| chunk.into_iter().filter(|id| !live.contains_key(id.as_str())).collect::<Vec<_>>())
        .filter(|chunk| !chunk.is_empty())
        .collect()
}

/// One partition's chunks, in turn; a chunk that fails is its own (`chunk_failed`).
async fn start_in(
    c: &Check<'_>,
    w: usize,
    p: &Partition,
    chunks: Vec<Vec<&String>>,
    job_tags: &HashMap<String, String>,
) -> Started {
    let mut out = Started::default();
    for chunk in not_launched_since(c, p, chunks, &mut out).await {
        if let Err(e) = start_chunk(c, w, p, &chunk, job_tags, &mut out).await {
            chunk_failed(p, &chunk, e, &mut out);
        }
    }
    out
}

/// One chunk: StartRecovery, and what its answer asks (busy servers, snapshots replaced).
async fn start_chunk(
    c: &Check<'_>,
    w: usize,
    p: &Partition,
    chunk: &[&String],
    job_tags: &HashMap<String, String>,
    out: &mut Started,
) -> anyhow::Result<()> {
    let (clients, payload) = (c.clients, c.payload);
    let wave: &WavePayload = &payload.waves[w];
    let drill = payload.mode == Mode::Drill;
    let answer = send(clients, p, chunk, drill, job_tags, &payload.points).await?;
    let conflict = match answer {
        Sent::Job(id) => {
            started(out, payload, &wave.name, p, id, chunk.len());
            return Ok(());
        }
        Sent::Refused(why) => {
            out.waiting.push(format!("{p}: {} servers wait: {why}", chunk.len()));
            return Ok(());
        }
        Sent::Conflict { server, message } => (server, message),
        Sent::Invalid(e) => return resend_repointed(c, w, p, chunk, drill, job_tags, e, out).await,
    };
    // One or more servers are in another active job: find which, start the others.
    let mut busy = busy_in(clients, p, payload.run()).await?;
    busy.retain(|id, _| chunk.iter().any(|c| c.as_str() == id));
    if let Some(id) = conflict.0.filter(|id| !busy.contains_key(id)) {
        busy.insert(id, Holder { job: None, ours: false, since: None });
    }
    let free: Vec<&String> = chunk.iter().copied().filter(|id| !busy.contains_key(id.as_str())).collect();
    if busy.is_empty() {
        // DRS named no server we can find busy (the job ended since): the next check retries.
        out.waiting.push(format!("{p}: {} servers wait: {}", chunk.len(), conflict.1));
        return Ok(());
    }
    let (busy, gave_up) = busy_wait(c, w, p, busy).await?;
    name_busy(p, &busy, &mut out.waiting);
    out.gave_up.extend(gave_up);
    if free.is_empty() {
        return Ok(());
    }
    match send(clients, p, &free, drill, job_tags, &payload.points).await? {
        Sent::Job(id) => started(out, payload, &wave.name, p, id, free.len()),
        // A server taken between the two calls: this check leaves the rest too.
        Sent::Refused(why) | Sent::Conflict { message: why, .. } => {
            out.waiting.push(format!("{p}: {} servers wait: {why}", free.len()))
        }
        Sent::Invalid(e) => resend_repointed(c, w, p, &free, drill, job_tags, e, out).await?,
    }
    Ok(())
}

/// A chunk StartRecovery refused as invalid: when snapshots it names are no longer kept,
/// they are replaced (`repoint.rs`) and the chunk is sent again with the replacements;
/// otherwise the refusal fails the run, as it would have.
#[allow(clippy::too_many_arguments)]
async fn resend_repointed(
    c: &Check<'_>,
    w: usize,
    p: &Partition,
    chunk: &[&String],
    drill: bool,
    job_tags: &HashMap<String, String>,
    refusal: anyhow::Error,
    out: &mut Started,
) -> anyhow::Result<()> {
    let r = super::repoint::replace(c, w, p, chunk).await;
    if !r.unrecorded.is_empty() {
        out.waiting.push(format!(
            "{p}: {} servers wait: recovery snapshots no longer kept could not be replaced in the run's record yet \
             (retried next check): {}",
            chunk.len(),
            r.unrecorded.join("; ")
        ));
        return Ok(());
    }
    if r.changed == 0 && !r.unread.is_empty() {
        out.waiting.push(format!(
            "{p}: {} servers wait: StartRecovery refused their recovery snapshots, whose retention could not be read \
             again (retried next check): {}",
            chunk.len(),
            r.unread.iter().take(NAMED_BUSY).cloned().collect::<Vec<_>>().join("; ")
        ));
        return Ok(());
    }
    if r.changed == 0 {
        return Err(refusal);
    }
    let given: HashSet<&str> = r.gave_up.iter().map(|f| f.source_server_id.as_str()).collect();
    let rest: Vec<&String> = chunk.iter().copied().filter(|id| !given.contains(id.as_str())).collect();
    out.gave_up.extend(r.gave_up);
    if rest.is_empty() {
        return Ok(());
    }
    let mut points = c.payload.points.clone();
    for id in chunk {
        match r.points.get(id.as_str()) {
            Some(point) => _ = points.insert((*id).clone(), point.clone()),
            None => _ = points.remove(id.as_str()),
        }
    }
    match send(c.clients, p, &rest, drill, job_tags, &points).await? {
        Sent::Job(id) => started(out, c.payload, &c.payload.waves[w].name, p, id, rest.len()),
        Sent::Refused(why) | Sent::Conflict { message: why, .. } => {
            out.waiting.push(format!("{p}: {} servers wait: {why}", rest.len()))
        }
        Sent::Invalid(e) => return Err(e),
    }
    Ok(())
}

/// What StartRecovery answered for one chunk.
enum Sent {
    Job(String),
    /// A quota taken by jobs outside the execution: the chunk waits.
    Refused(String),
    /// A server already in an active job (DRS names one: `resourceId`).
    Conflict {
        server: Option<String>,
        message: String,
    },
    /// Refused (not for quotas or a busy server, not transiently) while it names recovery
    /// snapshots: one may no longer be kept.
    Invalid(anyhow::Error),
}

/// StartRecovery for `ids`; a server with a recovery point in the run's plan launches that
/// snapshot, any other its latest data.
async fn send(
    clients: &Clients,
    p: &Partition,
    ids: &[&String],
    drill: bool,
    job_tags: &HashMap<String, String>,
    points: &BTreeMap<String, RecoveryPoint>,
) -> anyhow::Result<Sent> {
    let servers: Vec<StartRecoveryRequestSourceServer> = ids
        .iter()
        .map(|id| {
            StartRecoveryRequestSourceServer::builder()
                .source_server_id(id.as_str())
                .set_recovery_snapshot_id(points.get(id.as_str()).map(|pt| pt.snapshot_id.clone()))
                .build()
        })
        .collect::<Result<_, _>>()?;
    let sent = clients
        .drs(p)
        .await?
        .start_recovery()
        .set_source_servers(Some(servers))
        .is_drill(drill)
        .set_tags(Some(job_tags.clone()))
        .send()
        .await;
    match sent {
        Ok(r) => Ok(Sent::Job(r.job().map(|j| j.job_id().to_owned()).unwrap_or_default())),
        Err(e) => match e.as_service_error() {
            Some(aws_sdk_drs::operation::start_recovery::StartRecoveryError::ConflictException(c)) => Ok(Sent::Conflict {
                server: c.resource_id().map(str::to_owned),
                message: c.message().unwrap_or_default().to_owned(),
            }),
            Some(s) if s.is_service_quota_exceeded_exception() => Ok(Sent::Refused(e.message().unwrap_or_default().to_owned())),
            // Failing after the SDK's retries (5xx, no answer, throttled): the chunk waits for
            // the next check, which finds the job by its tags if the call was applied after all.
            _ => match AwsError::from_sdk("drs:StartRecovery", &e) {
                a if a.is_transient() => Ok(Sent::Refused(format!("StartRecovery did not go through, retried next check: {a}"))),
                // StartRecovery's model lists no error for a snapshot no longer kept (the
                // simulator answers ValidationException): any other refusal of a chunk that
                // names snapshots has them looked at again before it fails the run.
                _ if ids.iter().any(|id| points.contains_key(id.as_str())) => {
                    Ok(Sent::Invalid(failed(p, "drs:StartRecovery", &e)))
                }
                _ => Err(failed(p, "drs:StartRecovery", &e)),
            },
        },
    }
}

fn started(out: &mut Started, payload: &Payload, wave: &str, p: &Partition, job: String, servers: usize) {
    tracing::info!(execution = %payload.execution, wave, partition = %p, job = %job, servers, "StartRecovery");
    out.jobs.push(job);
    out.servers += servers;
}

/// Which job holds a busy server, and whether it is this execution's (a started job whose
/// answer was lost: the next check reads it as the wave's).
struct Holder {
    job: Option<String>,
    ours: bool,
    /// Since when this wave has found it busy (the run's record).
    since: Option<DateTime<Utc>>,
}

/// The source servers of one partition in active (not COMPLETED) jobs, with their job.
async fn busy_in(clients: &Clients, p: &Partition, run: tags::RunTags<'_>) -> anyhow::Result<BTreeMap<String, Holder>> {
    let drs = clients.drs(p).await?;
    let mut pages = drs.describe_jobs().max_results(1000).into_paginator().send();
    let mut out = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(p, "drs:DescribeJobs", &e))?;
        for j in page.items().iter().filter(|j| j.status().is_some_and(|s| s.as_str() != "COMPLETED")) {
            // This run's own job (its execution and resource), not another resource's of the id.
            let ours = j.tags().is_some_and(|t| run.matches(t));
            for s in j.participating_servers() {
                if let Some(id) = s.source_server_id() {
                    out.insert(id.to_owned(), Holder { job: Some(j.job_id().to_owned()), ours, since: None });
                }
            }
        }
    }
    Ok(out)
}

/// The busy servers' wait against `busyWaitMinutes`: the servers still waiting (with since
/// when), and those given up. Since when a server waits is in the run's record; a server
/// first found busy now is recorded with the time (a write that fails is logged: its wait
/// then starts again at the next check, later, never sooner).
async fn busy_wait(
    c: &Check<'_>,
    w: usize,
    p: &Partition,
    busy: BTreeMap<String, Holder>,
) -> anyhow::Result<(BTreeMap<String, Holder>, Vec<ServerFailure>)> {
    let (clients, payload) = (c.clients, c.payload);
    let foreign: Vec<&str> = busy.iter().filter(|(_, h)| !h.ours).map(|(id, _)| id.as_str()).collect();
    if foreign.is_empty() {
        return Ok((busy, vec![]));
    }
    let info = observe::servers(clients, p, foreign.into_iter()).await?;
    let minutes = clients.config().busy_wait_minutes;
    let now = clients.now();
    let (mut waiting, mut gave_up, mut newly) = (BTreeMap::new(), vec![], vec![]);
    for (id, mut h) in busy {
        let hostname = info.iter().find(|s| s.source_server_id == id).map(|s| s.hostname.clone()).filter(|h| !h.is_empty());
        match (h.ours, c.record.busy_since(w, &id)) {
            (false, Some(t)) if now > t + chrono::Duration::minutes(minutes as i64) => {
                gave_up.push(ServerFailure {
                    source_server_id: id.clone(),
                    hostname,
                    partition: p.to_string(),
                    reason: format!(
                        "busy in another active job ({}) since {}, longer than busyWaitMinutes ({minutes})",
                        h.job.as_deref().unwrap_or("unknown"),
                        crate::time::secs(&t)
                    ),
                });
                continue;
            }
            (false, None) => {
                newly.push(id.clone());
                h.since = Some(now);
            }
            (_, t) => h.since = t,
        }
        waiting.insert(id, h);
    }
    if !newly.is_empty() {
        if let Err(e) = crate::ledger::of(clients).mark_busy(&payload.key(), w, &newly, now).await {
            tracing::warn!(partition = %p, error = %e, "the busy servers' wait was not recorded");
        }
    }
    Ok((waiting, gave_up))
}

/// The waiting list's lines for busy servers: each named with its job, up to `NAMED_BUSY`.
fn name_busy(p: &Partition, busy: &BTreeMap<String, Holder>, waiting: &mut Vec<String>) {
    for (id, h) in busy.iter().take(NAMED_BUSY) {
        let job = h.job.as_deref().unwrap_or("unknown");
        let since = h.since.map(|t| format!(" (waiting since {})", crate::time::secs(&t)));
        waiting.push(match h.ours {
            true => format!("{p}: {id} is already in this run's job {job}"),
            false => format!("{p}: {id} is busy in another active job ({job}): it starts when free{}", since.unwrap_or_default()),
        });
    }
    if busy.len() > NAMED_BUSY {
        waiting.push(format!("{p}: {} more servers are busy in other active jobs", busy.len() - NAMED_BUSY));
    }
}

/// Brings the wave's servers to the resource's LaunchSettings before they start (idempotent:
/// a retried check finds them in sync). A server in another active job waits, as
/// StartRecovery would make it; any other server that cannot be brought in line fails the
/// run, naming it, rather than launch with settings the manifest rules out.
async fn apply_launch_settings(
    clients: &Clients,
    wave: &str,
    todo: &[ServerRef],
    want: &Desired,
    out: &mut Started,
) -> anyhow::Result<HashSet<String>> {
    if todo.is_empty() {
        return Ok(HashSet::new());
    }
    let found = launch::check(clients, todo, want).await;
    let left = if found.drifting() > 0 { launch::sync(clients, &found, want).await } else { launch::Report::default() };
    let failures: Vec<&launch::ServerDrift> =
        found.findings.iter().filter(|f| f.error.is_some()).chain(left.findings.iter()).collect();
    let mut held = HashSet::new();
    let mut fatal = vec![];
    let mut transient = vec![];
    for f in failures {
        match &f.error {
            Some(e) if e.is_conflict() => {
                held.insert(f.server.source_server_id.clone());
            }
            Some(e) if e.is_transient() => {
                held.insert(f.server.source_server_id.clone());
                transient.push(format!("{} ({}/{}): {e}", f.server.source_server_id, f.server.account, f.server.region));
            }
            e => fatal.push(format!(
                "{} ({}/{}): {}",
                f.server.source_server_id,
                f.server.account,
                f.server.region,
                e.as_ref().map(ToString::to_string).unwrap_or_default()
            )),
        }
    }
    anyhow::ensure!(
        fatal.is_empty(),
        "wave {wave}: LaunchSettings could not be applied to {} servers, which were not started: {}",
        fatal.len(),
        fatal.join("; ")
    );
    if held.len() > transient.len() {
        out.waiting.push(format!(
            "{} servers wait to take their LaunchSettings: they are in another active job",
            held.len() - transient.len()
        ));
    }
    if !transient.is_empty() {
        out.waiting.push(format!(
            "{} servers wait to take their LaunchSettings, retried next check: {}",
            transient.len(),
            transient.join("; ")
        ));
    }
    Ok(held)
}

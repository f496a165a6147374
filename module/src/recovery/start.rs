//! StartRecovery for the servers of a wave not yet in any job of the execution, split into
//! jobs within the quotas of their account x region, each job tagged with the execution and
//! the wave. A quota or conflict answer from DRS leaves the rest for the next status check.

use super::observe::ObservedJob;
use super::payload::{Payload, WavePayload};
use super::{failed, tags};
use crate::aws::Clients;
use crate::config::Partition;
use crate::launch::{self, Desired};
use crate::resource::Mode;
use crate::selection::ServerRef;
use aws_sdk_drs::types::StartRecoveryRequestSourceServer;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};

/// What one pass started, and why anything is still waiting.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub jobs: Vec<String>,
    pub servers: usize,
    /// Servers left for a later check, with the reason (quota, another active job).
    pub waiting: Vec<String>,
}

/// `skipped`: servers a hook left out; `hooks`: the hooks' decisions, tagged on the jobs;
/// `unreachable`: partitions (payload indexes) where nothing starts now.
pub async fn start_wave(
    clients: &Clients,
    payload: &Payload,
    w: usize,
    jobs: &[ObservedJob],
    skipped: &HashSet<&str>,
    hooks: Option<String>,
    unreachable: &BTreeSet<usize>,
) -> anyhow::Result<Started> {
    let wave: &WavePayload = &payload.waves[w];
    let q = &clients.config().quotas;
    let in_jobs: HashSet<&str> = jobs.iter().flat_map(|j| j.servers.iter().map(|s| s.source_server_id.as_str())).collect();
    let mode = payload.mode.as_str();
    let mut job_tags = tags::job_tags(&payload.execution, &payload.resource, w, &wave.name, mode);
    if let Some(id) = &payload.resource_id {
        job_tags.insert(tags::RESOURCE_ID.to_owned(), id.clone());
    }
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
        // Our own active jobs here count against the quotas; DRS enforces the rest.
        let active: Vec<&ObservedJob> = jobs.iter().filter(|j| j.partition == p && !j.done()).collect();
        let (mut n_jobs, mut n_servers) = (active.len(), active.iter().map(|j| j.servers.len()).sum::<usize>());
        for chunk in todo.chunks(q.servers_per_job.max(1)) {
            if n_jobs + 1 > q.concurrent_jobs || n_servers + chunk.len() > q.servers_in_active_jobs {
                out.waiting
                    .push(format!("{p}: {} servers wait for the quotas (concurrent jobs, servers in active jobs)", chunk.len()));
                continue;
            }
            n_jobs += 1;
            n_servers += chunk.len();
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
    for (p, chunk) in planned {
        let chunk: Vec<&String> = chunk.into_iter().filter(|id| !held.contains(id.as_str())).collect();
        if chunk.is_empty() {
            continue;
        }
        let servers: Vec<StartRecoveryRequestSourceServer> = chunk
            .iter()
            .map(|id| StartRecoveryRequestSourceServer::builder().source_server_id(id.as_str()).build())
            .collect::<Result<_, _>>()?;
        let sent = clients
            .drs(&p)
            .await?
            .start_recovery()
            .set_source_servers(Some(servers))
            .is_drill(payload.mode == Mode::Drill)
            .set_tags(Some(job_tags.clone()))
            .send()
            .await;
        match sent {
            Ok(r) => {
                let id = r.job().map(|j| j.job_id().to_owned()).unwrap_or_default();
                tracing::info!(execution = %payload.execution, wave = %wave.name, partition = %p, job = %id, servers = chunk.len(), "StartRecovery");
                out.jobs.push(id);
                out.servers += chunk.len();
            }
            // Quotas taken by jobs outside the execution, or a server already in an active
            // job (a duplicate call's job shows up on the next check): wait, don't fail.
            Err(e)
                if e.as_service_error().is_some_and(|s| s.is_service_quota_exceeded_exception() || s.is_conflict_exception()) =>
            {
                let why = aws_sdk_drs::error::ProvideErrorMetadata::message(&e).unwrap_or_default().to_owned();
                out.waiting.push(format!("{p}: {} servers wait: {why}", chunk.len()));
            }
            Err(e) => return Err(failed(&p, "drs:StartRecovery", &e)),
        }
    }
    Ok(out)
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
    for f in failures {
        match &f.error {
            Some(e) if e.is_conflict() => {
                held.insert(f.server.source_server_id.clone());
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
    if !held.is_empty() {
        out.waiting.push(format!("{} servers wait to take their LaunchSettings: they are in another active job", held.len()));
    }
    Ok(held)
}

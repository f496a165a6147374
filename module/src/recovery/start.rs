//! StartRecovery for the servers of a wave not yet in any job of the execution, split into
//! jobs within the quotas of their account x region, each job tagged with the execution and
//! the wave. A quota or conflict answer from DRS leaves the rest for the next status check.

use super::observe::ObservedJob;
use super::params::Mode;
use super::payload::{Payload, WavePayload};
use super::{failed, tags};
use crate::accounts::reason::code;
use crate::aws::Clients;
use aws_sdk_drs::types::StartRecoveryRequestSourceServer;
use serde::Serialize;
use std::collections::HashSet;

/// What one pass started, and why anything is still waiting.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub jobs: Vec<String>,
    pub servers: usize,
    /// Servers left for a later check, with the reason (quota, another active job).
    pub waiting: Vec<String>,
}

/// `skipped`: servers a hook left out; `hooks`: the hooks' decisions, tagged on the jobs.
pub async fn start_wave(
    clients: &Clients,
    payload: &Payload,
    w: usize,
    jobs: &[ObservedJob],
    skipped: &HashSet<&str>,
    hooks: Option<String>,
) -> anyhow::Result<Started> {
    let wave: &WavePayload = &payload.waves[w];
    let q = &clients.config().quotas;
    let in_jobs: HashSet<&str> = jobs.iter().flat_map(|j| j.servers.iter().map(|s| s.source_server_id.as_str())).collect();
    let mode = match payload.mode {
        Mode::Drill => "drill",
        Mode::Recovery => "recovery",
    };
    let mut job_tags = tags::job_tags(&payload.execution, &payload.resource, w, &wave.name, mode);
    if let Some(h) = hooks.filter(|h| !h.is_empty()) {
        job_tags.insert(tags::HOOKS.to_owned(), h);
    }
    if !skipped.is_empty() {
        job_tags.insert(tags::SKIPPED_COUNT.to_owned(), skipped.len().to_string());
    }
    let mut out = Started::default();
    for g in &wave.groups {
        let p = payload.partition(g.p)?;
        let todo: Vec<&String> =
            g.ids.iter().filter(|id| !in_jobs.contains(id.as_str()) && !skipped.contains(id.as_str())).collect();
        if todo.is_empty() {
            continue;
        }
        // Our own active jobs here count against the quotas; DRS enforces the rest.
        let active: Vec<&ObservedJob> = jobs.iter().filter(|j| j.partition == p && !j.done()).collect();
        let (mut n_jobs, mut n_servers) = (active.len(), active.iter().map(|j| j.servers.len()).sum::<usize>());
        let drs = clients.drs(&p).await?;
        for chunk in todo.chunks(q.servers_per_job.max(1)) {
            if n_jobs + 1 > q.concurrent_jobs || n_servers + chunk.len() > q.servers_in_active_jobs {
                out.waiting
                    .push(format!("{p}: {} servers wait for the quotas (concurrent jobs, servers in active jobs)", chunk.len()));
                continue;
            }
            let servers: Vec<StartRecoveryRequestSourceServer> = chunk
                .iter()
                .map(|id| StartRecoveryRequestSourceServer::builder().source_server_id(id.as_str()).build())
                .collect::<Result<_, _>>()?;
            let sent = drs
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
                    n_jobs += 1;
                    n_servers += chunk.len();
                }
                // Quotas taken by jobs outside the execution, or a server already in an active
                // job (a duplicate call's job shows up on the next check): wait, don't fail.
                Err(e) if matches!(code(&e), Some("ServiceQuotaExceededException" | "ConflictException")) => {
                    let why = aws_sdk_drs::error::ProvideErrorMetadata::message(&e).unwrap_or_default().to_owned();
                    out.waiting.push(format!("{p}: {} servers wait: {why}", chunk.len()));
                }
                Err(e) => return Err(failed(&p, "drs:StartRecovery", &e)),
            }
        }
    }
    Ok(out)
}

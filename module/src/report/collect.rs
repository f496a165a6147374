//! Reads a resource's run back from AWS for its report: the execution's jobs (StartRecovery
//! times, per-server launch status), the recovery instances' EC2 launch times (LAUNCHED) and
//! the point in time of the data each launched (DRS), hostnames, the failures with their
//! reasons from the status check, and from the run's record who answered its gates and which
//! components decided at its boundaries. `achieved.rs` judges the objectives from it.

use super::{seconds_between, HookDecision, ResourceReport, ServerReport, ServerState, Verdict, WaveReport, WaveState};
use crate::aws::Clients;
use crate::config::Partition;
use crate::error::ErrorCode;
use crate::recovery::observe::{self, LaunchStatus, ObservedJob};
use crate::recovery::payload::Payload;
use crate::recovery::status::Status;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// `status` is the last status the run saw (None when activation itself failed); `record`
/// the run's record as the caller read it (the hooks' skips and servers given up are there).
pub async fn resource(
    clients: &Clients,
    layer: u64,
    payload: &Payload,
    status: Option<&Status>,
    error: Option<(ErrorCode, String)>,
    record: Option<&crate::ledger::RunRecord>,
) -> anyhow::Result<ResourceReport> {
    let partitions: Vec<Partition> =
        (0..payload.partitions.len()).map(|i| payload.partition(i)).collect::<anyhow::Result<_>>()?;
    // A partition that cannot be read now is named in the waves' notes; the rest is reported.
    let observed = observe::jobs(clients, &partitions, payload.run(), &payload.jobs_from_text()).await;
    let jobs = observed.jobs;
    let mut unread: BTreeMap<usize, String> = observed.down;
    let mut by_server: HashMap<&str, (&ObservedJob, &observe::JobServer)> = HashMap::new();
    for j in &jobs {
        for s in &j.servers {
            by_server.insert(&s.source_server_id, (j, s));
        }
    }
    let mut names = BTreeMap::new();
    let mut launched_at = BTreeMap::new();
    let mut snapshots = BTreeMap::new();
    for (i, p) in partitions.iter().enumerate() {
        if unread.contains_key(&i) {
            continue;
        }
        let ids: Vec<&str> = payload
            .waves
            .iter()
            .flat_map(|w| w.groups.iter().filter(|g| g.partition == i))
            .flat_map(|g| g.servers.iter().map(String::as_str))
            .collect();
        let found = match observe::servers(clients, p, ids.into_iter()).await {
            Ok(found) => found,
            Err(e) => {
                unread.insert(i, format!("{e:#}"));
                continue;
            }
        };
        for s in found {
            names.insert(s.source_server_id, s.hostname);
        }
        let instances: Vec<String> = jobs
            .iter()
            .filter(|j| j.partition == *p)
            .flat_map(|j| {
                j.servers
                    .iter()
                    .filter(|s| s.launch_status == LaunchStatus::Launched)
                    .filter_map(|s| s.recovery_instance_id.clone())
            })
            .collect();
        match launch_times(clients, p, &instances).await {
            Ok(times) => launched_at.extend(times),
            Err(e) => _ = unread.insert(i, format!("{e:#}")),
        }
        match snapshot_times(clients, p, &instances).await {
            Ok(times) => snapshots.extend(times),
            Err(e) => _ = unread.insert(i, format!("{e:#}")),
        }
    }
    let started_run = record.map(|r| r.started);
    let failures: HashMap<&str, &str> = status
        .map(|s| {
            s.waves.iter().flat_map(|w| w.failures.iter().map(|f| (f.source_server_id.as_str(), f.reason.as_str()))).collect()
        })
        .unwrap_or_default();
    let mut waves = vec![];
    for (w, wave) in payload.waves.iter().enumerate() {
        let progress = status.and_then(|s| s.waves.get(w));
        let mut servers = vec![];
        for g in &wave.groups {
            for id in &g.servers {
                let found = by_server.get(id.as_str());
                let started = found.and_then(|(j, _)| j.created);
                let rid = found.and_then(|(_, s)| s.recovery_instance_id.clone());
                let launched = rid.as_ref().and_then(|r| launched_at.get(r).copied());
                let snapshot = rid.as_ref().and_then(|r| snapshots.get(r).copied());
                servers.push(ServerReport {
                    source_server_id: id.clone(),
                    hostname: names.get(id).cloned(),
                    partition: payload.partitions[g.partition].clone(),
                    job_id: found.map(|(j, _)| j.job_id.clone()),
                    status: match (found, skip_hook(record, w, id)) {
                        (Some((_, s)), _) => s.launch_status.into(),
                        (None, Some(_)) => ServerState::Skipped,
                        (None, None) => ServerState::NotStarted,
                    },
                    recovery_s: match (started, launched) {
                        (Some(a), Some(b)) => Some(seconds_between(a, b)),
                        _ => None,
                    },
                    started,
                    launched,
                    recovery_instance_id: rid,
                    recovered_point: payload.points.get(id).cloned(),
                    reason: failures
                        .get(id.as_str())
                        .map(|r| r.to_string())
                        .or_else(|| given_up(record, w, id).map(|r| format!("given up: {r}")))
                        .or_else(|| skip_hook(record, w, id).map(|h| format!("skipped by hook {h}")))
                        .or_else(|| record.and_then(|r| r.repointed.get(id)).map(crate::recovery::repoint::note)),
                    rpo_s: started_run.zip(snapshot).map(|(a, b)| crate::objectives::rpo_seconds(a, b)),
                    snapshot,
                });
            }
        }
        let (started, ended) = (progress.and_then(|p| p.started), progress.and_then(|p| p.ended));
        waves.push(WaveReport {
            index: w + 1,
            name: wave.name.clone(),
            state: progress.map(|p| p.state).unwrap_or(WaveState::Waiting),
            after: payload.depends_on(w).iter().map(|&d| payload.waves[d].name.clone()).collect(),
            duration_s: match (started, ended) {
                (Some(a), Some(b)) => Some(seconds_between(a, b)),
                _ => None,
            },
            started,
            ended,
            servers,
            hook_decisions: decisions(&jobs, w, &payload.dependents(w), progress),
            components: record.and_then(|r| r.crossing(w)).map(|c| c.components.clone()).unwrap_or_default(),
            approval: approval(clients, payload, record, w).await,
            notes: {
                let mut notes = vec![];
                // The gate asked (a PauseBefore, or a hook's pause), else the plan's PauseBefore.
                if let Some(reason) = record.and_then(|r| r.gate(w)).map(|g| &g.reason).or(wave.pause.as_ref()) {
                    notes.push(format!("paused before it started: {reason}"));
                }
                notes.extend(progress.map(|p| p.waiting_for.clone()).unwrap_or_default());
                for (i, e) in unread.iter().filter(|(i, _)| wave.groups.iter().any(|g| g.partition == **i)) {
                    notes.push(format!("{} could not be read for this report: {e}", payload.partitions[*i]));
                }
                notes
            },
        });
    }
    let (outcome, error) = match error {
        None => (Verdict::Succeeded, None),
        Some((code, message)) => (Verdict::Failed(code), Some(message)),
    };
    let objectives = record.map(|r| super::achieved::objectives(payload, r, error.is_none(), &waves));
    Ok(ResourceReport {
        objectives,
        left_out: payload.left_out.clone(),
        recover_before: payload.recover_before,
        layer,
        resource: payload.resource.clone(),
        execution: payload.execution.clone(),
        outcome,
        error,
        partitions: payload.partitions.clone(),
        waves,
    })
}

/// Who answered wave `w`'s gate and when: as the run's record holds it once a check read the
/// answer, else (a gate still waiting, or answered before approvals were recorded) as the
/// approval execution says now. None for a wave without a gate.
async fn approval(
    clients: &Clients,
    payload: &Payload,
    record: Option<&crate::ledger::RunRecord>,
    w: usize,
) -> Option<super::Approval> {
    if let Some(a) = record.and_then(|r| r.answer(w)).and_then(|a| a.approval.clone()) {
        return Some(a);
    }
    let gated = payload.waves[w].pause.is_some() || record.is_some_and(|r| r.gate(w).is_some());
    if !gated {
        return None;
    }
    crate::recovery::gate::approval(clients, payload.run(), w).await
}

/// Why server `id` of wave `w` was given up (busy in another run's job), as the ledger holds it.
fn given_up<'a>(record: Option<&'a crate::ledger::RunRecord>, w: usize, id: &str) -> Option<&'a str> {
    record?.given_up.get(&crate::ledger::record::wave_server_key(w, id)).map(|g| g.reason.as_str())
}

/// The hook that left server `id` out of wave `w` of this execution.
fn skip_hook<'a>(record: Option<&'a crate::ledger::RunRecord>, w: usize, id: &str) -> Option<&'a str> {
    record?.crossing(w)?.skip.get(id).map(String::as_str)
}

/// The decisions the wave's jobs carry (made when it started), then those of the last check
/// (the after-wave of the last waves), without repeats. `dependents`: the waves that depend
/// on wave `w`, whose jobs carry its after-wave answers (the first of them to cross).
fn decisions(
    jobs: &[ObservedJob],
    w: usize,
    dependents: &[usize],
    progress: Option<&crate::recovery::status::WaveProgress>,
) -> Vec<HookDecision> {
    let mut out: Vec<HookDecision> = vec![];
    // Wave w's jobs carry its before-wave answers; a dependent's carry w's after-wave answers.
    let tag = |wave: usize| jobs.iter().filter(|j| j.wave == wave).find_map(|j| j.hooks.clone()).unwrap_or_default();
    let carriers = std::iter::once((w, "before-wave")).chain(dependents.iter().map(|d| (*d, "after-wave")));
    for (wave, point) in carriers {
        let text = tag(wave);
        for item in text.split(';').filter(|i| !i.is_empty()) {
            let (who, decision) = item.split_once('=').unwrap_or((item, ""));
            let (hook, at) = who.split_once(':').unwrap_or((who, ""));
            if at == point {
                out.push(HookDecision { hook: hook.into(), point: at.into(), decision: decision.into(), detail: None });
            }
        }
    }
    for d in progress.map(|p| p.hook_decisions.as_slice()).unwrap_or_default() {
        if !out.iter().any(|o| o.hook == d.hook && o.point == d.point && o.decision == d.decision) {
            out.push(d.clone());
        }
    }
    out
}

/// The point in time of the data each recovery instance launched (DRS's
/// pointInTimeSnapshotDateTime), by recovery instance id.
async fn snapshot_times(clients: &Clients, p: &Partition, ids: &[String]) -> anyhow::Result<BTreeMap<String, DateTime<Utc>>> {
    let mut out = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let drs = clients.drs(p).await?;
    for chunk in ids.chunks(200) {
        let filters = aws_sdk_drs::types::DescribeRecoveryInstancesRequestFilters::builder()
            .set_recovery_instance_ids(Some(chunk.to_vec()))
            .build();
        let mut pages = drs.describe_recovery_instances().filters(filters).max_results(200).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| crate::aws::failed(p, "drs:DescribeRecoveryInstances", &e))?;
            for r in page.items() {
                let at = r.point_in_time_snapshot_date_time().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
                if let (Some(id), Some(at)) = (r.recovery_instance_id(), at) {
                    out.insert(id.to_owned(), at.with_timezone(&Utc));
                }
            }
        }
    }
    Ok(out)
}

/// EC2 LaunchTime of recovery instances (the moment each server's recovery launched).
async fn launch_times(clients: &Clients, p: &Partition, ids: &[String]) -> anyhow::Result<BTreeMap<String, DateTime<Utc>>> {
    let mut out = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let ec2 = clients.ec2(p).await?;
    for chunk in ids.chunks(200) {
        let filter = aws_sdk_ec2::types::Filter::builder().name("instance-id").set_values(Some(chunk.to_vec())).build();
        let mut pages = ec2.describe_instances().filters(filter).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| crate::aws::failed(p, "ec2:DescribeInstances", &e))?;
            for i in page.reservations().iter().flat_map(|r| r.instances()) {
                let when = i.launch_time().and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
                if let (Some(id), Some(when)) = (i.instance_id(), when) {
                    out.insert(id.to_owned(), when);
                }
            }
        }
    }
    Ok(out)
}

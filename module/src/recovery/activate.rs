//! `activate`: discover and plan the resource's group, write the plan into the lifecycle
//! payload and run the first status check, which starts the first wave (or asks for its
//! approval). The run is opened in the ledger first (`run::open`): a re-delivered activate
//! derives the same run, follows its record and finds the jobs the first delivery started,
//! so it starts nothing twice; an execution id whose run already ended is refused before
//! anything is started.

use super::payload::{Group, Payload, WavePayload, VERSION};
use super::run::Opening;
use super::status::{self, Status};
use crate::aws::Clients;
use crate::discovery::discover_retrying;
use crate::plan::plan_one;
use crate::plan::points::{MissingPoint, PointsPlan};
use crate::preflight::partitions_of;
use crate::resource::DrsResource;
use anyhow::{bail, Context};
use chrono::Duration;
use std::collections::BTreeMap;

/// The plan, as a payload; `execution` names the run (see `tags::execution_id`).
pub async fn build(clients: &Clients, resource: &DrsResource, execution: &str) -> anyhow::Result<Payload> {
    let (sel, params) = (&resource.selection, &resource.recovery);
    let partitions = partitions_of(clients, sel);
    if partitions.is_empty() {
        bail!("resource {}: no configured account x region matches its AccountId/Accounts/Regions", sel.resource_name);
    }
    let found = discover_retrying(clients, &partitions, 3).await;
    let mut plan = plan_one(resource, &found, &clients.config().quotas);
    // RecoverBefore: the snapshots are chosen now, once, and kept in the plan.
    crate::plan::points::attach(clients, &mut plan, &[resource]).await?;
    let r = plan.resources.first().context("the plan has no resource")?;
    let mut blockers: Vec<String> = plan.unreadable_partitions.iter().map(ToString::to_string).collect();
    blockers.extend(r.resolution.errors.iter().cloned());
    blockers.extend(r.error.iter().cloned());
    if !blockers.is_empty() {
        bail!("the plan is blocked: {}", blockers.join("; "));
    }
    if r.resolution.servers.is_empty() {
        bail!("resource {}: the group is empty: nothing to recover", sel.resource_name);
    }
    for name in params.named_waves() {
        if !r.waves.iter().any(|w| w.name == name) {
            let known: Vec<&str> = r.waves.iter().map(|w| w.name.as_str()).collect();
            bail!("parameters: wave '{name}' (PauseBefore/FailurePolicy) is not a planned wave; waves: {}", known.join(", "));
        }
    }
    // A real recovery leaves out what an earlier one already runs (RelaunchRecovered).
    let recovered = match (params.mode, params.relaunch_recovered) {
        (crate::resource::Mode::Recovery, false) => super::recovered::live(clients, &r.resolution.servers).await?,
        _ => BTreeMap::new(),
    };
    // Servers without a recovery snapshot before RecoverBefore, under onNotReady: skip.
    let no_point: BTreeMap<&str, &MissingPoint> =
        r.recovery_points.iter().flat_map(PointsPlan::skipped).map(|m| (m.server.source_server_id.as_str(), m)).collect();
    if !no_point.is_empty() && no_point.len() == r.resolution.servers.len() {
        bail!(
            "resource {}: no server of the group has a recovery snapshot before parameters.RecoverBefore: nothing to recover",
            sel.resource_name
        );
    }
    if !recovered.is_empty() && recovered.len() == r.resolution.servers.len() {
        bail!(
            "resource {}: every server of the group already runs as a recovery instance of an earlier real recovery; \
             parameters.RelaunchRecovered: true launches them again",
            sel.resource_name
        );
    }
    let mut partitions: Vec<String> = vec![];
    let mut index = |p: String| match partitions.iter().position(|x| *x == p) {
        Some(i) => i,
        None => {
            partitions.push(p);
            partitions.len() - 1
        }
    };
    let mut waves = vec![];
    for w in &r.waves {
        let mut groups: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for job in &w.jobs {
            groups.entry(index(format!("{}/{}", job.account, job.region))).or_default().extend(
                job.source_server_ids
                    .iter()
                    .filter(|id| !recovered.contains_key(*id) && !no_point.contains_key(id.as_str()))
                    .cloned(),
            );
        }
        let settings = params.wave(&w.name);
        if settings.pause.is_some() && clients.config().approvals.is_none() {
            bail!("wave {}: PauseBefore needs approvals.stateMachineArn in the module configuration", w.name);
        }
        let after = w.depends_on.iter().filter_map(|d| r.waves.iter().position(|x| x.name == *d)).collect();
        waves.push(WavePayload {
            after: Some(after),
            targets: settings.targets,
            name: w.name.clone(),
            pause: settings.pause,
            policy: settings.policy,
            groups: groups
                .into_iter()
                .filter(|(_, servers)| !servers.is_empty())
                .map(|(partition, servers)| Group { partition, servers })
                .collect(),
        });
    }
    let skipping = sel.policy.on_not_ready == crate::selection::Action::Skip;
    let mut left_out = super::left_out::of_resolution(&r.resolution, skipping);
    left_out.extend(recovered.iter().map(|(id, text)| super::left_out::LeftOut {
        kind: super::left_out::LeftOutKind::Recovered,
        source_server_id: Some(id.clone()),
        hostname: None,
        partition: None,
        entry: None,
        reason: format!("already runs as a recovery instance of an earlier real recovery: {text}"),
    }));
    left_out.extend(no_point.values().map(|m| super::left_out::LeftOut {
        kind: super::left_out::LeftOutKind::NoRecoveryPoint,
        source_server_id: Some(m.server.source_server_id.clone()),
        hostname: Some(m.server.hostname.clone()),
        partition: Some(format!("{}/{}", m.server.account, m.server.region)),
        entry: None,
        reason: format!("no recovery snapshot before RecoverBefore: {} (Selection.onNotReady: skip)", m.reason),
    }));
    // LaunchSettings.Servers pinned to the source server ids its keys name now: every later
    // check applies each entry to the same server.
    let launch = match &resource.launch {
        None => None,
        Some(want) => {
            let group: Vec<crate::selection::ServerRef> =
                r.resolution.servers.iter().cloned().chain(r.resolution.not_ready.iter().map(|n| n.server.clone())).collect();
            let pinned = crate::launch::servers::pinned(want, &group).map_err(|problems| {
                let why: Vec<String> = problems.iter().map(ToString::to_string).collect();
                anyhow::anyhow!("resource {}: {}", sel.resource_name, why.join("; "))
            })?;
            Some(pinned)
        }
    };
    let hooks = match &params.tenant {
        None => vec![],
        Some(t) => crate::hooks::names(clients.config(), t, params.hooks.as_deref())?,
    };
    // To the second, as the plan writes times: the run's record and plan hold the same.
    let now = clients.now();
    let now = chrono::DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    Ok(Payload {
        version: VERSION,
        phase: "activate".into(),
        execution: execution.to_owned(),
        resource: resource.name.clone(),
        resource_id: resource.identity(),
        mode: params.mode,
        since: now,
        jobs_from: now - Duration::minutes(clients.config().idempotency_lookback_minutes as i64),
        deadline: now + Duration::minutes(params.timeout_minutes as i64),
        grace_minutes: params.unreachable_grace_minutes,
        partitions,
        waves,
        tenant: params.tenant.clone(),
        hooks,
        launch,
        recovered: recovered.into_values().collect(),
        left_out,
        targets: params.targets(),
        recover_before: r.recovery_points.as_ref().map(|p| p.before),
        points: r.recovery_points.as_ref().map(PointsPlan::by_server).unwrap_or_default(),
        latest_without_point: sel.policy.on_not_ready == crate::selection::Action::Warn,
        relaunch_recovered: params.relaunch_recovered,
    })
}

/// Plans, opens the run in the ledger and starts: the run's plan (the platform gets a
/// reference to it) and the first check's status.
pub async fn activate(clients: &Clients, resource: &DrsResource, execution: &str) -> anyhow::Result<(Payload, Status)> {
    let planned = build(clients, resource, execution).await?;
    // A re-delivered activate follows the run the first delivery opened: its plan and its
    // times, so that neither the servers nor the deadline move with each delivery.
    let (payload, record) = match super::run::open(clients, resource, &planned).await? {
        Opening::New(record) => (planned, record),
        Opening::Following(run) => (run.plan, run.record),
    };
    let first = status::check(clients, &payload, &record).await?;
    Ok((payload, first))
}

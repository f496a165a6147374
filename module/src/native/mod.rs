//! Native recovery plans as a fallback: for each DRS resource of a manifest and each account x
//! region it touches, a DRS recovery plan that mirrors the waves the module would run there
//! (`layout.rs`), named and tagged after the resource (`names.rs`). It runs from the DRS
//! console when nothing else does: one account and region, one step at a time, no hooks, no
//! approvals, no cleanup.
//!
//! `check` reads every configured account x region's plans of those names (`remote.rs`) and
//! judges each against what it should be (`drift.rs`): in sync, missing, drifted (edited by
//! hand), stale (the resource no longer reaches that account and region), unmanaged (a plan
//! of the name the module does not keep), too large, or unreadable. `sync` makes the changes
//! (`apply.rs`), each create with a client token, so that a second sync changes nothing.

mod apply;
pub mod drift;
pub mod error;
pub mod layout;
pub mod names;
pub mod remote;
pub mod report;

pub use error::NativeError;
pub use layout::{DesiredPlan, DesiredStep, Options, ResourceLayout, StepKind, StepServer};
pub use report::{PlanReport, Report, ResourceReport, State};

use crate::aws::errors::Kind;
use crate::aws::fanout;
use crate::aws::Clients;
use crate::config::{Partition, Quotas};
use crate::discovery::Discovery;
use crate::manifest::Layer;
use remote::{Found, RemotePlan};
use std::collections::{BTreeMap, BTreeSet};

/// Every DRS resource's plans, from the module's own plan of the manifest. An account x
/// region discovery could not read is its own: each resource that may reach it has it as
/// unread (nothing made, changed or deleted there), and its plans elsewhere are laid out (a
/// plan holds its own account and region's servers only).
pub fn layouts(layers: &[Layer], found: &Discovery, quotas: &Quotas, opts: Options) -> Vec<ResourceLayout> {
    let plan = crate::plan::plan(layers, found, quotas);
    let resources: Vec<&crate::resource::DrsResource> = layers.iter().flat_map(|l| l.resources.iter()).collect();
    let mut out: Vec<ResourceLayout> =
        plan.resources.iter().zip(&resources).map(|(p, r)| layout::layout(p, r, found, quotas, opts)).collect();
    for (l, r) in out.iter_mut().zip(&resources).filter(|(l, _)| l.error.is_none()) {
        let reaches = |p: &Partition| r.selection.reaches(&p.account, &p.region);
        l.unread = plan.unreadable_partitions.iter().filter(|u| reaches(&u.partition)).cloned().collect();
    }
    refuse_shared_names(&mut out);
    out
}

/// Resources whose plans would have one name (`shop.web` and `shop-web`: a plan name takes
/// no dot) would each take the other's plans for their own: neither is laid out, each named
/// with the other.
fn refuse_shared_names(layouts: &mut [ResourceLayout]) {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in layouts.iter() {
        by_name.entry(l.plan_name.clone()).or_default().push(l.resource.clone());
    }
    for l in layouts.iter_mut() {
        let others: Vec<&String> = by_name[&l.plan_name].iter().filter(|r| **r != l.resource).collect();
        if let Some(other) = others.first() {
            l.plans.clear();
            l.error = Some(format!(
                "its native plan name '{}' is also that of resource '{other}' (a plan name keeps letters, digits, \
                 spaces, '_' and '-' only): rename one of them",
                l.plan_name
            ));
        }
    }
}

/// Whether a plan of the resource's plan name is one of the resource's (this definition or
/// an earlier one of its name: the module's tag, and the resource's own name, not another
/// resource's whose name cleans to the same plan name).
fn of_resource(plan: &RemotePlan, resource: &str) -> bool {
    plan.tags.contains_key(names::RESOURCE_ID) && plan.tags.get(names::RESOURCE) == Some(&names::resource_tag(resource))
}

/// Each plan as DRS has it against what it should be.
pub async fn check(clients: &Clients, layouts: &[ResourceLayout]) -> Report {
    let names: BTreeSet<&str> = layouts.iter().filter(|l| l.error.is_none()).map(|l| l.plan_name.as_str()).collect();
    let names: Vec<&str> = names.into_iter().collect();
    let partitions = clients.config().partitions();
    let reads: BTreeMap<Partition, Result<Found, NativeError>> = fanout::each(clients, partitions, |p| {
        let names = &names;
        async move {
            let r = remote::read(clients, &p, names).await;
            (p, r)
        }
    })
    .await
    .into_iter()
    .collect();
    Report { resources: layouts.iter().map(|l| judge_resource(l, &reads)).collect(), unread: unread(&reads, layouts) }
}

/// Partitions that could not be read where no plan is wanted: a stale plan there is unknown.
/// (DRS not initialized there holds none.)
fn unread(reads: &BTreeMap<Partition, Result<Found, NativeError>>, layouts: &[ResourceLayout]) -> Vec<String> {
    let wanted: BTreeSet<&Partition> = layouts.iter().flat_map(|l| l.plans.iter().map(|p| &p.partition)).collect();
    reads
        .iter()
        .filter(|(p, _)| !wanted.contains(p))
        .filter_map(|(p, r)| match r {
            Err(NativeError::Aws(e)) if e.kind == Kind::DrsNotInitialized => None,
            Err(e) => Some(format!("{p}: {e}")),
            Ok(_) => None,
        })
        .collect()
}

fn judge_resource(l: &ResourceLayout, reads: &BTreeMap<Partition, Result<Found, NativeError>>) -> ResourceReport {
    let mut out = ResourceReport {
        resource: l.resource.clone(),
        identity: l.identity.clone(),
        plan_name: l.plan_name.clone(),
        plans: vec![],
        notes: l.notes.clone(),
        error: l.error.clone(),
    };
    if l.error.is_some() {
        return out;
    }
    let mut used: BTreeSet<String> = BTreeSet::new();
    for want in &l.plans {
        let report = match reads.get(&want.partition) {
            None => PlanReport::new(want.partition.clone(), &want.name, State::Failed),
            Some(Err(e)) => PlanReport::new(want.partition.clone(), &want.name, State::Failed).failed(e),
            Some(Ok(found)) => judge(want, found, &l.resource, &l.identity),
        };
        used.extend(report.arn.clone());
        out.plans.push(report);
    }
    for u in &l.unread {
        let mut r = PlanReport::new(u.partition.clone(), &l.plan_name, State::Failed);
        r.error = Some(format!(
            "discovery could not read this account and region ({}): the resource's plan here is unknown; nothing is \
             made, changed or deleted here",
            u.error
        ));
        out.plans.push(r);
    }
    let dark: BTreeSet<&Partition> = l.unread.iter().map(|u| &u.partition).collect();
    // The resource's other plans of its name: in accounts and regions it no longer reaches, or
    // a second one beside the one kept.
    for (p, found) in reads.iter().filter(|(p, _)| !dark.contains(p)).filter_map(|(p, r)| r.as_ref().ok().map(|f| (p, f))) {
        // (A plan of the name without the module's tag is someone else's: where the resource
        // wants a plan it is reported as in the way, elsewhere it is none of the module's.)
        let ours = |x: &&RemotePlan| !used.contains(&x.arn) && of_resource(x, &l.resource);
        for plan in found.plans.get(&l.plan_name).into_iter().flatten().filter(ours) {
            let mut r = PlanReport::new(p.clone(), &plan.name, State::Stale);
            r.arn = Some(plan.arn.clone());
            r.notes.push("the resource has no servers here (or this is a second plan of its name): sync deletes it".into());
            r.remote = Some(plan.clone());
            out.plans.push(r);
        }
    }
    out
}

/// One wanted plan against the plans of its name in its partition.
fn judge(want: &DesiredPlan, found: &Found, resource: &str, identity: &str) -> PlanReport {
    let mut r = PlanReport::new(want.partition.clone(), &want.name, State::Missing);
    r.steps = want.steps.clone();
    r.notes = want.notes.clone();
    r.desired = Some(want.clone());
    if let Some(e) = &want.error {
        r.state = State::TooLarge;
        r.error = Some(e.clone());
        return r;
    }
    let candidates = found.plans.get(&want.name).map(Vec::as_slice).unwrap_or_default();
    // The plan kept: one tagged with this resource's identity, else one of another definition
    // of the resource (its selection changed: sync retags it).
    let tag = |p: &&RemotePlan| p.tags.get(names::RESOURCE_ID).cloned();
    let chosen = candidates
        .iter()
        .find(|p| tag(p).as_deref() == Some(identity))
        .or_else(|| candidates.iter().find(|p| of_resource(p, resource)));
    let Some(have) = chosen else {
        r.arn = candidates.first().map(|p| p.arn.clone());
        let blocked = candidates
            .first()
            .map(|p| p.arn.clone())
            .or_else(|| found.unreadable.get(&want.name).and_then(|u| u.first()).map(|u| format!("{} ({})", u.arn, u.error)));
        if let Some(what) = blocked {
            r.state = State::Unmanaged;
            r.error = Some(format!(
                "a plan named '{}' exists that the module does not keep for this resource (no {} tag, another \
                 resource's {} tag, or the target role may not read it): {what}; rename or delete it",
                want.name,
                names::RESOURCE_ID,
                names::RESOURCE
            ));
        } else {
            r.drifts.push(drift::Drift::Missing);
        }
        return r;
    };
    let (drifts, edits) = drift::compare(want, have);
    r.arn = Some(have.arn.clone());
    r.state = if drifts.is_empty() { State::InSync } else { State::Drifted };
    r.drifts = drifts;
    r.edits = edits;
    r.remote = Some(have.clone());
    r
}

/// Makes the changes `report` calls for (missing plans created, drifted ones brought in line,
/// stale ones deleted); each plan's report gets what was done, or why it failed. Check again
/// to see the result.
pub async fn sync(clients: &Clients, report: &Report) -> Report {
    let mut out = report.clone();
    let todo: Vec<(usize, usize)> = out
        .resources
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.plans.iter().enumerate().filter(|(_, p)| p.state.needs_sync()).map(move |(j, _)| (i, j)))
        .collect();
    let plans: Vec<PlanReport> = todo.iter().map(|(i, j)| out.resources[*i].plans[*j].clone()).collect();
    let done = fanout::each(clients, plans, |p| async move { sync_plan(clients, p).await }).await;
    for ((i, j), p) in todo.into_iter().zip(done) {
        out.resources[i].plans[j] = p;
    }
    out
}

async fn sync_plan(clients: &Clients, mut p: PlanReport) -> PlanReport {
    let mut done = vec![];
    let result = make_changes(clients, &p, &mut done).await;
    p.changes = done;
    match result {
        Ok(arn) => {
            p.arn = arn;
            p
        }
        Err(e) => p.failed(&e),
    }
}

async fn make_changes(clients: &Clients, p: &PlanReport, done: &mut apply::Done) -> Result<Option<String>, NativeError> {
    let drs = clients.drs(&p.partition).await.map_err(NativeError::client)?;
    match (p.state, &p.desired, &p.remote) {
        (State::Stale, _, Some(have)) => {
            apply::delete_plan(&drs, &have.arn, done).await?;
            Ok(None)
        }
        (State::Missing, Some(want), _) => {
            let arn = apply::create_plan(&drs, want, done).await?;
            let edits = drift::StepEdits { create: (0..want.steps.len()).collect(), ..Default::default() };
            apply::steps(&drs, &arn, want, &edits, vec![], done).await?;
            Ok(Some(arn))
        }
        (State::Drifted, Some(want), Some(have)) => {
            if p.drifts.iter().any(|d| matches!(d, drift::Drift::Description { .. })) {
                apply::describe(&drs, &have.arn, want, done).await?;
            }
            let tags: BTreeMap<String, String> = p
                .drifts
                .iter()
                .filter_map(|d| match d {
                    drift::Drift::Tag { key, want, .. } => Some((key.clone(), want.clone())),
                    _ => None,
                })
                .collect();
            if !tags.is_empty() {
                apply::tag(&drs, &have.arn, &tags, done).await?;
            }
            apply::steps(&drs, &have.arn, want, &p.edits, p.edits.kept.clone(), done).await?;
            Ok(Some(have.arn.clone()))
        }
        _ => Ok(p.arn.clone()),
    }
}

//! Preflight (the `instantiate` phase): what would block a recovery of one resource, with
//! nothing changed. The resource's accounts x regions are checked (trust, permissions, DRS
//! initialized), its group resolved and planned (misses, conflicts, servers not ready,
//! waves), and each selected server's launch configuration read.

use crate::accounts::{check, AccountsReport};
use crate::aws::Clients;
use crate::config::Partition;
use crate::discovery::discover_retrying;
use crate::launch;
use crate::plan::{plan_one, Plan};
use crate::resource::DrsResource;
use crate::selection::{ResourceSelection, ServerRef};
use serde::Serialize;

pub mod finding;
pub use finding::{Concern, Finding, LaunchIssue};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchSetting {
    pub server: ServerRef,
    #[serde(flatten)]
    pub issue: LaunchIssue,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    pub resource_name: String,
    pub accounts: AccountsReport,
    pub plan: Plan,
    pub launch_settings: Vec<LaunchSetting>,
    /// Drift from the resource's LaunchSettings, when it has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_drift: Option<crate::launch::Report>,
    /// `LaunchSettings.Servers` keys that name no server of the group, or several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub launch_keys: Vec<launch::KeyProblem>,
    /// Static private addresses that cannot be had, each with its server, field and reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub launch_addresses: Vec<launch::addresses::Problem>,
    /// The static addresses asked, for `instantiate` to claim (`launch::claims`).
    #[serde(skip)]
    pub address_asks: Vec<launch::addresses::Asked>,
    /// What would stop a recovery.
    pub blockers: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// What discovery read (replication, tags): readiness judges each server from it.
    #[serde(skip)]
    pub discovery: crate::discovery::Discovery,
}

impl PreflightReport {
    pub fn ready(&self) -> bool {
        self.blockers.is_empty()
    }
}

/// The configured partitions a resource reaches: its accounts and regions if it names any.
pub fn partitions_of(clients: &Clients, sel: &ResourceSelection) -> Vec<Partition> {
    configured_partitions(clients.config(), sel)
}

/// `partitions_of`, from the configuration alone.
pub fn configured_partitions(cfg: &crate::config::ModuleConfig, sel: &ResourceSelection) -> Vec<Partition> {
    cfg.partitions().into_iter().filter(|p| sel.reaches(&p.account, &p.region)).collect()
}

/// What would stop the run ledger from opening this resource's run: no key to sign the
/// payload, a table that is not there or not reachable with the hub's permissions (read with
/// the GetItem the runs use: a key no run has).
async fn ledger_blockers(clients: &Clients, resource: &DrsResource) -> Vec<Finding> {
    let mut out = vec![];
    if clients.config().ledger.payload_key.is_none() {
        out.push(Finding::new(Concern::Ledger, crate::recovery::reference::ReferenceError::NoKey.to_string()));
    }
    let probe = crate::ledger::RunKey::new(&resource.identity(), "preflight-probe");
    if let Err(e) = crate::ledger::of(clients).get(&probe).await {
        out.push(Finding::new(Concern::Ledger, format!("{e} (the run ledger is where activate opens the run)")));
    }
    out
}

pub async fn preflight(clients: &Clients, resource: &DrsResource) -> anyhow::Result<PreflightReport> {
    let sel = &resource.selection;
    let partitions = partitions_of(clients, sel);
    anyhow::ensure!(
        !partitions.is_empty(),
        "resource {}: no configured account x region matches its AccountId/Accounts/Regions",
        sel.resource_name
    );
    let accounts = check(clients, &partitions).await;
    let found = discover_retrying(clients, &partitions, 3).await;
    let mut plan = plan_one(resource, &found, &clients.config().quotas);
    // RecoverBefore: each server's recovery snapshot, or why it has none (a selection finding).
    crate::plan::points::attach(clients, &mut plan, &[resource]).await?;
    let selected: Vec<ServerRef> = plan.resources.iter().flat_map(|r| r.resolution.servers.clone()).collect();
    let want = resource.launch.as_ref();
    let reads = launch::read_all(clients, &selected, want).await;
    let launch_settings = launch_settings(&reads);
    let launch_drift = want.map(|w| launch::report(&reads, w));
    // Per-server entries: each key names one server of the group (those left out as not
    // ready count), and each static address can be had where the server would launch.
    let group: Vec<ServerRef> = plan
        .resources
        .iter()
        .flat_map(|r| r.resolution.servers.iter().cloned().chain(r.resolution.not_ready.iter().map(|n| n.server.clone())))
        .collect();
    let launch_keys = want.map(|w| launch::servers::key_problems(w, &group)).unwrap_or_default();
    let asks = want.map(|w| launch::addresses::asked(&reads, w, &found)).unwrap_or_default();
    let launch_addresses = launch::addresses::check(clients, &asks).await;

    let mut blockers = vec![];
    let mut warnings = vec![];
    for p in accounts.partitions.iter().filter(|p| !p.reason_names().is_empty()) {
        let reasons = p.reason_names();
        let at = format!("{}/{}", p.account, p.region);
        let only_uninitialized = p.reasons.len() == 1 && p.reasons[0].kind == Some(crate::aws::errors::Kind::DrsNotInitialized);
        if crate::plan::uninitialized_unnamed(only_uninitialized, &p.region, &[resource]) {
            let why = format!("{}: DRS is not initialized there, so it holds no source server", reasons.join(", "));
            warnings.push(Finding::at(Concern::DrsNotInitialized, at, why));
        } else {
            blockers.push(Finding::at(Concern::Partition, at, reasons.join(", ")));
        }
    }
    blockers.extend(ledger_blockers(clients, resource).await);
    warnings.extend(
        resource
            .unknown
            .iter()
            .map(|u| Finding::new(Concern::Parameters, format!("{u} (let through: unknownParameters is warn)"))),
    );
    blockers.extend(plan.unreadable_partitions.iter().map(|u| Finding::at(Concern::Discovery, &u.partition, &u.error)));
    warnings.extend(plan.uninitialized.iter().map(|u| {
        let why = format!("DRS is not initialized there, so it holds no source server: {}", u.error);
        Finding::at(Concern::DrsNotInitialized, &u.partition, why)
    }));
    for r in &plan.resources {
        blockers.extend(r.resolution.errors.iter().map(|e| Finding::new(Concern::Selection, e)));
        warnings.extend(r.resolution.warnings.iter().map(|w| Finding::new(Concern::Selection, w)));
        blockers.extend(r.error.iter().map(|e| Finding::at(Concern::Waves, &r.resource_name, e)));
    }
    for l in &launch_settings {
        let finding = Finding::at(Concern::LaunchSettings, &l.server, l.issue.to_string());
        if l.issue.blocks() {
            blockers.push(finding)
        } else {
            warnings.push(finding)
        }
    }
    for k in &launch_keys {
        let finding = Finding::new(Concern::LaunchServers, k.to_string());
        if k.blocks() {
            blockers.push(finding)
        } else {
            warnings.push(finding)
        }
    }
    blockers.extend(launch_addresses.iter().map(|a| Finding::at(Concern::LaunchServers, &a.server, a.to_string())));
    // Drift from LaunchSettings warns (drs-orch launch check --sync fixes it); settings that
    // cannot be read block above already.
    for f in launch_drift.iter().flat_map(|r| &r.findings).filter(|f| f.error.is_none()) {
        let what: Vec<String> = f.drifts.iter().map(ToString::to_string).collect();
        warnings.push(Finding::at(Concern::LaunchDrift, &f.server, format!("launch settings drift: {}", what.join(", "))));
    }
    Ok(PreflightReport {
        resource_name: resource.name.clone(),
        accounts,
        plan,
        launch_settings,
        launch_drift,
        launch_keys,
        launch_addresses,
        address_asks: asks,
        blockers,
        warnings,
        discovery: found,
    })
}

/// Each server's launch configuration as read: one that cannot be read, or without an EC2
/// launch template, blocks; a recovery instance set to launch stopped is worth a warning.
fn launch_settings(reads: &[launch::Read]) -> Vec<LaunchSetting> {
    let mut out: Vec<LaunchSetting> = reads
        .iter()
        .filter_map(|(s, read)| {
            let issue = match read {
                Err(e) => LaunchIssue::Unreadable(e.to_string()),
                Ok(c) if c.template_id.is_none() => LaunchIssue::NoTemplate,
                Ok(c) if c.settings.launch_disposition.as_deref() == Some("STOPPED") => LaunchIssue::StartsStopped,
                Ok(_) => return None,
            };
            Some(LaunchSetting { server: s.clone(), issue })
        })
        .collect();
    out.sort_by(|a, b| a.server.cmp(&b.server));
    out
}

//! Readiness, continuously: whether each resource of a manifest could be recovered now, and
//! how sure that is. Preflight's checks (trust and permission probes, discovery, selection,
//! waves, launch configuration and drift, the ledger) and, per server, its replication state
//! and lag against the resource's RPO target, selection tags on EC2 only, and the target
//! subnet and security groups; per resource, quota headroom for the plan's jobs and its last
//! successful drill (age, and whether the resource changed since). Each gives READY, NEEDS
//! VERIFICATION or NOT READY with its reason; an account x region that cannot be read makes
//! its servers NOT READY or unknown, named, and never hides the others'. Nothing is changed.

pub mod drills;
mod network;
pub mod quota;
pub mod render;
pub mod server;
pub mod verdict;

pub use drills::LastDrill;
pub use verdict::{worst, Check, Reason, Verdict};

use crate::aws::Clients;
use crate::config::Partition;
use crate::discovery::DiscoveredServer;
use crate::preflight::{preflight, Concern, Finding, PreflightReport};
use crate::resource::{DrsResource, WavesSpec};
use crate::selection::ServerRef;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerReadiness {
    pub server: ServerRef,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<u64>,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReadiness {
    pub resource: String,
    /// The worst of its own reasons and its servers' verdicts.
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_rpo_minutes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<LastDrill>,
    /// What concerns the resource as a whole (selection, quotas, drills, partitions).
    pub reasons: Vec<Reason>,
    pub servers: Vec<ServerReadiness>,
}

impl ResourceReadiness {
    pub fn count(&self, v: Verdict) -> usize {
        self.servers.iter().filter(|s| s.verdict == v).count()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessReport {
    /// The one clock of the report: the module's (the simulator's under it).
    pub checked_at: DateTime<Utc>,
    pub stale_drill_days: u64,
    pub verdict: Verdict,
    pub resources: Vec<ResourceReadiness>,
}

/// The readiness of each resource, one after another (each fans out over its partitions).
pub async fn assess(clients: &Clients, resources: &[DrsResource]) -> ReadinessReport {
    let mut out = vec![];
    for r in resources {
        out.push(resource(clients, r).await);
    }
    ReadinessReport {
        checked_at: clients.now(),
        stale_drill_days: clients.config().readiness.stale_drill_days,
        verdict: out.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Ready),
        resources: out,
    }
}

async fn resource(clients: &Clients, r: &DrsResource) -> ResourceReadiness {
    let mut reasons = vec![];
    let servers = match preflight(clients, r).await {
        Ok(pre) => {
            reasons.extend(pre.blockers.iter().filter_map(|f| resource_reason(f, Verdict::NotReady)));
            reasons.extend(pre.warnings.iter().filter_map(|f| resource_reason(f, Verdict::NeedsVerification)));
            reasons.extend(quotas(clients, &pre).await);
            servers(clients, r, &pre).await
        }
        Err(e) => {
            reasons.push(Reason::new(Check::Selection, Verdict::NotReady, format!("{e:#}")));
            vec![]
        }
    };
    let stale = clients.config().readiness.stale_drill_days;
    let last_drill = match crate::ledger::of(clients).runs_of(&r.identity()).await {
        Ok(runs) => {
            let (last, why) = drills::judge(r, &runs, clients.now(), stale);
            reasons.extend(why);
            last
        }
        Err(e) => {
            let why = format!("the last drill cannot be looked up: {e}");
            reasons.push(Reason::new(Check::Ledger, Verdict::NeedsVerification, why));
            None
        }
    };
    let verdict = worst(&reasons).max(servers.iter().map(|s| s.verdict).max().unwrap_or(Verdict::Ready));
    ResourceReadiness {
        resource: r.name.clone(),
        verdict,
        target_rpo_minutes: r.recovery.target_rpo_minutes,
        last_drill,
        reasons,
        servers,
    }
}

/// A preflight finding about the resource as a whole; those about one server are judged
/// per server from preflight's typed results, and a region without DRS that no resource
/// names holds nothing to recover.
fn resource_reason(f: &Finding, verdict: Verdict) -> Option<Reason> {
    let check = match f.concern {
        Concern::Partition => Check::Permissions,
        Concern::Discovery => Check::Discovery,
        Concern::Ledger => Check::Ledger,
        Concern::Parameters | Concern::Selection | Concern::Waves => Check::Selection,
        // A key of LaunchSettings.Servers concerns the resource; an address, its server.
        Concern::LaunchServers if f.at.is_none() => Check::Selection,
        Concern::DrsNotInitialized | Concern::LaunchSettings | Concern::LaunchDrift | Concern::LaunchServers => return None,
    };
    Some(Reason { check, verdict, at: f.at.clone(), message: f.message.clone() })
}

/// Each server of the group (those the selection leaves out as not ready too), judged.
async fn servers(clients: &Clients, r: &DrsResource, pre: &PreflightReport) -> Vec<ServerReadiness> {
    let members: Vec<ServerRef> = {
        let mut m: BTreeSet<ServerRef> = BTreeSet::new();
        for res in &pre.plan.resources {
            m.extend(res.resolution.servers.iter().cloned());
            m.extend(res.resolution.not_ready.iter().map(|n| n.server.clone()));
        }
        m.into_iter().collect()
    };
    let found: HashMap<&str, &DiscoveredServer> =
        pre.discovery.servers.iter().map(|s| (s.source_server_id.as_str(), s)).collect();
    let reads = crate::launch::read_with_templates(clients, &members).await;
    let mut per_server = network::check(clients, &reads, r.launch.as_ref()).await;
    for (id, why) in from_preflight(pre) {
        per_server.entry(id).or_default().extend(why);
    }
    let keys = selection_keys(r);
    members
        .into_iter()
        .map(|m| {
            let s = found.get(m.source_server_id.as_str()).copied();
            let mut reasons: Vec<Reason> = s
                .map(|s| {
                    let mut own = vec![];
                    own.extend(server::replication(s));
                    own.extend(server::lag(s, r.recovery.target_rpo_minutes));
                    own.extend(server::ec2_only_tags(s, &keys));
                    own
                })
                .unwrap_or_default();
            reasons.extend(per_server.remove(&m.source_server_id).unwrap_or_default());
            ServerReadiness {
                verdict: worst(&reasons),
                replication_state: s.and_then(|s| s.replication_state.clone()),
                lag_seconds: s.and_then(|s| s.lag_seconds),
                server: m,
                reasons,
            }
        })
        .collect()
}

/// Per server (by id), what preflight found of it: its partition's failed probes, its
/// launch configuration, its drift from LaunchSettings.
fn from_preflight(pre: &PreflightReport) -> BTreeMap<String, Vec<Reason>> {
    let unhealthy: BTreeMap<(String, String), String> = pre
        .accounts
        .partitions
        .iter()
        .filter(|p| !p.reasons.is_empty())
        .map(|p| {
            ((p.account.clone(), p.region.clone()), p.reasons.iter().map(|r| r.message.clone()).collect::<Vec<_>>().join("; "))
        })
        .collect();
    let mut out: BTreeMap<String, Vec<Reason>> = BTreeMap::new();
    for res in &pre.plan.resources {
        for s in res.resolution.servers.iter().chain(res.resolution.not_ready.iter().map(|n| &n.server)) {
            if let Some(why) = unhealthy.get(&(s.account.clone(), s.region.clone())) {
                let at = Partition { account: s.account.clone(), region: s.region.clone() };
                out.entry(s.source_server_id.clone()).or_default().push(Reason::at(
                    Check::Permissions,
                    Verdict::NotReady,
                    at,
                    why,
                ));
            }
        }
    }
    for l in &pre.launch_settings {
        let verdict = if l.issue.blocks() { Verdict::NotReady } else { Verdict::NeedsVerification };
        out.entry(l.server.source_server_id.clone()).or_default().push(Reason::new(
            Check::LaunchSettings,
            verdict,
            l.issue.to_string(),
        ));
    }
    for a in &pre.launch_addresses {
        let (verdict, why) = match a.issue {
            crate::launch::addresses::Issue::Unchecked { .. } => (Verdict::NeedsVerification, a.to_string()),
            _ => (Verdict::NotReady, format!("{a}: a launch at it fails")),
        };
        out.entry(a.server.source_server_id.clone()).or_default().push(Reason::new(Check::Network, verdict, why));
    }
    for f in pre.launch_drift.iter().flat_map(|d| &d.findings).filter(|f| f.error.is_none() && !f.drifts.is_empty()) {
        let what: Vec<String> = f.drifts.iter().map(ToString::to_string).collect();
        let why =
            format!("launch settings drift from LaunchSettings: {} (drs-orch launch check --sync fixes it)", what.join(", "));
        out.entry(f.server.source_server_id.clone()).or_default().push(Reason::new(Check::LaunchDrift, Verdict::NotReady, why));
    }
    out
}

/// The tag keys the selection decides on: the resource's Tags and its waves'.
fn selection_keys(r: &DrsResource) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = r.selection.tags.keys().cloned().collect();
    match &r.waves {
        Some(WavesSpec::ByTag(k)) => {
            keys.insert(k.clone());
        }
        Some(WavesSpec::List(list)) => keys.extend(list.iter().flat_map(|w| w.tags.keys().cloned())),
        None => {}
    }
    keys
}

/// Headroom of each partition the plan's jobs reach; a partition whose jobs cannot be read
/// leaves its headroom unknown, named.
async fn quotas(clients: &Clients, pre: &PreflightReport) -> Vec<Reason> {
    let needs = pre.plan.resources.first().map(|r| quota::needs(&r.waves)).unwrap_or_default();
    let active = quota::active(clients, needs.keys().cloned().collect()).await;
    let q = &clients.config().quotas;
    needs
        .iter()
        .filter_map(|(p, (wave, need))| match active.get(p) {
            Some(Ok(a)) => quota::judge(p, wave, *need, *a, q),
            Some(Err(e)) => Some(Reason::at(
                Check::Quota,
                Verdict::NeedsVerification,
                p,
                format!("the active jobs cannot be read, so the headroom is unknown: {e}"),
            )),
            None => None,
        })
        .collect()
}

//! The plan: what activation would do, without starting anything. For each layer of the
//! manifest, its DRS resources resolved to groups (misses, conflicts and servers not ready
//! reported), each group split into ordered waves, each wave into DRS jobs within the quotas.

pub mod jobs;
pub mod points;
pub mod waves;

use crate::config::{Partition, Quotas};
use crate::discovery::{DiscoveredServer, Discovery};
use crate::manifest::Layer;
use crate::resource::DrsResource;
use crate::selection::{resolve_layer, Resolution};
use jobs::PlannedJob;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WavePlan {
    pub name: String,
    /// The waves this one waits for (by name; earlier in the plan). Waves whose
    /// dependencies are met run at once: independent branches recover side by side.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub servers: Vec<String>,
    pub jobs: Vec<PlannedJob>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePlan {
    pub layer: u64,
    pub resource_name: String,
    pub resolution: Resolution,
    pub waves: Vec<WavePlan>,
    /// Why no waves could be planned (bad Waves parameter, say).
    pub error: Option<String>,
    /// With `RecoverBefore`: each server's recovery snapshot (`points.rs`, added after the
    /// plan by `points::attach`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_points: Option<points::PointsPlan>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub resources: Vec<ResourcePlan>,
    /// Account x region that discovery could not read: their servers are missing here.
    pub unreadable_partitions: Vec<Unread>,
    /// What does not stop the plan: a region where DRS is not initialized holds no source
    /// server, unless a resource names that region.
    pub uninitialized: Vec<Unread>,
}

/// An account x region discovery could not read, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unread {
    pub partition: Partition,
    pub error: String,
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.partition, self.error)
    }
}

impl Plan {
    pub fn is_ok(&self) -> bool {
        self.unreadable_partitions.is_empty() && self.resources.iter().all(|r| r.error.is_none() && r.resolution.is_ok())
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for p in &self.unreadable_partitions {
            let _ = writeln!(out, "UNREADABLE {p}");
        }
        for r in &self.resources {
            let _ = writeln!(out, "layer {} resource {}: {} servers", r.layer, r.resource_name, r.resolution.servers.len());
            for line in r.resolution.errors.iter() {
                let _ = writeln!(out, "  ERROR {line}");
            }
            for line in r.resolution.warnings.iter() {
                let _ = writeln!(out, "  warning {line}");
            }
            if let Some(e) = &r.error {
                let _ = writeln!(out, "  ERROR {e}");
            }
            if let Some(points) = &r.recovery_points {
                out += &points.text();
            }
            for (i, w) in r.waves.iter().enumerate() {
                let _ = writeln!(out, "  wave {} {}: {} servers in {} jobs", i + 1, w.name, w.servers.len(), w.jobs.len());
                for j in &w.jobs {
                    let when = if j.starts_with_wave { "starts with the wave" } else { "waits for a job to finish (quota)" };
                    let _ = writeln!(
                        out,
                        "    StartRecovery {}/{}: {} servers, {when}",
                        j.account,
                        j.region,
                        j.source_server_ids.len()
                    );
                }
            }
        }
        out
    }
}

/// Every layer of a manifest.
pub fn plan(layers: &[Layer], found: &Discovery, quotas: &Quotas) -> Plan {
    let mut resources = vec![];
    for layer in layers {
        let refs: Vec<&DrsResource> = layer.resources.iter().collect();
        resources.extend(plan_layer(layer.layer, &refs, found, quotas));
    }
    let all: Vec<&DrsResource> = layers.iter().flat_map(|l| l.resources.iter()).collect();
    let (unreadable_partitions, uninitialized) = unreadable(found, &all);
    Plan { resources, unreadable_partitions, uninitialized }
}

/// One resource alone (the lifecycle's view: one resource per event).
pub fn plan_one(resource: &DrsResource, found: &Discovery, quotas: &Quotas) -> Plan {
    let (unreadable_partitions, uninitialized) = unreadable(found, &[resource]);
    Plan { resources: plan_layer(1, &[resource], found, quotas), unreadable_partitions, uninitialized }
}

fn plan_layer(layer: u64, resources: &[&DrsResource], found: &Discovery, quotas: &Quotas) -> Vec<ResourcePlan> {
    let by_id: BTreeMap<String, &DiscoveredServer> = found.servers.iter().map(|s| (s.source_server_id.clone(), s)).collect();
    let selections: Vec<_> = resources.iter().map(|r| &r.selection).collect();
    resolve_layer(&selections, &found.servers)
        .into_iter()
        .zip(resources)
        .map(|(mut resolution, r)| {
            crate::selection::pending::name(&r.selection, &mut resolution, found);
            let (waves, error) = match waves::waves(r.waves.as_ref(), &resolution.servers, &by_id) {
                Ok(w) => {
                    let names: Vec<String> = w.iter().map(|w| w.name.clone()).collect();
                    let plans = w
                        .into_iter()
                        .map(|w| WavePlan {
                            depends_on: w.depends_on.iter().map(|d| names[*d].clone()).collect(),
                            name: w.name,
                            servers: w.servers.iter().map(|s| s.hostname.clone()).collect(),
                            jobs: jobs::split(&w.servers, quotas),
                        })
                        .collect();
                    (plans, None)
                }
                Err(e) => (vec![], Some(format!("{}: {e:#}", r.name))),
            };
            ResourcePlan { layer, resource_name: r.name.clone(), resolution, waves, error, recovery_points: None }
        })
        .collect()
}

/// Partitions discovery could not read (blockers), and those that only lack DRS in a region
/// no resource names (warnings).
fn unreadable(found: &Discovery, resources: &[&DrsResource]) -> (Vec<Unread>, Vec<Unread>) {
    let (mut blockers, mut warnings) = (vec![], vec![]);
    for p in found.failed() {
        let unread =
            Unread { partition: p.partition.clone(), error: p.error.as_ref().map(|e| e.to_string()).unwrap_or_default() };
        if uninitialized_unnamed(p.error.as_ref().is_some_and(|e| e.drs_not_initialized()), &p.partition.region, resources) {
            warnings.push(unread);
        } else {
            blockers.push(unread);
        }
    }
    (blockers, warnings)
}

/// A failure that is only "DRS not initialized", in a region no resource names.
pub fn uninitialized_unnamed(not_initialized: bool, region: &str, resources: &[&DrsResource]) -> bool {
    not_initialized && !resources.iter().any(|r| r.selection.regions.iter().any(|named| named == region))
}

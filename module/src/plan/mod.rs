//! The plan: what activation would do, without starting anything. For each layer of the
//! manifest, its DRS resources resolved to groups (misses, conflicts and servers not ready
//! reported), each group split into ordered waves, each wave into DRS jobs within the quotas.

pub mod jobs;
pub mod waves;

use crate::config::Quotas;
use crate::discovery::{DiscoveredServer, Discovery};
use crate::manifest;
use crate::selection::{resolve_layer, Resolution, ResourceSelection};
use jobs::PlannedJob;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WavePlan {
    pub name: String,
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
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub resources: Vec<ResourcePlan>,
    /// Account x region that discovery could not read: their servers are missing here.
    pub unreadable_partitions: Vec<String>,
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

pub fn plan(manifest_json: &Value, found: &Discovery, quotas: &Quotas) -> anyhow::Result<Plan> {
    let by_id: BTreeMap<String, &DiscoveredServer> = found.servers.iter().map(|s| (s.source_server_id.clone(), s)).collect();
    let mut resources = vec![];
    for layer in manifest::layers(manifest_json)? {
        let selections: Vec<ResourceSelection> =
            layer.resources.iter().map(ResourceSelection::from_resource).collect::<anyhow::Result<_>>()?;
        for ((resolution, sel), raw) in
            resolve_layer(&selections, &found.servers).into_iter().zip(&selections).zip(&layer.resources)
        {
            let params = raw.get("parameters").cloned().unwrap_or(Value::Null);
            let (waves, error) = match waves::waves(&params, &resolution.servers, &by_id) {
                Ok(w) => (
                    w.into_iter()
                        .map(|w| WavePlan {
                            name: w.name,
                            servers: w.servers.iter().map(|s| s.hostname.clone()).collect(),
                            jobs: jobs::split(&w.servers, quotas),
                        })
                        .collect(),
                    None,
                ),
                Err(e) => (vec![], Some(format!("{}: {e:#}", sel.resource_name))),
            };
            resources.push(ResourcePlan {
                layer: layer.layer,
                resource_name: sel.resource_name.clone(),
                resolution,
                waves,
                error,
            });
        }
    }
    let unreadable_partitions = found
        .failed()
        .map(|p| format!("{}: {}", p.partition, p.error.as_ref().map(|e| e.to_string()).unwrap_or_default()))
        .collect();
    Ok(Plan { resources, unreadable_partitions })
}

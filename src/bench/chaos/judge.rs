//! A run judged by the simulator alone, whatever the module answered: how many launch jobs
//! each server was in (DescribeJobs through the SDK, every page of every account x region
//! that holds servers), the drill instances left (the simulator's recovery instances), and
//! from its call log the calls refused by the storm, the outage, ended sessions, and
//! TagResource calls refused for what they asked (a resource's 50-tag limit, say). Counted
//! with every fault lifted, so that the count itself is neither throttled nor dark.

use super::runner::{Rig, SimServer};
use drs_module::aws::{static_hub, Clients};
use drs_module::config::Partition;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What the run should have launched.
#[derive(Debug, Default, Clone)]
pub struct Expect {
    /// Servers that must be in exactly one launch job.
    pub once: BTreeSet<String>,
    /// Servers that must be in none (not selected, behind a failure, skipped by a hook).
    pub never: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct Verdict {
    /// Servers in more than one launch job.
    pub duplicate_launches: usize,
    /// Servers expected once and in no launch job.
    pub missed_launches: usize,
    /// Servers that must not have launched, in a launch job.
    pub unexpected_launches: usize,
    /// Drill recovery instances left.
    pub orphans: usize,
    /// TagResource calls refused with a 4xx other than throttling or an ended session.
    pub tag_errors: usize,
    pub throttled: usize,
    /// Calls refused by an outage (503).
    pub dark: usize,
    /// Calls refused for an ended session.
    pub expired: usize,
    /// What the counts are made of, by hostname.
    pub notes: Vec<String>,
}

impl Verdict {
    /// The launches were not what the run should have launched.
    pub fn launches_wrong(&self) -> bool {
        self.missed_launches > 0 || self.unexpected_launches > 0
    }
}

pub async fn judge(rig: &Rig, expect: &Expect) -> anyhow::Result<Verdict> {
    rig.faults(&json!({})).await?;
    let servers = rig.servers().await?;
    let name = |id: &str| servers.iter().find(|s| s.id == id).map_or_else(|| id.to_owned(), |s| s.hostname.clone());
    let per_server = launches(rig, &servers).await?;
    let count = |id: &String| per_server.get(id).copied().unwrap_or(0);
    let mut v = Verdict::default();
    let listed = |ids: Vec<String>| {
        let more = ids.len().saturating_sub(5);
        let mut s = ids.into_iter().take(5).collect::<Vec<_>>().join(", ");
        if more > 0 {
            s.push_str(&format!(" and {more} more"));
        }
        s
    };

    let twice: Vec<String> = per_server.iter().filter(|(_, n)| **n > 1).map(|(id, n)| format!("{} x{n}", name(id))).collect();
    v.duplicate_launches = twice.len();
    if !twice.is_empty() {
        v.notes.push(format!("launched more than once: {}", listed(twice)));
    }
    let missed: Vec<String> = expect.once.iter().filter(|id| count(id) == 0).map(|id| name(id)).collect();
    v.missed_launches = missed.len();
    if !missed.is_empty() {
        v.notes.push(format!("never launched: {}", listed(missed)));
    }
    let unexpected: Vec<String> = expect.never.iter().filter(|id| count(id) > 0).map(|id| name(id)).collect();
    v.unexpected_launches = unexpected.len();
    if !unexpected.is_empty() {
        v.notes.push(format!("launched though it must not: {}", listed(unexpected)));
    }

    let instances = rig.control.ok("GET", "recovery-instances", None).await?;
    let left: Vec<String> = instances["recoveryInstances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["isDrill"] == true)
        .map(|i| name(i["sourceServerID"].as_str().unwrap_or_default()))
        .collect();
    v.orphans = left.len();
    if !left.is_empty() {
        v.notes.push(format!("drill instances left: {}", listed(left)));
    }

    let calls = rig.control.calls().await?;
    let expired = |c: &Value| c["error"].as_str().is_some_and(|e| e.starts_with("Expired"));
    v.throttled = calls.iter().filter(|c| c["status"] == 429).count();
    v.dark = calls.iter().filter(|c| c["status"] == 503).count();
    v.expired = calls.iter().filter(|c| expired(c)).count();
    let refused: Vec<&Value> = calls
        .iter()
        .filter(|c| c["operation"] == "TagResource")
        .filter(|c| c["status"].as_u64().is_some_and(|s| (400..500).contains(&s) && s != 429) && !expired(c))
        .collect();
    v.tag_errors = refused.len();
    if let Some(first) = refused.first() {
        v.notes.push(format!(
            "{} TagResource refused, the first in {}/{}: {} {} (asking {} tags)",
            refused.len(),
            first["account"].as_str().unwrap_or_default(),
            first["region"].as_str().unwrap_or_default(),
            first["status"],
            first["error"].as_str().unwrap_or_default(),
            first["request"]["tags"].as_object().map_or(0, |t| t.len())
        ));
    }
    Ok(v)
}

/// How many launch jobs each server was in, over every account x region holding servers,
/// read as any SDK user reads them (clients of its own, not the module's).
async fn launches(rig: &Rig, servers: &[SimServer]) -> anyhow::Result<BTreeMap<String, usize>> {
    let h = &rig.sim.world.hub;
    let clients = Clients::new(rig.config.clone(), static_hub(&h.region, &h.access_key_id, &h.secret_access_key), "judge");
    let partitions: BTreeSet<(String, String)> = servers.iter().map(|s| (s.account.clone(), s.region.clone())).collect();
    let mut out = BTreeMap::new();
    for (account, region) in partitions {
        let drs = clients.drs(&Partition { account, region }).await?;
        let mut pages = drs.describe_jobs().max_results(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            for j in page?.items().iter().filter(|j| j.r#type().is_some_and(|t| t.as_str() == "LAUNCH")) {
                for s in j.participating_servers() {
                    *out.entry(s.source_server_id().unwrap_or_default().to_owned()).or_insert(0) += 1;
                }
            }
        }
    }
    Ok(out)
}

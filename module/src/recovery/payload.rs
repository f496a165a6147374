//! The lifecycle payload of `activate`: the module's only memory between calls. The platform
//! hands it back unchanged to every status check, so it holds what cannot be found again
//! (the plan as it was when the execution started) and nothing that changes: progress is
//! read from the execution's tagged DRS jobs on each check. Compact, so that a 5,000-server
//! plan stays far under Step Functions' 256 KiB (`schemas/lifecycle-payload.schema.json`).

use crate::resource::{FailurePolicy, Mode};
use crate::config::Partition;
use anyhow::Context;
use serde::{Deserialize, Serialize};

pub static SCHEMA: crate::schema::Schema = crate::schema::Schema::new(include_str!("../../../schemas/lifecycle-payload.schema.json"));
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub v: u32,
    pub phase: String,
    pub execution: String,
    pub resource: String,
    pub mode: Mode,
    /// Wall-clock start of the activation; with `lookback` it bounds DescribeJobs.
    pub since: String,
    /// Jobs created after this (ISO-8601) are searched for the execution's tags.
    pub jobs_from: String,
    pub deadline: String,
    /// "account/region", indexed by `Group::p`.
    pub partitions: Vec<String>,
    pub waves: Vec<WavePayload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<String>,
    /// The resource's LaunchSettings, applied to each wave's servers before they start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<crate::launch::Desired>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WavePayload {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<String>,
    pub policy: FailurePolicy,
    pub groups: Vec<Group>,
}

/// The wave's servers in one partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub p: usize,
    pub ids: Vec<String>,
}

impl Payload {
    pub fn parse(v: &serde_json::Value) -> anyhow::Result<Payload> {
        SCHEMA.validate(v, "lifecycle_output.Payload")?;
        let p: Payload = serde_json::from_value(v.clone()).context("lifecycle_output.Payload")?;
        anyhow::ensure!(p.v == VERSION, "lifecycle_output.Payload.v: version {} is not {VERSION}", p.v);
        for (w, wave) in p.waves.iter().enumerate() {
            for g in &wave.groups {
                anyhow::ensure!(
                    g.p < p.partitions.len(),
                    "lifecycle_output.Payload.waves[{w}]: partition index {} out of range",
                    g.p
                );
            }
        }
        Ok(p)
    }

    pub fn partition(&self, p: usize) -> anyhow::Result<Partition> {
        let text = self.partitions.get(p).context("partition index out of range")?;
        let (account, region) = text.split_once('/').context("a partition is written account/region")?;
        Ok(Partition { account: account.into(), region: region.into() })
    }

    pub fn server_count(&self) -> usize {
        self.waves.iter().map(WavePayload::server_count).sum()
    }
}

impl WavePayload {
    pub fn server_count(&self) -> usize {
        self.groups.iter().map(|g| g.ids.len()).sum()
    }
}

//! The lifecycle payload of `activate`: the module's only memory between calls. The platform
//! hands it back unchanged to every status check, so it holds what cannot be found again
//! (the plan as it was when the execution started) and nothing that changes: progress is
//! read from the execution's tagged DRS jobs on each check. Compact, so that a 5,000-server
//! plan stays far under Step Functions' 256 KiB (`schemas/lifecycle-payload.schema.json`).

use crate::config::Partition;
use crate::resource::{FailurePolicy, Mode};
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub static SCHEMA: crate::schema::Schema =
    crate::schema::Schema::new(include_str!("../../../schemas/lifecycle-payload.schema.json"));
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    #[serde(rename = "v")]
    pub version: u32,
    pub phase: String,
    pub execution: String,
    pub resource: String,
    /// The resource's identity beyond its name, tagged on its jobs (`DrsResource::identity`).
    #[serde(rename = "rid", default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    pub mode: Mode,
    /// Wall-clock start of the activation.
    #[serde(with = "secs")]
    pub since: DateTime<Utc>,
    /// Jobs created after this are searched for the execution's tags (DescribeJobs fromDate).
    #[serde(with = "secs")]
    pub jobs_from: DateTime<Utc>,
    #[serde(with = "secs")]
    pub deadline: DateTime<Utc>,
    /// Minutes a partition may stay unreachable before its servers count as failed.
    #[serde(rename = "graceMin", default = "default_grace")]
    pub grace_minutes: u64,
    /// "account/region", indexed by `Group::partition`.
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

/// The wave's servers in one partition (short wire names: a payload holds thousands).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Index into `Payload::partitions`.
    #[serde(rename = "p")]
    pub partition: usize,
    /// Source server ids.
    #[serde(rename = "ids")]
    pub servers: Vec<String>,
}

fn default_grace() -> u64 {
    crate::resource::recovery::DEFAULT_GRACE_MINUTES
}

/// RFC 3339 to the second, in UTC (`2026-11-30T23:30:00Z`): compact, and what DRS takes.
mod secs {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn text(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).map_err(serde::de::Error::custom)
    }
}

impl Payload {
    /// `jobs_from` as DescribeJobs takes it.
    pub fn jobs_from_text(&self) -> String {
        secs::text(&self.jobs_from)
    }

    /// `deadline` as the payload writes it, for messages.
    pub fn deadline_text(&self) -> String {
        secs::text(&self.deadline)
    }
}

impl Payload {
    pub fn parse(v: &serde_json::Value) -> anyhow::Result<Payload> {
        SCHEMA.validate(v, "lifecycle_output.Payload")?;
        let p: Payload = serde_path_to_error::deserialize(v).context("lifecycle_output.Payload")?;
        anyhow::ensure!(p.version == VERSION, "lifecycle_output.Payload.v: version {} is not {VERSION}", p.version);
        for (w, wave) in p.waves.iter().enumerate() {
            for g in &wave.groups {
                anyhow::ensure!(
                    g.partition < p.partitions.len(),
                    "lifecycle_output.Payload.waves[{w}]: partition index {} out of range",
                    g.partition
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
        self.groups.iter().map(|g| g.servers.len()).sum()
    }
}

//! A run's plan (`Payload`, `schemas/run-plan.schema.json`): what cannot be found again (the
//! waves' servers per account x region as they were when the run opened) and nothing that
//! changes: progress is read from the run's tagged DRS jobs on each check. Activate writes it
//! once into the run ledger with the run's record (`ledger/plan.rs`); every status check reads
//! it back. The platform holds only a signed reference to it (`reference.rs`). The server ids
//! are most of it, so each group writes its ids as one packed string (`payload/ids.rs`): about
//! 11.4 bytes a server with AWS's hexadecimal ids, 17 with any other; the ledger takes up to
//! 3.5 MB of plan for one run (some 300,000 servers).

mod ids;

use crate::config::Partition;
use crate::resource::{FailurePolicy, Mode, Targets};
use anyhow::Context;
use chrono::{DateTime, Utc};
pub use ids::IdsError;
use serde::{Deserialize, Serialize};

pub static SCHEMA: crate::schema::Schema = crate::schema::Schema::new(include_str!("../../../schemas/run-plan.schema.json"));
/// 2: group ids packed (`hex`/`ids` strings); 1 wrote them as a list.
pub const VERSION: u32 = 2;
/// The largest plan one run's ledger transaction takes (`ledger::plan::MAX_PLAN_BYTES`).
pub const MAX_PLAN: usize = crate::ledger::plan::MAX_PLAN_BYTES;

/// Why a plan cannot be written to the ledger: found before anything is started.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Over what one run's record takes.
    #[error(
        "the plan of {servers} servers is {bytes} bytes ({per_server:.1} a server), over the {MAX_PLAN} bytes the run ledger takes for one run; nothing was started: split the resource (by Tags or AccountId) into resources of fewer servers"
    )]
    TooLarge { bytes: usize, servers: usize, per_server: f64 },
    /// It does not serialize (a launch setting no JSON can hold).
    #[error("the plan cannot be written: {0}")]
    Unwritable(#[from] serde_json::Error),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    #[serde(rename = "v")]
    pub version: u32,
    pub phase: String,
    pub execution: String,
    pub resource: String,
    /// The resource's identity (`DrsResource::identity`): with `execution`, the run's key in
    /// the ledger; tagged on its jobs.
    #[serde(rename = "rid")]
    pub resource_id: String,
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
    /// Servers left out of a real recovery because they already run as recovery instances of
    /// an earlier one (`recovered.rs`), as the answers name them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<String>,
    /// What the selection left out (`left_out.rs`), for the run's report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<super::left_out::LeftOut>,
    /// The resource's objectives (TargetRtoMinutes, TargetRpoMinutes), judged in the report.
    #[serde(default, skip_serializing_if = "Targets::is_empty")]
    pub targets: Targets,
    /// `RecoverBefore`, when the run recovers a point in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recover_before: Option<DateTime<Utc>>,
    /// The recovery snapshot each server launches, chosen once when the run was planned
    /// (`pitr/`), by source server id (some 75 bytes a server); a server of a point-in-time
    /// run without one launches its latest data (`onNotReady: warn`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub points: std::collections::BTreeMap<String, crate::pitr::RecoveryPoint>,
    /// Whether a server whose snapshot DRS no longer keeps when its wave starts, with none
    /// left from before the time, launches its latest data (`onNotReady: warn`) or is given up.
    #[serde(rename = "pitLatest", default, skip_serializing_if = "std::ops::Not::not")]
    pub latest_without_point: bool,
    /// `RelaunchRecovered: true`: a real recovery launches again a server that already runs as
    /// a recovery instance of another real recovery. Absent: it does not, whether that
    /// instance was up when the run was planned (`recovered`) or came up since (`start.rs`).
    #[serde(rename = "relaunchRecovered", default, skip_serializing_if = "std::ops::Not::not")]
    pub relaunch_recovered: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WavePayload {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<String>,
    pub policy: FailurePolicy,
    pub groups: Vec<Group>,
    /// The waves this one waits for (indexes of earlier waves). Absent in a plan written
    /// before waves formed a graph: the wave before it (`WavePayload::depends_on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<usize>>,
    /// The wave's objectives: its own, else the resource's.
    #[serde(default, skip_serializing_if = "Targets::is_empty")]
    pub targets: Targets,
}

/// The wave's servers in one partition; on the wire `{"p": 3, "hex": "..."}` (`ids.rs`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "ids::Wire")]
pub struct Group {
    /// Index into `Payload::partitions`.
    pub partition: usize,
    /// Source server ids (`s-...`).
    pub servers: Vec<String>,
}

fn default_grace() -> u64 {
    crate::resource::recovery::DEFAULT_GRACE_MINUTES
}

impl TryFrom<ids::Wire> for Group {
    type Error = IdsError;
    fn try_from(w: ids::Wire) -> Result<Group, IdsError> {
        Ok(Group { partition: w.partition, servers: ids::decode(&w)? })
    }
}

/// An id not in DRS's shape fails the write (`check_size`, before anything starts).
impl Serialize for Group {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ids::encode(self.partition, &self.servers).map_err(serde::ser::Error::custom)?.serialize(s)
    }
}

/// RFC 3339 to the second, in UTC (`2026-11-30T23:30:00Z`): compact, and what DRS takes.
mod secs {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::time::secs(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).map_err(serde::de::Error::custom)
    }
}

impl Payload {
    /// The tags that find this run's jobs.
    pub fn run(&self) -> super::tags::RunTags<'_> {
        super::tags::RunTags { execution: &self.execution, identity: &self.resource_id }
    }

    /// The run's key in the ledger.
    pub fn key(&self) -> crate::ledger::RunKey {
        crate::ledger::RunKey::new(&self.resource_id, &self.execution)
    }

    /// `jobs_from` as DescribeJobs takes it.
    pub fn jobs_from_text(&self) -> String {
        crate::time::secs(&self.jobs_from)
    }

    /// `deadline` as the payload writes it, for messages.
    pub fn deadline_text(&self) -> String {
        crate::time::secs(&self.deadline)
    }
}

impl Payload {
    /// The plan as the ledger holds it (`plan.*` in messages).
    pub fn parse(v: &serde_json::Value) -> anyhow::Result<Payload> {
        // Before the schema: its `const` would name the field but not the cause.
        if let Some(old) = v.get("v").and_then(serde_json::Value::as_u64).filter(|n| *n != VERSION as u64) {
            anyhow::bail!(
                "plan.v: version {old} was written by another release of the module, which reads version {VERSION}; start a new run"
            );
        }
        SCHEMA.validate(v, "plan")?;
        let p: Payload = serde_path_to_error::deserialize(v).context("plan")?;
        anyhow::ensure!(p.version == VERSION, "plan.v: version {} is not {VERSION}", p.version);
        for (i, text) in p.partitions.iter().enumerate() {
            text.parse::<Partition>().with_context(|| format!("plan.partitions[{i}]"))?;
        }
        for (w, wave) in p.waves.iter().enumerate() {
            for g in &wave.groups {
                anyhow::ensure!(
                    g.partition < p.partitions.len(),
                    "plan.waves[{w}]: partition index {} out of range",
                    g.partition
                );
            }
        }
        Ok(p)
    }

    pub fn partition(&self, p: usize) -> anyhow::Result<Partition> {
        let text = self.partitions.get(p).context("partition index out of range")?;
        Ok(text.parse::<Partition>()?)
    }

    pub fn server_count(&self) -> usize {
        self.waves.iter().map(WavePayload::server_count).sum()
    }

    /// The plan's text as the ledger holds it, or `TooLarge`: written before anything starts,
    /// so a plan too large for one run starts nothing.
    pub fn text(&self) -> Result<String, PayloadError> {
        let text = serde_json::to_string(self)?;
        let (bytes, servers) = (text.len(), self.server_count());
        if bytes > MAX_PLAN {
            return Err(PayloadError::TooLarge { bytes, servers, per_server: bytes as f64 / servers.max(1) as f64 });
        }
        Ok(text)
    }
}

impl Payload {
    /// The waves wave `w` waits for: earlier waves only (a plan's order puts each wave after
    /// those it depends on; an index that is not earlier is not followed).
    pub fn depends_on(&self, w: usize) -> Vec<usize> {
        match &self.waves[w].after {
            Some(after) => after.iter().copied().filter(|d| *d < w).collect(),
            None => w.checked_sub(1).into_iter().collect(),
        }
    }

    /// The waves that wait for wave `w`.
    pub fn dependents(&self, w: usize) -> Vec<usize> {
        (w + 1..self.waves.len()).filter(|d| self.depends_on(*d).contains(&w)).collect()
    }
}

impl WavePayload {
    pub fn server_count(&self) -> usize {
        self.groups.iter().map(|g| g.servers.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A payload of `n` servers per group over 2 partitions and 2 waves; `id` names server `i`.
    fn payload(n: usize, id: impl Fn(usize) -> String) -> Payload {
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap();
        let mut next = 0;
        let mut group = |partition| {
            let servers = (0..n).map(|_| id(post_inc(&mut next))).collect();
            Group { partition, servers }
        };
        let waves = ["db", "web"]
            .iter()
            .map(|name| WavePayload {
                name: name.to_string(),
                pause: None,
                policy: FailurePolicy::Continue,
                groups: vec![group(0), group(1)],
                after: None,
                targets: Targets::default(),
            })
            .collect();
        Payload {
            version: VERSION,
            phase: "activate".into(),
            execution: "run-1".into(),
            resource: "Everything".into(),
            resource_id: "0123456789abcdef".into(),
            mode: Mode::Drill,
            since: t,
            jobs_from: t,
            deadline: t,
            grace_minutes: 15,
            partitions: vec!["200000000001/us-east-1".into(), "200000000002/us-west-2".into()],
            waves,
            tenant: None,
            hooks: vec![],
            launch: None,
            recovered: vec![],
            left_out: vec![],
            targets: Targets::default(),
            recover_before: None,
            points: Default::default(),
            latest_without_point: false,
            relaunch_recovered: false,
        }
    }

    fn post_inc(n: &mut usize) -> usize {
        *n += 1;
        *n - 1
    }

    fn hex_id(i: usize) -> String {
        format!("s-{:017x}", 0x3b9_4010_0000_0000_u64 + i as u64 * 104_729)
    }

    fn alnum_id(i: usize) -> String {
        format!("s-Zq{:015}", i)
    }

    #[test]
    fn a_payload_comes_back_as_it_was_written_through_the_schema() {
        for p in [payload(7, hex_id), payload(7, alnum_id), payload(0, hex_id)] {
            let v = serde_json::to_value(&p).unwrap();
            assert_eq!(Payload::parse(&v).unwrap(), p, "{v}");
        }
    }

    #[test]
    fn hex_ids_cost_about_eleven_bytes_a_server_and_others_seventeen() {
        // The list of version 1 cost 22 bytes a server ("s-" + 17, quotes, a comma).
        let per_server = |p: &Payload| p.text().unwrap().len() as f64 / p.server_count() as f64;
        let (hex, alnum) = (payload(2500, hex_id), payload(2500, alnum_id));
        assert!((11.3..11.6).contains(&per_server(&hex)), "{}", per_server(&hex));
        assert!((17.0..17.3).contains(&per_server(&alnum)), "{}", per_server(&alnum));
    }

    #[test]
    fn an_older_version_is_refused_naming_the_field_and_the_cause() {
        let mut v = serde_json::to_value(payload(1, hex_id)).unwrap();
        v["v"] = 1.into();
        let err = format!("{:#}", Payload::parse(&v).unwrap_err());
        assert!(err.contains("plan.v") && err.contains("version 1") && err.contains("another release"), "{err}");
    }

    #[test]
    fn a_damaged_group_is_refused_naming_its_place() {
        let mut v = serde_json::to_value(payload(2, alnum_id)).unwrap();
        v["waves"][1]["groups"][0]["ids"] = "Zq0000000000000001Zq".into();
        let err = format!("{:#}", Payload::parse(&v).unwrap_err());
        assert!(err.contains("waves"), "{err}");
    }

    #[test]
    fn the_size_check_passes_under_the_limit_and_names_the_size_over_it() {
        let fits = payload(50_000, hex_id);
        assert!(fits.text().unwrap().len() < MAX_PLAN);
        // 4 x 60,000 alphanumeric ids: 17 bytes each, 4,080,000 bytes.
        match payload(60_000, alnum_id).text() {
            Err(PayloadError::TooLarge { bytes, servers, .. }) => {
                assert_eq!(servers, 240_000);
                assert!(bytes > MAX_PLAN, "{bytes}");
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn an_id_that_cannot_be_packed_fails_the_write_not_the_read() {
        let p = payload(1, |_| "i-0123456789abcdef0".into());
        assert!(matches!(p.text(), Err(PayloadError::Unwritable(_))));
    }
}

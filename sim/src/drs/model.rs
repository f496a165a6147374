//! DRS state of one account x region: source servers, jobs, recovery instances, and how
//! they render in the shapes of the service model.

use crate::clock::{iso, iso_duration};
use crate::fleet::{LaunchOutcome, Tags};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct SourceServer {
    pub id: String,
    pub arn: String,
    pub hostname: String,
    pub fqdn: Option<String>,
    pub tags: Tags,
    pub origin_account: String,
    pub origin_region: String,
    pub origin_az: String,
    pub origin_instance_id: Option<String>,
    pub instance_type: String,
    pub private_ip: Option<String>,
    pub replication_state: String,
    pub lag_seconds: u64,
    pub launch_seconds: u64,
    pub launch_outcome: LaunchOutcome,
    pub failure_reason: Option<String>,
    pub added: DateTime<Utc>,
    pub recovery_instance_id: Option<String>,
    pub last_launch: Option<LastLaunch>,
    pub direction: &'static str,
    pub reversed_arn: Option<String>,
    pub launch_config: Map<String, Value>,
    pub replication_config: Map<String, Value>,
    /// When replication (re)started: its state then moves INITIATING -> INITIAL_SYNC -> CONTINUOUS.
    pub sync_started: Option<DateTime<Utc>>,
    /// The first point a recovery snapshot can hold (`snapshots.rs`).
    pub replicating_since: DateTime<Utc>,
    /// Set on an extended source server (CreateExtendedSourceServer): the staging account's
    /// server it extends (`staging.rs`).
    pub staging: Option<StagingOrigin>,
}

/// The staging account's source server an extended source server stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagingOrigin {
    pub account: String,
    pub arn: String,
}

#[derive(Debug, Clone)]
pub struct LastLaunch {
    pub job_id: String,
    pub drill: bool,
    pub at: DateTime<Utc>,
    pub status: &'static str,
}

impl SourceServer {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or_default()
    }

    /// The SourceServer shape of the service model, borrowed from this server; serialized
    /// directly (DescribeSourceServers is the hottest path of the simulator).
    pub fn view(&self) -> view::SourceServer<'_> {
        use view::*;
        let ip = self.private_ip.as_deref();
        SourceServer {
            source_server_id: &self.id,
            arn: &self.arn,
            tags: &self.tags,
            recovery_instance_id: self.recovery_instance_id.as_deref(),
            last_launch_result: match &self.last_launch {
                None => "NOT_STARTED",
                Some(l) => match l.status {
                    "LAUNCHED" => "SUCCEEDED",
                    "FAILED" => "FAILED",
                    _ => "PENDING",
                },
            },
            data_replication_info: DataReplicationInfo {
                data_replication_state: &self.replication_state,
                lag_duration: iso_duration(self.lag_seconds),
                replicated_disks: [Disk {
                    device_name: "/dev/xvda",
                    total_storage_bytes: DISK,
                    replicated_storage_bytes: DISK,
                    rescanned_storage_bytes: 0,
                    backlogged_storage_bytes: 0,
                }],
                staging_availability_zone: &self.origin_az,
            },
            life_cycle: LifeCycle {
                added_to_service_date_time: iso(self.added),
                last_launch: self.last_launch.as_ref().map(|l| LastLaunchView {
                    initiated: Initiated {
                        job_id: &l.job_id,
                        r#type: if l.drill { "DRILL" } else { "RECOVERY" },
                        api_call_date_time: iso(l.at),
                    },
                    status: l.status,
                }),
            },
            source_properties: SourceProperties {
                identification_hints: Hints {
                    hostname: &self.hostname,
                    fqdn: self.fqdn.as_deref(),
                    aws_instance_id: self.origin_instance_id.as_deref(),
                },
                network_interfaces: ip
                    .map(|ip| vec![Nic { ips: [ip], is_primary: true, mac_address: "02:00:00:00:00:01" }])
                    .unwrap_or_default(),
                recommended_instance_type: &self.instance_type,
                os: Os { full_string: "Amazon Linux 2023" },
                cpus: [Cpu { cores: 2, model_name: "Intel(R) Xeon(R)" }],
                ram_bytes: DISK,
                disks: [SourceDisk { device_name: "/dev/xvda", bytes: DISK }],
            },
            source_cloud_properties: Cloud {
                origin_account_id: &self.origin_account,
                origin_region: &self.origin_region,
                origin_availability_zone: &self.origin_az,
            },
            staging_area: match &self.staging {
                // The account the server replicates in: its own, or the staging account's.
                None => Staging {
                    status: "NOT_EXTENDED",
                    staging_account_id: self.arn.split(':').nth(4).unwrap_or_default(),
                    staging_source_server_arn: None,
                },
                Some(o) => {
                    Staging { status: "EXTENDED", staging_account_id: &o.account, staging_source_server_arn: Some(&o.arn) }
                }
            },
            replication_direction: self.direction,
            reversed_direction_source_server_arn: self.reversed_arn.as_deref(),
        }
    }
}

/// Borrowed, directly serialized forms of the DRS shapes on the hot path.
pub mod view {
    use serde::Serialize;

    pub const DISK: u64 = 8 * 1024 * 1024 * 1024;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SourceServer<'a> {
        #[serde(rename = "sourceServerID")]
        pub source_server_id: &'a str,
        pub arn: &'a str,
        pub tags: &'a crate::fleet::Tags,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub recovery_instance_id: Option<&'a str>,
        pub last_launch_result: &'static str,
        pub data_replication_info: DataReplicationInfo<'a>,
        pub life_cycle: LifeCycle<'a>,
        pub source_properties: SourceProperties<'a>,
        pub source_cloud_properties: Cloud<'a>,
        pub staging_area: Staging<'a>,
        pub replication_direction: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub reversed_direction_source_server_arn: Option<&'a str>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct DataReplicationInfo<'a> {
        pub data_replication_state: &'a str,
        pub lag_duration: String,
        pub replicated_disks: [Disk; 1],
        pub staging_availability_zone: &'a str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Disk {
        pub device_name: &'static str,
        pub total_storage_bytes: u64,
        pub replicated_storage_bytes: u64,
        pub rescanned_storage_bytes: u64,
        pub backlogged_storage_bytes: u64,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct LifeCycle<'a> {
        pub added_to_service_date_time: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub last_launch: Option<LastLaunchView<'a>>,
    }

    #[derive(Serialize)]
    pub struct LastLaunchView<'a> {
        pub initiated: Initiated<'a>,
        pub status: &'static str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Initiated<'a> {
        #[serde(rename = "jobID")]
        pub job_id: &'a str,
        pub r#type: &'static str,
        pub api_call_date_time: String,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SourceProperties<'a> {
        pub identification_hints: Hints<'a>,
        pub network_interfaces: Vec<Nic<'a>>,
        pub recommended_instance_type: &'a str,
        pub os: Os,
        pub cpus: [Cpu; 1],
        pub ram_bytes: u64,
        pub disks: [SourceDisk; 1],
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Hints<'a> {
        pub hostname: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub fqdn: Option<&'a str>,
        #[serde(rename = "awsInstanceID", skip_serializing_if = "Option::is_none")]
        pub aws_instance_id: Option<&'a str>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Nic<'a> {
        pub ips: [&'a str; 1],
        pub is_primary: bool,
        pub mac_address: &'static str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Os {
        pub full_string: &'static str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Cpu {
        pub cores: u32,
        pub model_name: &'static str,
    }

    #[derive(Serialize)]
    pub struct SourceDisk {
        #[serde(rename = "deviceName")]
        pub device_name: &'static str,
        pub bytes: u64,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Cloud<'a> {
        #[serde(rename = "originAccountID")]
        pub origin_account_id: &'a str,
        pub origin_region: &'a str,
        pub origin_availability_zone: &'a str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Staging<'a> {
        pub status: &'static str,
        #[serde(rename = "stagingAccountID")]
        pub staging_account_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub staging_source_server_arn: Option<&'a str>,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Launch { drill: bool },
    Terminate,
}

#[derive(Debug, Clone)]
pub struct JobServer {
    pub source_server_id: String,
    pub recovery_instance_id: Option<String>,
    pub launch_status: &'static str,
    /// When the recovery snapshot StartRecovery named was taken (None: the latest data).
    pub snapshot_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub arn: String,
    pub kind: JobKind,
    pub created: DateTime<Utc>,
    pub status: &'static str,
    pub tags: Tags,
    pub servers: Vec<JobServer>,
    pub log: Vec<Value>,
    /// Scheduled events, sorted by time; `next` is the first not yet applied.
    pub timeline: Vec<(DateTime<Utc>, JobEvent)>,
    pub next: usize,
}

#[derive(Debug, Clone)]
pub enum JobEvent {
    Start,
    Log { server: usize, event: &'static str },
    LaunchStart { server: usize },
    Launched { server: usize },
    LaunchFailed { server: usize, reason: String },
    Terminated { server: usize },
    End,
}

impl Job {
    pub fn is_active(&self) -> bool {
        self.status != "COMPLETED"
    }

    /// When the job completed (its JOB_END event); none while it is PENDING or STARTED.
    pub fn ended(&self) -> Option<DateTime<Utc>> {
        if self.is_active() {
            return None;
        }
        self.timeline.iter().find(|(_, ev)| matches!(ev, JobEvent::End)).map(|(t, _)| *t)
    }

    pub fn to_json(&self) -> Value {
        let (kind, initiated_by) = match self.kind {
            JobKind::Launch { drill: true } => ("LAUNCH", "START_DRILL"),
            JobKind::Launch { drill: false } => ("LAUNCH", "START_RECOVERY"),
            JobKind::Terminate => ("TERMINATE", "TERMINATE_RECOVERY_INSTANCES"),
        };
        let servers: Vec<Value> = self
            .servers
            .iter()
            .map(|s| {
                let mut v = json!({"sourceServerID": s.source_server_id, "launchStatus": s.launch_status,
                    "launchActionsStatus": {"runs": []}});
                if let Some(r) = &s.recovery_instance_id {
                    v["recoveryInstanceID"] = r.clone().into();
                }
                v
            })
            .collect();
        let mut v = json!({
            "jobID": self.id,
            "arn": self.arn,
            "type": kind,
            "initiatedBy": initiated_by,
            "creationDateTime": iso(self.created),
            "status": self.status,
            "participatingServers": servers,
            "participatingResources": [],
            "tags": self.tags,
        });
        if let Some(t) = self.ended() {
            v["endDateTime"] = iso(t).into();
        }
        v
    }
}

#[derive(Debug, Clone)]
pub struct RecoveryInstance {
    pub id: String,
    pub arn: String,
    pub source_server_id: String,
    pub job_id: String,
    pub drill: bool,
    pub state: &'static str,
    pub tags: Tags,
    pub created: DateTime<Utc>,
    /// The point in time of the data it was launched from (`launched_point`).
    pub point_in_time: DateTime<Utc>,
    pub origin_az: String,
    pub hostname: String,
    /// Set once ReverseReplication started replicating this instance back.
    pub failback_started: Option<DateTime<Utc>>,
    pub replication_state: Option<&'static str>,
    /// The recovery snapshot's time, when the launch named one.
    pub snapshot_at: Option<DateTime<Utc>>,
    /// The address of its primary network interface.
    pub private_ip: Option<String>,
}

/// The point in time of the data a launch asked for at `requested` brings up: the latest
/// point, which is the server's last consistent replicated point then, its replication lag
/// behind. (One function, so that a launch from an older point-in-time snapshot changes here.)
pub fn launched_point(server: &SourceServer, requested: DateTime<Utc>) -> DateTime<Utc> {
    let lag = i64::try_from(server.lag_seconds).ok().and_then(chrono::Duration::try_seconds);
    lag.and_then(|lag| requested.checked_sub_signed(lag)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl RecoveryInstance {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "recoveryInstanceID": self.id,
            "ec2InstanceID": self.id,
            "ec2InstanceState": self.state,
            "jobID": self.job_id,
            "sourceServerID": self.source_server_id,
            "arn": self.arn,
            "tags": self.tags,
            "isDrill": self.drill,
            "pointInTimeSnapshotDateTime": iso(self.snapshot_at.unwrap_or(self.point_in_time)),
            "originEnvironment": "AWS",
            "originAvailabilityZone": self.origin_az,
            "recoveryInstanceProperties": {
                "identificationHints": {"hostname": self.hostname},
                "lastUpdatedDateTime": iso(self.created),
                "networkInterfaces": self.private_ip.iter().map(|ip| json!({"ips": [ip], "isPrimary": true})).collect::<Vec<_>>(),
            },
        });
        if let Some(state) = self.replication_state {
            v["dataReplicationInfo"] = json!({"dataReplicationState": state, "replicatedDisks": []});
        }
        v
    }
}

/// DRS in one account x region.
#[derive(Debug, Default)]
pub struct DrsState {
    pub servers: BTreeMap<String, SourceServer>,
    /// In creation order (DescribeJobs answers newest first).
    pub jobs: Vec<Job>,
    pub recovery_instances: BTreeMap<String, RecoveryInstance>,
    /// Recovery plans, their executions and client tokens (`plans/`).
    pub plans: super::plans::PlanState,
}

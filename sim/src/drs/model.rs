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
        let mut hints = json!({"hostname": self.hostname});
        if let Some(f) = &self.fqdn {
            hints["fqdn"] = f.clone().into();
        }
        if let Some(i) = &self.origin_instance_id {
            hints["awsInstanceID"] = i.clone().into();
        }
        let mut v = json!({
            "sourceServerID": self.id,
            "arn": self.arn,
            "tags": self.tags,
            "lastLaunchResult": match &self.last_launch {
                None => "NOT_STARTED",
                Some(l) => match l.status { "LAUNCHED" => "SUCCEEDED", "FAILED" => "FAILED", _ => "PENDING" },
            },
            "dataReplicationInfo": {
                "dataReplicationState": self.replication_state,
                "lagDuration": iso_duration(self.lag_seconds),
                "replicatedDisks": [{"deviceName": "/dev/xvda", "totalStorageBytes": 8589934592u64,
                    "replicatedStorageBytes": 8589934592u64, "rescannedStorageBytes": 0, "backloggedStorageBytes": 0}],
                "stagingAvailabilityZone": self.origin_az,
            },
            "lifeCycle": {"addedToServiceDateTime": iso(self.added)},
            "sourceProperties": {
                "identificationHints": hints,
                "networkInterfaces": self.private_ip.as_ref().map(|ip| vec![json!({"ips": [ip], "isPrimary": true, "macAddress": "02:00:00:00:00:01"})]).unwrap_or_default(),
                "recommendedInstanceType": self.instance_type,
                "os": {"fullString": "Amazon Linux 2023"},
                "cpus": [{"cores": 2, "modelName": "Intel(R) Xeon(R)"}],
                "ramBytes": 8589934592u64,
                "disks": [{"deviceName": "/dev/xvda", "bytes": 8589934592u64}],
            },
            "sourceCloudProperties": {
                "originAccountID": self.origin_account,
                "originRegion": self.origin_region,
                "originAvailabilityZone": self.origin_az,
            },
            "stagingArea": {"status": "NOT_EXTENDED"},
            "replicationDirection": self.direction,
        });
        if let Some(r) = &self.recovery_instance_id {
            v["recoveryInstanceId"] = r.clone().into();
        }
        if let Some(a) = &self.reversed_arn {
            v["reversedDirectionSourceServerArn"] = a.clone().into();
        }
        if let Some(l) = &self.last_launch {
            v["lifeCycle"]["lastLaunch"] = json!({
                "initiated": {"jobID": l.job_id, "type": if l.drill { "DRILL" } else { "RECOVERY" }, "apiCallDateTime": iso(l.at)},
                "status": l.status,
            });
        }
        v
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
        json!({
            "jobID": self.id,
            "arn": self.arn,
            "type": kind,
            "initiatedBy": initiated_by,
            "creationDateTime": iso(self.created),
            "status": self.status,
            "participatingServers": servers,
            "participatingResources": [],
            "tags": self.tags,
        })
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
    pub origin_az: String,
    pub hostname: String,
    /// Set once ReverseReplication started replicating this instance back.
    pub failback_started: Option<DateTime<Utc>>,
    pub replication_state: Option<&'static str>,
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
            "pointInTimeSnapshotDateTime": iso(self.created),
            "originEnvironment": "AWS",
            "originAvailabilityZone": self.origin_az,
            "recoveryInstanceProperties": {
                "identificationHints": {"hostname": self.hostname},
                "lastUpdatedDateTime": iso(self.created),
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
}

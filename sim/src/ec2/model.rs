//! EC2 state of one account x region: instances (the source machines and the recovery
//! instances DRS launches) and launch templates.

use crate::fleet::Tags;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub instance_type: String,
    pub state: String,
    pub az: String,
    pub tags: Tags,
    pub private_ip: Option<String>,
    pub launch_time: DateTime<Utc>,
    pub image_id: String,
}

impl Instance {
    /// EC2's numeric state code for a state name.
    pub fn state_code(&self) -> u16 {
        match self.state.as_str() {
            "pending" => 0,
            "running" => 16,
            "shutting-down" => 32,
            "terminated" => 48,
            "stopping" => 64,
            _ => 80,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LaunchTemplateVersion {
    pub number: u64,
    pub description: Option<String>,
    /// `LaunchTemplateData.*` parameters, flattened as the ec2Query protocol sends them
    /// (`InstanceType`, `NetworkInterface.1.SubnetId`, ...).
    pub data: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct LaunchTemplate {
    pub id: String,
    pub name: String,
    pub default_version: u64,
    pub versions: Vec<LaunchTemplateVersion>,
    /// ClientToken -> (the version it created, a fingerprint of the request's parameters).
    pub client_tokens: HashMap<String, (u64, String)>,
    pub created: DateTime<Utc>,
    pub tags: Tags,
}

impl LaunchTemplate {
    pub fn latest(&self) -> u64 {
        self.versions.last().map(|v| v.number).unwrap_or(1)
    }
}

#[derive(Debug, Default)]
pub struct Ec2State {
    pub instances: BTreeMap<String, Instance>,
    pub launch_templates: BTreeMap<String, LaunchTemplate>,
}

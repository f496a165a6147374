//! EC2 state of one account x region: instances (the source machines and the recovery
//! instances DRS launches), launch templates, and the network a launch lands in (a default
//! VPC's subnets and security group, as every region of a new account has, the subnets and
//! groups a fleet adds, and the network interfaces that hold the subnets' addresses).

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
    /// The subnet and VPC of its primary network interface, when it has one here.
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
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

/// A subnet of the partition's VPC.
#[derive(Debug, Clone)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub az: String,
    pub cidr: String,
    pub default_for_az: bool,
}

/// A security group of the partition's VPC.
#[derive(Debug, Clone)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
}

/// A network interface: one private address of a subnet, held by an instance (its primary
/// interface, deleted with it) or on its own (CreateNetworkInterface).
#[derive(Debug, Clone)]
pub struct NetworkInterface {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub az: String,
    pub private_ip: String,
    pub description: String,
    pub groups: Vec<String>,
    /// The instance it is attached to as device 0.
    pub instance_id: Option<String>,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Ec2State {
    pub instances: BTreeMap<String, Instance>,
    pub launch_templates: BTreeMap<String, LaunchTemplate>,
    pub subnets: BTreeMap<String, Subnet>,
    pub security_groups: BTreeMap<String, SecurityGroup>,
    pub network_interfaces: BTreeMap<String, NetworkInterface>,
}

impl Ec2State {
    /// A partition's EC2 as a new account's region has it: a default VPC with a default
    /// subnet in zones a and b and its `default` security group, their ids stable per account
    /// and region (`default_network_ids`), so a fleet file and a test can name them.
    pub fn with_default_vpc(account: &str, region: &str) -> Ec2State {
        let ids = default_network_ids(account, region);
        let mut out = Ec2State::default();
        for (i, (az, id)) in ["a", "b"].iter().zip(&ids.subnets).enumerate() {
            out.subnets.insert(
                id.clone(),
                Subnet {
                    id: id.clone(),
                    vpc_id: ids.vpc.clone(),
                    az: format!("{region}{az}"),
                    cidr: format!("172.31.{}.0/20", i * 16),
                    default_for_az: true,
                },
            );
        }
        out.security_groups.insert(
            ids.security_group.clone(),
            SecurityGroup {
                id: ids.security_group.clone(),
                name: "default".into(),
                description: "default VPC security group".into(),
                vpc_id: ids.vpc,
            },
        );
        out
    }
}

/// The ids of a partition's default VPC, its two default subnets and its default group.
pub struct NetworkIds {
    pub vpc: String,
    pub subnets: [String; 2],
    pub security_group: String,
}

pub fn default_network_ids(account: &str, region: &str) -> NetworkIds {
    let id = |prefix: &str, what: &str| format!("{prefix}-{}", crate::ids::stable_hex(&format!("{account}/{region}/{what}"), 17));
    NetworkIds {
        vpc: id("vpc", "vpc"),
        subnets: [id("subnet", "subnet-a"), id("subnet", "subnet-b")],
        security_group: id("sg", "default-sg"),
    }
}

//! The network an account of the fleet has besides each region's default VPC, subnet and
//! security group: the subnets and security groups of a recovery network, as the fleet file
//! declares them (`accounts[].subnets`, `accounts[].securityGroups`).

use super::Account;
use crate::ec2::model::{default_network_ids, SecurityGroup, Subnet};
use anyhow::bail;
use serde::{Deserialize, Serialize};

/// A subnet of an account: its id, region, IPv4 block and zone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubnetSpec {
    pub subnet_id: String,
    pub region: String,
    pub cidr_block: String,
    /// Default: the region's zone `a`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Default: the region's default VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
}

impl SubnetSpec {
    /// The subnet of `account` it declares, in the region's default VPC and zone `a` unless
    /// it names others.
    pub fn subnet(&self, account: &str) -> Subnet {
        Subnet {
            id: self.subnet_id.clone(),
            vpc_id: self.vpc_id.clone().unwrap_or_else(|| default_network_ids(account, &self.region).vpc),
            az: self.availability_zone.clone().unwrap_or_else(|| format!("{}a", self.region)),
            cidr: self.cidr_block.clone(),
            default_for_az: false,
        }
    }
}

/// A security group of an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityGroupSpec {
    pub group_id: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

impl SecurityGroupSpec {
    /// The security group of `account` it declares, in the region's default VPC, named by
    /// its id unless it gives a name.
    pub fn group(&self, account: &str) -> SecurityGroup {
        SecurityGroup {
            id: self.group_id.clone(),
            name: self.group_name.clone().unwrap_or_else(|| self.group_id.clone()),
            description: "a fleet's security group".into(),
            vpc_id: default_network_ids(account, &self.region).vpc,
        }
    }
}

/// Each subnet's block is an IPv4 block that EC2 takes for a subnet (/16 to /28).
pub(super) fn check_subnets(a: &Account) -> anyhow::Result<()> {
    for (i, n) in a.subnets.iter().enumerate() {
        let block = crate::ec2::addresses::Cidr::parse(&n.cidr_block);
        if block.is_none_or(|c| !(16..=28).contains(&c.prefix)) {
            bail!(
                "accounts {} subnets[{i}] ({}): cidrBlock {} is not an IPv4 block of /16 to /28",
                a.account_id,
                n.subnet_id,
                n.cidr_block
            );
        }
    }
    Ok(())
}

//! A resource's `LaunchSettings`: what its recovery instances should launch with, in DRS's
//! launch configuration and in the EC2 launch template DRS launches from. A subnet or a
//! security group lives in one account and region, so `SubnetId` and `SecurityGroupIds` take
//! one value for all, or an object keyed by `<account>/<region>` or `<region>` (the more
//! specific key wins; a server whose partition has no entry keeps what it has). `Servers`
//! overrides the template fields of one server (by host name or source server id), and gives
//! it a static private address (`servers.rs`).

use super::servers::{ServerKey, ServerSettings};
use crate::resource::values::{is_account, is_region};
use crate::selection::ServerRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Why a LaunchSettings value is refused: the field under `LaunchSettings` and the reason.
pub type Refusal = (String, String);

fn refuse<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T, Refusal> {
    Err((field.into(), reason.into()))
}

/// One value for every partition, or values by `<account>/<region>` or `<region>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerPartition<T> {
    All(T),
    By(BTreeMap<String, T>),
}

impl<T: Clone> PerPartition<T> {
    pub fn get(&self, account: &str, region: &str) -> Option<T> {
        match self {
            PerPartition::All(v) => Some(v.clone()),
            PerPartition::By(m) => m.get(&format!("{account}/{region}")).or_else(|| m.get(region)).cloned(),
        }
    }

    fn values(&self) -> Vec<&T> {
        match self {
            PerPartition::All(v) => vec![v],
            PerPartition::By(m) => m.values().collect(),
        }
    }

    fn keys(&self) -> Vec<&String> {
        match self {
            PerPartition::All(_) => vec![],
            PerPartition::By(m) => m.keys().collect(),
        }
    }
}

/// Launch settings of one server: what it should have (`Desired::for_partition`: `None` is
/// "not asked"), or what it has (`Current::settings`: `None` is "unset").
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Settings {
    pub copy_private_ip: Option<bool>,
    pub copy_tags: Option<bool>,
    pub launch_disposition: Option<String>,
    pub right_sizing: Option<String>,
    pub os_byol: Option<bool>,
    pub instance_type: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_ids: Option<Vec<String>>,
    /// The private address of the template's first network interface.
    pub private_ip_address: Option<String>,
}

impl Settings {
    pub fn wants_template(&self) -> bool {
        self.instance_type.is_some()
            || self.subnet_id.is_some()
            || self.security_group_ids.is_some()
            || self.private_ip_address.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Desired {
    // DRS launch configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_private_ip: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_tags: Option<bool>,
    /// STARTED or STOPPED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_disposition: Option<String>,
    /// NONE, BASIC or IN_AWS (targetInstanceTypeRightSizingMethod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_sizing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_byol: Option<bool>,
    // EC2 launch template (its default version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<PerPartition<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<PerPartition<Vec<String>>>,
    /// Per server, by host name (`[<account>|<region>|<account>/<region>:]<name>`) or source
    /// server id: its own template fields and static private address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<BTreeMap<String, ServerSettings>>,
}

impl Desired {
    pub fn is_empty(&self) -> bool {
        *self == Desired::default()
    }

    /// What every server in this account and region should have, before per-server entries.
    pub fn for_partition(&self, account: &str, region: &str) -> Settings {
        Settings {
            copy_private_ip: self.copy_private_ip,
            copy_tags: self.copy_tags,
            launch_disposition: self.launch_disposition.clone(),
            right_sizing: self.right_sizing.clone(),
            os_byol: self.os_byol,
            instance_type: self.instance_type.clone(),
            subnet_id: self.subnet_id.as_ref().and_then(|s| s.get(account, region)),
            security_group_ids: self.security_group_ids.as_ref().and_then(|g| g.get(account, region)),
            private_ip_address: None,
        }
    }

    /// What one server should have: its partition's settings, then its `Servers` entry. A
    /// static address rules out DRS copying the source's (copyPrivateIp, which would
    /// overwrite it): the server is then to have copyPrivateIp false.
    pub fn for_server(&self, s: &ServerRef) -> Settings {
        let mut out = self.for_partition(&s.account, &s.region);
        if let Some((_, own)) = self.entry_for(s) {
            own.apply(&mut out);
        }
        if out.private_ip_address.is_some() && out.copy_private_ip.is_none() {
            out.copy_private_ip = Some(false);
        }
        out
    }

    /// The `Servers` entry that names `s`, and its key: a source server id before a
    /// qualified host name before a bare one (the first in key order among equals).
    pub fn entry_for(&self, s: &ServerRef) -> Option<(&String, &ServerSettings)> {
        let servers = self.servers.as_ref()?;
        servers
            .iter()
            .filter_map(|(k, v)| {
                let key = ServerKey::parse(k).ok()?;
                key.matches(s).then_some((key.rank(), k, v))
            })
            .min_by_key(|(rank, k, _)| (*rank, *k))
            .map(|(_, k, v)| (k, v))
    }

    /// The checks that span fields or need more than a type (ids, keys by partition and by
    /// server); a refusal names its field under `LaunchSettings`.
    pub(crate) fn check(&self) -> Result<(), Refusal> {
        if let Some(d) = &self.launch_disposition {
            if !["STARTED", "STOPPED"].contains(&d.as_str()) {
                return refuse("LaunchDisposition", format!("'{d}' is not STARTED or STOPPED"));
            }
        }
        if let Some(r) = &self.right_sizing {
            if !["NONE", "BASIC", "IN_AWS"].contains(&r.as_str()) {
                return refuse("RightSizing", format!("'{r}' is not NONE, BASIC or IN_AWS"));
            }
        }
        if self.instance_type.is_some() && self.right_sizing.as_deref() != Some("NONE") {
            return refuse(
                "InstanceType",
                "set RightSizing to NONE as well; with BASIC or IN_AWS, DRS chooses the instance type itself",
            );
        }
        for (field, keys) in [
            ("SubnetId", self.subnet_id.iter().flat_map(PerPartition::keys).collect::<Vec<_>>()),
            ("SecurityGroupIds", self.security_group_ids.iter().flat_map(PerPartition::keys).collect()),
        ] {
            for k in keys {
                let ok = match k.split_once('/') {
                    Some((account, region)) => is_account(account) && is_region(region),
                    None => is_region(k),
                };
                if !ok {
                    return refuse(
                        field,
                        format!("'{k}': a key is <account>/<region> (200000000001/us-east-1) or <region> (us-east-1)"),
                    );
                }
            }
        }
        for s in self.subnet_id.iter().flat_map(PerPartition::values) {
            check_subnet(s).map_err(|why| ("SubnetId".to_owned(), why))?;
        }
        for groups in self.security_group_ids.iter().flat_map(PerPartition::values) {
            check_groups(groups).map_err(|why| ("SecurityGroupIds".to_owned(), why))?;
        }
        for (key, own) in self.servers.iter().flatten() {
            own.check(key, self)?;
        }
        Ok(())
    }
}

pub(super) fn check_subnet(s: &str) -> Result<(), String> {
    if s.starts_with("subnet-") {
        Ok(())
    } else {
        Err(format!("'{s}' is not a subnet id (subnet-...)"))
    }
}

pub(super) fn check_groups(groups: &[String]) -> Result<(), String> {
    if groups.is_empty() {
        return Err("give at least one, or leave it out".into());
    }
    match groups.iter().find(|g| !g.starts_with("sg-")) {
        Some(g) => Err(format!("'{g}' is not a security group id (sg-...)")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::Desired;
    use crate::resource::DrsResource;
    use serde_json::json;

    fn from_parameters(p: &serde_json::Value) -> Result<Option<Desired>, crate::resource::ResourceError> {
        let mut p = p.clone();
        p["Tags"] = json!({"Tier": "web"});
        DrsResource::new("Web", &p).map(|r| r.launch)
    }

    #[test]
    fn errors_name_the_field() {
        let e = |v| from_parameters(&json!({"LaunchSettings": v})).unwrap_err().to_string();
        let chain = |v| format!("{:#}", from_parameters(&json!({"LaunchSettings": v})).unwrap_err());
        assert!(e(json!({"Colour": "blue"})).contains("at /LaunchSettings/Colour: not a known parameter"));
        assert!(chain(json!({"LaunchDisposition": "PAUSED"})).contains("LaunchDisposition: 'PAUSED'"));
        assert!(chain(json!({"InstanceType": "m5.large"})).contains("InstanceType: set RightSizing to NONE"));
        assert!(chain(json!({"SubnetId": "vpc-1"})).contains("SubnetId: 'vpc-1'"));
        let ok = from_parameters(&json!({"LaunchSettings": {"InstanceType": "m5.large", "RightSizing": "NONE"}})).unwrap();
        assert!(ok.unwrap().for_partition("200000000001", "us-east-1").wants_template());
        assert!(from_parameters(&json!({})).unwrap().is_none());
        assert!(chain(json!({"SubnetId": {"useast1": "subnet-1"}})).contains("'useast1': a key is <account>/<region>"));
    }

    #[test]
    fn subnets_and_groups_resolve_per_partition() {
        let d = from_parameters(&json!({"LaunchSettings": {
            "SubnetId": {"us-east-1": "subnet-e", "200000000002/us-east-1": "subnet-2e"},
            "SecurityGroupIds": ["sg-0a11"]
        }}))
        .unwrap()
        .unwrap();
        let w = |a, r| d.for_partition(a, r);
        assert_eq!(w("200000000001", "us-east-1").subnet_id.as_deref(), Some("subnet-e"));
        assert_eq!(w("200000000002", "us-east-1").subnet_id.as_deref(), Some("subnet-2e"), "the specific key wins");
        assert_eq!(w("200000000001", "us-west-2").subnet_id, None, "no entry: left as it is");
        assert_eq!(w("200000000001", "us-west-2").security_group_ids, Some(vec!["sg-0a11".to_string()]));
    }
}

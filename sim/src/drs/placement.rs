//! Where a recovery instance lands. DRS launches it from the default version of the source
//! server's EC2 launch template: its instance type, and its first network interface's subnet,
//! private address and security groups (without one, the region's first default subnet). The
//! address is taken as RunInstances takes it (`ec2/addresses.rs`): a subnet that does not
//! exist, an address outside it, reserved or held by another network interface fails the
//! launch, and the job's LAUNCH_FAILED carries EC2's error code.

use crate::ec2::addresses::Ask;
use crate::protocol::ApiError;
use crate::world::Partition;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// What the launch template asks of a launch.
#[derive(Debug, Default, PartialEq)]
pub struct FromTemplate {
    pub instance_type: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
    pub groups: Vec<String>,
}

/// The default version of `server_id`'s launch template, read as a launch reads it.
pub fn from_template(p: &Partition, server_id: &str) -> FromTemplate {
    let Some(server) = p.drs.servers.get(server_id) else { return FromTemplate::default() };
    let template = server.launch_config.get("ec2LaunchTemplateID").and_then(Value::as_str).unwrap_or_default();
    let Some(t) = p.ec2.launch_templates.get(template) else { return FromTemplate::default() };
    let Some(v) = t.versions.iter().find(|v| v.number == t.default_version) else { return FromTemplate::default() };
    read(&v.data)
}

fn read(data: &BTreeMap<String, String>) -> FromTemplate {
    // The interface of device index 0 (or, without indexes, the first one listed).
    let indexes: Vec<&str> = data
        .keys()
        .filter_map(|k| k.strip_prefix("NetworkInterface.")?.split('.').next())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let primary = indexes
        .iter()
        .find(|n| data.get(&format!("NetworkInterface.{n}.DeviceIndex")).is_some_and(|d| d == "0"))
        .or_else(|| indexes.first())
        .copied();
    let nic = |field: &str| primary.and_then(|n| data.get(&format!("NetworkInterface.{n}.{field}"))).cloned();
    let listed = |prefix: &str| -> Vec<String> {
        let mut items: Vec<(u32, &String)> =
            data.iter().filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.parse().ok()?, v))).collect();
        items.sort();
        items.into_iter().map(|(_, v)| v.clone()).collect()
    };
    let groups = match primary {
        Some(n) => listed(&format!("NetworkInterface.{n}.SecurityGroupId.")),
        None => listed("SecurityGroupId."),
    };
    FromTemplate {
        instance_type: data.get("InstanceType").cloned(),
        subnet_id: nic("SubnetId"),
        private_ip: nic("PrivateIpAddress"),
        groups,
    }
}

/// The recovery instance's primary network interface, made in its subnet at its address, or
/// RunInstances' refusal. The server's previous recovery instance, which this launch
/// replaces, gives its address up first.
pub fn place(p: &mut Partition, server_id: &str, instance: &str, now: DateTime<Utc>) -> Result<FromTemplate, ApiError> {
    if let Some(old) = p.drs.servers.get(server_id).and_then(|s| s.recovery_instance_id.clone()) {
        p.ec2.release_interfaces_of(&old);
    }
    let wanted = from_template(p, server_id);
    if let Some(g) = wanted.groups.iter().find(|g| !p.ec2.security_groups.contains_key(*g)) {
        return Err(ApiError::new(400, "InvalidGroup.NotFound", format!("The security group '{g}' does not exist")));
    }
    // The template's subnet, or the default subnets zone by zone until one has room.
    let subnets: Vec<String> = match &wanted.subnet_id {
        Some(s) => vec![s.clone()],
        None => {
            let mut defaults: Vec<_> = p.ec2.subnets.values().filter(|s| s.default_for_az).collect();
            defaults.sort_by(|a, b| a.az.cmp(&b.az));
            defaults.into_iter().map(|s| s.id.clone()).collect()
        }
    };
    let mut refused = ApiError::new(400, "MissingInput", "No subnet specified and no default subnet is available");
    for subnet in &subnets {
        let ask = Ask {
            subnet_id: subnet,
            private_ip: wanted.private_ip.as_deref(),
            description: "Primary network interface".into(),
            groups: wanted.groups.clone(),
            instance_id: Some(instance.to_owned()),
        };
        let id = format!("eni-{}", crate::ids::stable_hex(&format!("{instance}/eth0"), 17));
        match p.ec2.create_interface(ask, id, now) {
            Ok(_) => return Ok(wanted),
            Err(e) if wanted.subnet_id.is_none() && e.code == "InsufficientFreeAddressesInSubnet" => refused = e,
            Err(e) => return Err(e),
        }
    }
    Err(refused)
}

/// How DRS's job log words a failed RunInstances.
pub fn raw_error(e: &ApiError) -> String {
    format!("An error occurred ({}) when calling the RunInstances operation: {}", e.code, e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_interface_is_read_from_flattened_data() {
        let data: BTreeMap<String, String> = [
            ("InstanceType", "m5.large"),
            ("NetworkInterface.1.DeviceIndex", "1"),
            ("NetworkInterface.1.SubnetId", "subnet-second"),
            ("NetworkInterface.2.DeviceIndex", "0"),
            ("NetworkInterface.2.SubnetId", "subnet-first"),
            ("NetworkInterface.2.PrivateIpAddress", "10.10.0.50"),
            ("NetworkInterface.2.SecurityGroupId.2", "sg-b"),
            ("NetworkInterface.2.SecurityGroupId.1", "sg-a"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let r = read(&data);
        assert_eq!(
            r,
            FromTemplate {
                instance_type: Some("m5.large".into()),
                subnet_id: Some("subnet-first".into()),
                private_ip: Some("10.10.0.50".into()),
                groups: vec!["sg-a".into(), "sg-b".into()],
            }
        );
    }
}

//! Private addresses of a subnet, as EC2 hands them out: an address asked for must be in the
//! subnet's CIDR block, not one of the five AWS reserves (the first four and the last), and
//! held by no other network interface; without one, the lowest free address is taken. Every
//! refusal carries EC2's error code, so that a launch into a taken address fails in the DRS
//! job as RunInstances would make it fail.

use super::model::{Ec2State, NetworkInterface, Subnet};
use crate::protocol::ApiError;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// An IPv4 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (ip, prefix) = s.split_once('/')?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let ip: Ipv4Addr = ip.parse().ok()?;
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        Some(Cidr { base: u32::from(ip) & mask, prefix })
    }

    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let ip = u64::from(u32::from(ip));
        (u64::from(self.base)..u64::from(self.base) + self.size()).contains(&ip)
    }

    /// The network address, the VPC router, DNS, one kept for future use, and the last.
    pub fn reserved(&self, ip: Ipv4Addr) -> bool {
        let offset = u64::from(u32::from(ip)).wrapping_sub(u64::from(self.base));
        self.contains(ip) && (offset < 4 || offset == self.size() - 1)
    }
}

/// What a new interface asks of its subnet.
pub struct Ask<'a> {
    pub subnet_id: &'a str,
    pub private_ip: Option<&'a str>,
    pub description: String,
    pub groups: Vec<String>,
    pub instance_id: Option<String>,
}

fn not_found(subnet: &str) -> ApiError {
    ApiError::new(400, "InvalidSubnetID.NotFound", format!("The subnet ID '{subnet}' does not exist"))
}

impl Ec2State {
    /// The addresses of `subnet` held by network interfaces.
    fn held<'a>(&'a self, subnet: &'a str) -> impl Iterator<Item = &'a NetworkInterface> + 'a {
        self.network_interfaces.values().filter(move |n| n.subnet_id == subnet)
    }

    /// How many addresses of the subnet are still free (DescribeSubnets'
    /// `availableIpAddressCount`).
    pub fn available_addresses(&self, s: &Subnet) -> u64 {
        let total = Cidr::parse(&s.cidr).map_or(0, |c| c.size().saturating_sub(5));
        total.saturating_sub(self.held(&s.id).count() as u64)
    }

    /// The address `ask` may have in its subnet, or EC2's refusal.
    fn address_for(&self, ask: &Ask) -> Result<Ipv4Addr, ApiError> {
        let subnet = self.subnets.get(ask.subnet_id).ok_or_else(|| not_found(ask.subnet_id))?;
        let cidr = Cidr::parse(&subnet.cidr)
            .ok_or_else(|| ApiError::new(500, "InternalError", format!("subnet {} has no IPv4 block", subnet.id)))?;
        let taken: HashSet<&str> = self.held(&subnet.id).map(|n| n.private_ip.as_str()).collect();
        let Some(wanted) = ask.private_ip else {
            let free = (4..cidr.size().saturating_sub(1))
                .filter_map(|o| u32::try_from(u64::from(cidr.base) + o).ok().map(Ipv4Addr::from))
                .find(|ip| !taken.contains(ip.to_string().as_str()));
            return free.ok_or_else(|| {
                ApiError::new(
                    400,
                    "InsufficientFreeAddressesInSubnet",
                    format!(
                        "There are not enough free addresses in subnet '{}' to satisfy the requested number of instances.",
                        subnet.id
                    ),
                )
            });
        };
        let ip: Ipv4Addr = wanted
            .parse()
            .map_err(|_| ApiError::new(400, "InvalidParameterValue", format!("Invalid value '{wanted}' for privateIpAddress")))?;
        if !cidr.contains(ip) {
            return Err(ApiError::new(
                400,
                "InvalidParameterValue",
                format!("Address {ip} does not fall within the subnet's address range"),
            ));
        }
        if cidr.reserved(ip) {
            return Err(ApiError::new(
                400,
                "InvalidParameterValue",
                format!("Address {ip} is in subnet's reserved address range"),
            ));
        }
        if taken.contains(ip.to_string().as_str()) {
            return Err(ApiError::new(400, "InvalidIPAddress.InUse", format!("Address {ip} is in use.")));
        }
        Ok(ip)
    }

    /// A new network interface in `ask`'s subnet at the address it asks for (or the lowest
    /// free one): its id, or EC2's refusal.
    pub fn create_interface(&mut self, ask: Ask, id: String, now: DateTime<Utc>) -> Result<NetworkInterface, ApiError> {
        let ip = self.address_for(&ask)?;
        let subnet = self.subnets.get(ask.subnet_id).ok_or_else(|| not_found(ask.subnet_id))?;
        let nic = NetworkInterface {
            id: id.clone(),
            subnet_id: subnet.id.clone(),
            vpc_id: subnet.vpc_id.clone(),
            az: subnet.az.clone(),
            private_ip: ip.to_string(),
            description: ask.description,
            groups: ask.groups,
            instance_id: ask.instance_id,
            created: now,
        };
        self.network_interfaces.insert(id, nic.clone());
        Ok(nic)
    }

    /// Deletes the interfaces attached to `instance` (a terminated instance's primary one).
    pub fn release_interfaces_of(&mut self, instance: &str) {
        self.network_interfaces.retain(|_, n| n.instance_id.as_deref() != Some(instance));
    }

    /// The subnet whose block holds `ip`, if any (where a fleet's source instance sits).
    pub fn subnet_holding(&self, ip: &str) -> Option<&Subnet> {
        let ip: Ipv4Addr = ip.parse().ok()?;
        self.subnets.values().find(|s| Cidr::parse(&s.cidr).is_some_and(|c| c.contains(ip)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Ec2State {
        let mut s = Ec2State::default();
        s.subnets.insert(
            "subnet-1".into(),
            Subnet {
                id: "subnet-1".into(),
                vpc_id: "vpc-1".into(),
                az: "us-east-1a".into(),
                cidr: "10.0.0.0/28".into(),
                default_for_az: false,
            },
        );
        s
    }

    fn ask(ip: Option<&str>) -> Ask<'_> {
        Ask { subnet_id: "subnet-1", private_ip: ip, description: String::new(), groups: vec![], instance_id: None }
    }

    #[test]
    fn addresses_are_checked_as_ec2_checks_them() {
        let mut s = state();
        let code =
            |s: &mut Ec2State, ip: Option<&str>| s.create_interface(ask(ip), "eni-x".into(), Utc::now()).map(|n| n.private_ip);
        let err = |r: Result<String, ApiError>| r.unwrap_err().code;
        assert_eq!(err(code(&mut s, Some("10.0.1.5"))), "InvalidParameterValue");
        for reserved in ["10.0.0.0", "10.0.0.1", "10.0.0.3", "10.0.0.15"] {
            let e = s.create_interface(ask(Some(reserved)), "eni-r".into(), Utc::now()).unwrap_err();
            assert!(e.message.contains("reserved"), "{reserved}: {}", e.message);
        }
        assert_eq!(code(&mut s, Some("10.0.0.9")).unwrap(), "10.0.0.9");
        let e = s.create_interface(ask(Some("10.0.0.9")), "eni-y".into(), Utc::now()).unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("InvalidIPAddress.InUse", "Address 10.0.0.9 is in use."));
        assert_eq!(s.create_interface(ask(None), "eni-z".into(), Utc::now()).unwrap().private_ip, "10.0.0.4", "the lowest free");
        assert_eq!(s.available_addresses(&s.subnets["subnet-1"].clone()), 16 - 5 - 2);
        let missing = Ask { subnet_id: "subnet-2", ..ask(None) };
        assert_eq!(s.create_interface(missing, "eni-m".into(), Utc::now()).unwrap_err().code, "InvalidSubnetID.NotFound");
    }
}

//! Static private addresses (`LaunchSettings.Servers.<key>.PrivateIpAddress`), checked before
//! anything launches: each must be inside its subnet's CIDR block, not one of the five
//! addresses AWS reserves in every subnet (the first four and the last), given to no other
//! server checked with it (the resource's group at instantiate, the whole manifest in
//! `launch check`), and held by no network interface already there, unless it is the
//! server's own recovery instance, which its next launch replaces. Subnets and interfaces
//! are read in each server's account and region (ec2:DescribeSubnets,
//! ec2:DescribeNetworkInterfaces, by filter); a partition whose reads fail leaves its
//! addresses unchecked, named.

use super::{Desired, Read};
use crate::aws::ec2_lookup::by_filter;
use crate::aws::fanout::each;
use crate::aws::Clients;
use crate::config::Partition;
use crate::selection::ServerRef;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// One server's static address, as asked.
#[derive(Debug, Clone)]
pub struct Asked {
    pub server: ServerRef,
    /// The field that asks it: `LaunchSettings.Servers.<key>.PrivateIpAddress`, with the
    /// resource's name in front when a manifest's resources are checked together.
    pub field: String,
    pub address: String,
    /// The subnet it would launch into: the server's entry, the resource's for its
    /// partition, or its launch template's.
    pub subnet: Option<String>,
    /// The server's recovery instance now, whose address its next launch may take over.
    pub own_instance: Option<String>,
}

/// Why a static address cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "issue")]
pub enum Issue {
    /// No SubnetId anywhere: the address has no subnet to be in.
    NoSubnet,
    /// The subnet does not exist in the server's account and region.
    SubnetMissing { subnet: String },
    /// The address is outside the subnet's block.
    Outside { subnet: String, cidr: String },
    /// One of the five addresses AWS reserves in the subnet.
    Reserved { subnet: String, cidr: String },
    /// Another server checked with it asks the same address of the same subnet.
    Duplicate { other: ServerRef, other_field: String },
    /// A network interface holds it.
    Taken { interface: String, instance: Option<String> },
    /// The subnet or the interfaces could not be read.
    Unchecked { error: String },
    /// Another resource claimed it when it was instantiated (`claims.rs`).
    Claimed { resource: String, server: String, field: String, since: Option<String> },
}

/// One address refused: the server, the field and the reason.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub server: ServerRef,
    pub field: String,
    pub address: String,
    #[serde(flatten)]
    pub issue: Issue,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Issue::NoSubnet => f.write_str(
                "no subnet to hold it: give SubnetId in the server's entry or in LaunchSettings, or put one in its launch template",
            ),
            Issue::SubnetMissing { subnet } => write!(f, "subnet {subnet} does not exist in the server's account and region"),
            Issue::Outside { subnet, cidr } => write!(f, "outside subnet {subnet} ({cidr})"),
            Issue::Reserved { subnet, cidr } => {
                let (first, last) = Block::parse(cidr).map(|b| b.reserved_ranges()).unwrap_or_default();
                write!(f, "reserved: AWS keeps the first four addresses and the last one of subnet {subnet} ({cidr}): {first} and {last}")
            }
            Issue::Duplicate { other, other_field } => write!(f, "also given to {other} by {other_field}"),
            Issue::Taken { interface, instance: Some(i) } => write!(f, "held by network interface {interface} of instance {i}"),
            Issue::Taken { interface, instance: None } => write!(f, "held by network interface {interface}"),
            Issue::Unchecked { error } => write!(f, "could not be checked: {error}"),
            Issue::Claimed { resource, server, field, since } => {
                write!(f, "held by resource {resource} for its server {server} ({field})")?;
                if let Some(t) = since {
                    write!(f, " since {t}")?;
                }
                f.write_str(": a resource lets an address go when it is instantiated without it")
            }
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.field, self.address, self.issue)
    }
}

/// An IPv4 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    base: u32,
    size: u64,
}

impl Block {
    fn parse(cidr: &str) -> Option<Block> {
        let (ip, prefix) = cidr.split_once('/')?;
        let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        Some(Block { base: u32::from(ip.parse::<Ipv4Addr>().ok()?) & mask, size: 1u64 << (32 - prefix) })
    }

    fn offset(&self, ip: Ipv4Addr) -> Option<u64> {
        let o = u64::from(u32::from(ip)).checked_sub(u64::from(self.base))?;
        (o < self.size).then_some(o)
    }

    fn at(&self, offset: u64) -> Ipv4Addr {
        Ipv4Addr::from(u32::try_from(u64::from(self.base) + offset).unwrap_or(u32::MAX))
    }

    /// `a.b.c.0-a.b.c.3` and the last address.
    fn reserved_ranges(&self) -> (String, String) {
        (format!("{}-{}", self.at(0), self.at(3)), self.at(self.size.saturating_sub(1)).to_string())
    }
}

/// What `want` asks of each server read: its static address and where it would be.
pub fn asked(reads: &[Read], want: &Desired, found: &crate::discovery::Discovery) -> Vec<Asked> {
    let instances: BTreeMap<&str, &str> =
        found.servers.iter().filter_map(|s| Some((s.source_server_id.as_str(), s.recovery_instance_id.as_deref()?))).collect();
    reads
        .iter()
        .filter_map(|(s, read)| {
            let w = want.for_server(s);
            let address = w.private_ip_address?;
            let key = want.entry_for(s).map(|(k, _)| k.clone()).unwrap_or_default();
            let template_subnet = read.as_ref().ok().and_then(|c| c.settings.subnet_id.clone());
            Some(Asked {
                server: s.clone(),
                field: format!("LaunchSettings.Servers.{key}.PrivateIpAddress"),
                address,
                subnet: w.subnet_id.or(template_subnet),
                own_instance: instances.get(s.source_server_id.as_str()).map(|i| (*i).to_owned()),
            })
        })
        .collect()
}

/// What is there of the asked subnets and addresses in one partition.
#[derive(Default)]
struct There {
    /// Subnet id -> CIDR block.
    subnets: BTreeMap<String, String>,
    /// (subnet, address) -> (interface, its instance).
    held: BTreeMap<(String, String), (String, Option<String>)>,
}

/// Every problem of `asks`, sorted by server; none when every address can be had.
pub async fn check(clients: &Clients, asks: &[Asked]) -> Vec<Problem> {
    let mut out: Vec<Problem> = vec![];
    let problem =
        |a: &Asked, issue: Issue| Problem { server: a.server.clone(), field: a.field.clone(), address: a.address.clone(), issue };
    let mut per_partition: BTreeMap<Partition, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for a in asks {
        let Some(subnet) = &a.subnet else {
            out.push(problem(a, Issue::NoSubnet));
            continue;
        };
        let p = Partition { account: a.server.account.clone(), region: a.server.region.clone() };
        let entry = per_partition.entry(p).or_default();
        entry.0.insert(subnet.clone());
        entry.1.insert(a.address.clone());
    }
    out.extend(
        duplicates(asks)
            .into_iter()
            .map(|(a, other)| problem(a, Issue::Duplicate { other: other.server.clone(), other_field: other.field.clone() })),
    );
    let read: BTreeMap<Partition, Result<There, String>> =
        each(clients, per_partition.into_iter().collect::<Vec<_>>(), |(p, (subnets, addresses))| async move {
            let r = there(clients, &p, &subnets, &addresses).await.map_err(|e| format!("{e:#}"));
            (p, r)
        })
        .await
        .into_iter()
        .collect();
    for a in asks {
        let Some(subnet) = &a.subnet else { continue };
        let p = Partition { account: a.server.account.clone(), region: a.server.region.clone() };
        let issue = match read.get(&p) {
            None => continue,
            Some(Err(e)) => Some(Issue::Unchecked { error: e.clone() }),
            Some(Ok(t)) => judge(a, subnet, t),
        };
        out.extend(issue.map(|i| problem(a, i)));
    }
    out.sort_by(|x, y| (&x.server, &x.field).cmp(&(&y.server, &y.field)));
    out
}

/// Each ask whose address another server asks of the same subnet, with that other one.
fn duplicates(asks: &[Asked]) -> Vec<(&Asked, &Asked)> {
    let mut by_address: BTreeMap<(&str, &str, &str, &str), Vec<&Asked>> = BTreeMap::new();
    for a in asks {
        if let Some(subnet) = &a.subnet {
            let key = (a.server.account.as_str(), a.server.region.as_str(), subnet.as_str(), a.address.as_str());
            by_address.entry(key).or_default().push(a);
        }
    }
    let mut out = vec![];
    for group in by_address.values() {
        for a in group {
            if let Some(other) = group.iter().find(|o| o.server.source_server_id != a.server.source_server_id) {
                out.push((*a, *other));
            }
        }
    }
    out
}

/// What stops `a` from having its address in `subnet`, if anything.
fn judge(a: &Asked, subnet: &str, t: &There) -> Option<Issue> {
    let Some(cidr) = t.subnets.get(subnet) else { return Some(Issue::SubnetMissing { subnet: subnet.to_owned() }) };
    let (Some(block), Ok(ip)) = (Block::parse(cidr), a.address.parse::<Ipv4Addr>()) else {
        return Some(Issue::Outside { subnet: subnet.to_owned(), cidr: cidr.clone() });
    };
    match block.offset(ip) {
        None => return Some(Issue::Outside { subnet: subnet.to_owned(), cidr: cidr.clone() }),
        Some(o) if o < 4 || o == block.size - 1 => {
            return Some(Issue::Reserved { subnet: subnet.to_owned(), cidr: cidr.clone() })
        }
        Some(_) => {}
    }
    let (interface, instance) = t.held.get(&(subnet.to_owned(), a.address.clone()))?;
    if instance.is_some() && *instance == a.own_instance {
        return None;
    }
    Some(Issue::Taken { interface: interface.clone(), instance: instance.clone() })
}

async fn there(
    clients: &Clients,
    p: &Partition,
    subnets: &BTreeSet<String>,
    addresses: &BTreeSet<String>,
) -> anyhow::Result<There> {
    let ec2 = clients.ec2(p).await?;
    let mut t = There::default();
    let subnets = by_filter("ec2:DescribeSubnets", "subnet-id", subnets, |f| {
        ec2.describe_subnets().filters(f).max_results(1000).into_paginator().items().send().collect()
    })
    .await?;
    for s in &subnets {
        if let (Some(id), Some(cidr)) = (s.subnet_id(), s.cidr_block()) {
            t.subnets.insert(id.to_owned(), cidr.to_owned());
        }
    }
    let interfaces = by_filter("ec2:DescribeNetworkInterfaces", "addresses.private-ip-address", addresses, |f| {
        ec2.describe_network_interfaces().filters(f).max_results(1000).into_paginator().items().send().collect()
    })
    .await?;
    for n in &interfaces {
        let (Some(id), Some(subnet)) = (n.network_interface_id(), n.subnet_id()) else { continue };
        let instance = n.attachment().and_then(|a| a.instance_id()).map(str::to_owned);
        let ips = n.private_ip_addresses().iter().filter_map(|a| a.private_ip_address()).chain(n.private_ip_address());
        for ip in ips {
            t.held.insert((subnet.to_owned(), ip.to_owned()), (id.to_owned(), instance.clone()));
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(host: &str, id: &str, ip: &str, own: Option<&str>) -> Asked {
        Asked {
            server: ServerRef {
                account: "200000000001".into(),
                region: "us-east-1".into(),
                hostname: host.into(),
                source_server_id: id.into(),
            },
            field: format!("LaunchSettings.Servers.{host}.PrivateIpAddress"),
            address: ip.into(),
            subnet: Some("subnet-1".into()),
            own_instance: own.map(str::to_owned),
        }
    }

    #[test]
    fn each_address_is_judged_against_its_subnet_and_what_holds_it() {
        let mut t = There::default();
        t.subnets.insert("subnet-1".into(), "10.10.0.0/20".into());
        t.held.insert(("subnet-1".into(), "10.10.0.60".into()), ("eni-1".into(), Some("i-other".into())));
        t.held.insert(("subnet-1".into(), "10.10.0.61".into()), ("eni-2".into(), Some("i-mine".into())));
        let j = |ip: &str| judge(&ask("db-01", "s-1", ip, Some("i-mine")), "subnet-1", &t).map(|i| i.to_string());
        assert_eq!(j("10.10.0.50"), None);
        assert_eq!(j("10.10.16.5").as_deref(), Some("outside subnet subnet-1 (10.10.0.0/20)"));
        let reserved = "reserved: AWS keeps the first four addresses and the last one of subnet subnet-1 (10.10.0.0/20): 10.10.0.0-10.10.0.3 and 10.10.15.255";
        for ip in ["10.10.0.0", "10.10.0.3", "10.10.15.255"] {
            assert_eq!(j(ip).as_deref(), Some(reserved), "{ip}");
        }
        assert_eq!(j("10.10.0.4"), None, "the first address a server may have");
        assert_eq!(j("10.10.0.60").as_deref(), Some("held by network interface eni-1 of instance i-other"));
        assert_eq!(j("10.10.0.61"), None, "its own recovery instance, which its next launch replaces");
        assert_eq!(
            judge(&ask("db-01", "s-1", "10.10.0.5", None), "subnet-9", &t),
            Some(Issue::SubnetMissing { subnet: "subnet-9".into() })
        );

        let asks = [
            ask("db-01", "s-1", "10.10.0.50", None),
            ask("db-02", "s-2", "10.10.0.50", None),
            ask("db-03", "s-3", "10.10.0.51", None),
        ];
        let d: Vec<(String, String)> =
            duplicates(&asks).iter().map(|(a, o)| (a.server.hostname.clone(), o.server.hostname.clone())).collect();
        assert_eq!(d, [("db-01".to_owned(), "db-02".to_owned()), ("db-02".to_owned(), "db-01".to_owned())]);
    }
}

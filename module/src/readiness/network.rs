//! The network each server would launch into exists: the subnet and security groups of its
//! EC2 launch template's default version, and those the resource's LaunchSettings name for
//! its partition, looked up in its account and region (ec2:DescribeSubnets,
//! ec2:DescribeSecurityGroups, by filter, so that one missing id does not hide the others).
//! A partition whose lookups fail leaves its servers' network unknown, named.

use super::verdict::{Check, Reason, Verdict};
use crate::aws::ec2_lookup::by_filter;
use crate::aws::fanout::each;
use crate::aws::Clients;
use crate::config::Partition;
use crate::launch::{Desired, Read};
use crate::selection::ServerRef;
use std::collections::{BTreeMap, BTreeSet};

/// The ids one server would launch with, and where each came from.
#[derive(Debug, Default)]
struct Wanted {
    subnets: BTreeMap<String, &'static str>,
    groups: BTreeMap<String, &'static str>,
}

const TEMPLATE: &str = "its launch template";
const SETTINGS: &str = "LaunchSettings";

fn wanted(server: &ServerRef, read: &Read, want: Option<&Desired>) -> Wanted {
    let mut w = Wanted::default();
    if let Ok(c) = &read.1 {
        w.subnets.extend(c.settings.subnet_id.iter().map(|s| (s.clone(), TEMPLATE)));
        w.groups.extend(c.settings.security_group_ids.iter().flatten().map(|g| (g.clone(), TEMPLATE)));
    }
    if let Some(d) = want.map(|d| d.for_server(server)) {
        w.subnets.extend(d.subnet_id.iter().map(|s| (s.clone(), SETTINGS)));
        w.groups.extend(d.security_group_ids.iter().flatten().map(|g| (g.clone(), SETTINGS)));
    }
    w
}

/// The subnet and security group ids asked of one partition.
type Asked = (BTreeSet<String>, BTreeSet<String>);

/// What exists of the ids asked in one partition.
struct Found {
    subnets: BTreeSet<String>,
    groups: BTreeSet<String>,
}

/// The reasons per server (by source server id): missing subnets and groups, or a
/// partition whose lookups failed.
pub async fn check(clients: &Clients, reads: &[Read], want: Option<&Desired>) -> BTreeMap<String, Vec<Reason>> {
    let per_server: Vec<(&ServerRef, Wanted)> = reads.iter().map(|r| (&r.0, wanted(&r.0, r, want))).collect();
    let mut asked: BTreeMap<Partition, Asked> = BTreeMap::new();
    for (s, w) in &per_server {
        let entry = asked.entry(Partition { account: s.account.clone(), region: s.region.clone() }).or_default();
        entry.0.extend(w.subnets.keys().cloned());
        entry.1.extend(w.groups.keys().cloned());
    }
    let asked: Vec<(Partition, Asked)> = asked.into_iter().filter(|(_, (s, g))| !s.is_empty() || !g.is_empty()).collect();
    let found: BTreeMap<Partition, Result<Found, String>> = each(clients, asked, |(p, (subnets, groups))| async move {
        let r = lookup(clients, &p, &subnets, &groups).await.map_err(|e| format!("{e:#}"));
        (p, r)
    })
    .await
    .into_iter()
    .collect();
    let mut out: BTreeMap<String, Vec<Reason>> = BTreeMap::new();
    for (s, w) in per_server {
        let p = Partition { account: s.account.clone(), region: s.region.clone() };
        let reasons = match found.get(&p) {
            None => continue,
            Some(Err(e)) => vec![Reason::at(
                Check::Network,
                Verdict::NeedsVerification,
                &p,
                format!("its subnet and security groups could not be checked: {e}"),
            )],
            Some(Ok(f)) => missing(&p, &w, f),
        };
        if !reasons.is_empty() {
            out.entry(s.source_server_id.clone()).or_default().extend(reasons);
        }
    }
    out
}

fn missing(p: &Partition, w: &Wanted, f: &Found) -> Vec<Reason> {
    let subnets = w.subnets.iter().filter(|(id, _)| !f.subnets.contains(*id)).map(|(id, from)| format!("subnet {id} ({from})"));
    let groups =
        w.groups.iter().filter(|(id, _)| !f.groups.contains(*id)).map(|(id, from)| format!("security group {id} ({from})"));
    subnets
        .chain(groups)
        .map(|what| Reason::at(Check::Network, Verdict::NotReady, p, format!("{what} does not exist: a launch into it fails")))
        .collect()
}

async fn lookup(
    clients: &Clients,
    p: &Partition,
    subnets: &BTreeSet<String>,
    groups: &BTreeSet<String>,
) -> anyhow::Result<Found> {
    let ec2 = clients.ec2(p).await?;
    let subnets = by_filter("ec2:DescribeSubnets", "subnet-id", subnets, |f| {
        ec2.describe_subnets().filters(f).max_results(1000).into_paginator().items().send().collect()
    })
    .await?;
    let groups = by_filter("ec2:DescribeSecurityGroups", "group-id", groups, |f| {
        ec2.describe_security_groups().filters(f).max_results(1000).into_paginator().items().send().collect()
    })
    .await?;
    let found = Found {
        subnets: subnets.iter().filter_map(|s| s.subnet_id()).map(str::to_owned).collect(),
        groups: groups.iter().filter_map(|g| g.group_id()).map(str::to_owned).collect(),
    };
    Ok(found)
}

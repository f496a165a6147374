//! Enrichment: each server's source EC2 instance (state, type, tags), read with
//! DescribeInstances in the instance's origin account and region.

use super::limits::Limits;
use super::model::{DiscoveredServer, SourceInstance};
use crate::accounts::reason::finding;
use crate::aws::Clients;
use crate::config::Partition;
use aws_sdk_ec2::types::Filter;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap};

/// One DescribeInstances batch: the instances found by id, or why they could not be read.
type Described = Result<HashMap<String, SourceInstance>, String>;

/// Values per `instance-id` filter in one DescribeInstances call.
const IDS_PER_CALL: usize = 200;

/// Fills `instance` where the source instance is found, and `source_unread` where its origin
/// could not be read; returns what could not be read.
pub async fn source_instances(clients: &Clients, servers: &mut [DiscoveredServer], limits: &Limits) -> Vec<String> {
    let mut by_origin: BTreeMap<Partition, Vec<String>> = BTreeMap::new();
    for s in servers.iter() {
        if let (Some(a), Some(r), Some(i)) = (&s.origin_account, &s.origin_region, &s.instance_id) {
            by_origin.entry(Partition { account: a.clone(), region: r.clone() }).or_default().push(i.clone());
        }
    }
    let batches: Vec<(Partition, Vec<String>)> = by_origin
        .into_iter()
        .flat_map(|(p, ids)| ids.chunks(IDS_PER_CALL).map(|c| (p.clone(), c.to_vec())).collect::<Vec<_>>())
        .collect();
    let results: Vec<(Partition, Described)> = stream::iter(batches)
        .map(|(p, ids)| async move {
            let r = describe(clients, &p, ids, limits).await;
            (p, r)
        })
        .buffer_unordered(limits.per_partition.max(1))
        .collect()
        .await;
    let mut found = HashMap::new();
    let mut unread: BTreeMap<Partition, String> = BTreeMap::new();
    for (p, r) in results {
        match r {
            Ok(m) => found.extend(m),
            Err(e) => _ = unread.insert(p, e),
        }
    }
    for s in servers.iter_mut() {
        if let Some(i) = s.instance_id.as_ref().and_then(|i| found.remove(i)) {
            s.instance = Some(i);
        } else if let (Some(a), Some(r)) = (&s.origin_account, &s.origin_region) {
            s.source_unread = unread.get(&Partition { account: a.clone(), region: r.clone() }).cloned();
        }
    }
    unread.into_values().collect()
}

async fn describe(
    clients: &Clients,
    p: &Partition,
    ids: Vec<String>,
    limits: &Limits,
) -> Result<HashMap<String, SourceInstance>, String> {
    let ec2 = clients.ec2(p).await.map_err(|e| format!("{p}: {e:#}"))?;
    let filter = Filter::builder().name("instance-id").set_values(Some(ids)).build();
    let mut pages = ec2.describe_instances().filters(filter).max_results(1000).into_paginator().send();
    let mut out = HashMap::new();
    while let Some(page) = limits.page(pages.next()).await {
        let page = page.map_err(|e| format!("{p}: {}", finding("ec2:DescribeInstances", &e).message))?;
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            let Some(id) = i.instance_id() else { continue };
            out.insert(
                id.to_owned(),
                SourceInstance {
                    state: i.state().and_then(|s| s.name()).map(|n| n.as_str().to_owned()).unwrap_or_default(),
                    instance_type: i.instance_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
                    tags: i.tags().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned()))).collect(),
                },
            );
        }
    }
    Ok(out)
}

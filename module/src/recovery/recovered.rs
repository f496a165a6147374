//! A real recovery does not launch again a server that already runs as a recovery instance
//! of an earlier real recovery (the application is up there: a second instance would split
//! it), unless the resource asks for it (`RelaunchRecovered: true`). Activate reads each
//! partition's recovery instances once and leaves those servers out of the plan, naming
//! them in every answer of the run.

use crate::aws::failed;
use crate::aws::Clients;
use crate::config::Partition;
use crate::selection::ServerRef;
use std::collections::BTreeMap;

/// How many of them an answer names one by one; the rest are counted.
pub const NAMED: usize = 20;

/// Of `servers`, those with a live recovery instance of a real recovery: source server id ->
/// `hostname (s-..., recovery instance i-... in account/region)`. A partition that cannot
/// be read fails the activation: it could hold servers that are up already.
pub async fn live(clients: &Clients, servers: &[ServerRef]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut by: BTreeMap<Partition, Vec<&ServerRef>> = BTreeMap::new();
    for s in servers {
        by.entry(Partition { account: s.account.clone(), region: s.region.clone() }).or_default().push(s);
    }
    let per = crate::aws::fanout::each(clients, by, |(p, list)| async move {
        let r = in_partition(clients, &p, &list).await;
        (p, r)
    })
    .await;
    let mut out = BTreeMap::new();
    for (p, r) in per {
        let found = r.map_err(|e| {
            anyhow::anyhow!("{e:#} (whether its servers already run as recovery instances of an earlier recovery cannot be told)")
        })?;
        out.extend(found.into_iter().map(|(id, text)| (id, format!("{text} in {p}"))));
    }
    Ok(out)
}

async fn in_partition(clients: &Clients, p: &Partition, servers: &[&ServerRef]) -> anyhow::Result<Vec<(String, String)>> {
    let wanted: BTreeMap<&str, &ServerRef> = servers.iter().map(|s| (s.source_server_id.as_str(), *s)).collect();
    let live = instances(clients, p, |id| wanted.contains_key(id)).await?;
    Ok(live
        .into_iter()
        .filter_map(|(id, instance)| {
            let s = wanted.get(id.as_str())?;
            Some((id, format!("{} ({}, recovery instance {instance})", s.hostname, s.source_server_id)))
        })
        .collect())
}

/// Of `ids` (source servers of `p`), those with a live recovery instance of a real
/// recovery: source server id -> recovery instance id. Read again before a real recovery's
/// wave starts them: another run of the resource (an ARC step and the platform at once) may
/// have launched them since this run was planned.
pub async fn launched_since(clients: &Clients, p: &Partition, ids: &[&String]) -> anyhow::Result<BTreeMap<String, String>> {
    let wanted: std::collections::BTreeSet<&str> = ids.iter().map(|id| id.as_str()).collect();
    Ok(instances(clients, p, |id| wanted.contains(id)).await?.into_iter().collect())
}

/// The partition's recovery instances of real recoveries whose source server `wanted` takes:
/// (source server id, recovery instance id).
async fn instances(clients: &Clients, p: &Partition, wanted: impl Fn(&str) -> bool) -> anyhow::Result<Vec<(String, String)>> {
    let drs = clients.drs(p).await?;
    let mut pages = drs.describe_recovery_instances().max_results(200).into_paginator().send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(p, "drs:DescribeRecoveryInstances", &e))?;
        for r in page.items().iter().filter(|r| !r.is_drill().unwrap_or(true)) {
            let Some(id) = r.source_server_id().filter(|id| wanted(id)) else { continue };
            out.push((id.to_owned(), r.recovery_instance_id().unwrap_or("?").to_owned()));
        }
    }
    Ok(out)
}

/// The line an answer gives them: the first `NAMED`, then how many more.
pub fn line(recovered: &[String]) -> Option<String> {
    if recovered.is_empty() {
        return None;
    }
    let more = recovered.len().saturating_sub(NAMED);
    let named = recovered.iter().take(NAMED).cloned().collect::<Vec<_>>().join("; ");
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    Some(format!(
        "{} servers left out: they run as recovery instances of an earlier real recovery (RelaunchRecovered: true launches them again): {named}{more}",
        recovered.len()
    ))
}

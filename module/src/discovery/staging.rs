//! Staging accounts in discovery. A target account that names staging accounts
//! (`accounts[].stagingAccounts`) recovers their servers through extended source servers,
//! which DescribeSourceServers lists in the target like any other (`StagingOrigin` says where
//! each replicates). Here: the staging servers not yet extended into each target, listed by
//! ListExtensibleSourceServers and kept by name (they cannot be recovered there until they
//! are); and a staging account that is itself configured: its servers that an extension
//! recovers are left out, so that no server is launched twice.

use super::model::{Discovery, ExtendedElsewhere, PendingExtension, StagingError, StagingFailure};
use crate::accounts::reason::finding;
use crate::aws::Clients;
use crate::config::{ModuleConfig, Partition};
use std::collections::HashMap;

/// ListExtensibleSourceServers's largest page.
const PAGE: i32 = 300;

/// The staging servers not yet extended into the given target partitions, and the listings
/// that failed (named: a staging account that does not trust its target, say). A staging
/// account configured in that region itself is skipped: its servers are discovered there.
pub async fn pending(clients: &Clients, partitions: &[Partition]) -> (Vec<PendingExtension>, Vec<StagingError>) {
    let cfg = clients.config();
    let asks: Vec<(Partition, String)> = partitions
        .iter()
        .flat_map(|p| cfg.staging_accounts_of(&p.account).iter().map(move |s| (p.clone(), s.clone())))
        .filter(|(p, s)| !cfg.is_configured(&Partition { account: s.clone(), region: p.region.clone() }))
        .collect();
    let listed = crate::aws::fanout::each(clients, asks, |(p, s)| async move {
        let r = extensible(clients, &p, &s).await;
        (p, s, r)
    })
    .await;
    let (mut found, mut errors) = (vec![], vec![]);
    for (p, s, r) in listed {
        match r {
            Ok(servers) => found.extend(servers),
            Err(reason) => errors.push(StagingError {
                account: p.account,
                region: p.region,
                staging_account: s,
                failure: StagingFailure::Listing,
                reason,
            }),
        }
    }
    (found, errors)
}

async fn extensible(clients: &Clients, p: &Partition, staging: &str) -> Result<Vec<PendingExtension>, String> {
    let drs = clients.drs(p).await.map_err(|e| format!("{e:#}"))?;
    let listed = drs.list_extensible_source_servers().staging_account_id(staging).max_results(PAGE).into_paginator();
    let listed: Vec<_> = listed.items().send().collect::<Result<_, _>>().await.map_err(|e| {
        let f = finding("drs:ListExtensibleSourceServers", &e);
        format!("{}: {}", f.reason, f.message)
    })?;
    Ok(listed
        .iter()
        .map(|s| PendingExtension {
            account: p.account.clone(),
            region: p.region.clone(),
            staging_account: staging.to_owned(),
            source_server_arn: s.arn().unwrap_or_default().to_owned(),
            hostname: s.hostname().unwrap_or_default().to_owned(),
            tags: s.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        })
        .collect())
}

/// Names, for each target partition read, each of its staging accounts configured in the
/// region itself whose partition discovery could not read (a role it cannot assume, a region
/// that faults): its extensions are recovered from the target, but its servers not yet
/// extended are named nowhere else. Idempotent: what an earlier round named is named again
/// from the partitions as they are now. Leaves the staging errors sorted.
pub fn name_unread(found: &mut Discovery, cfg: &ModuleConfig) {
    found.staging_errors.retain(|e| e.failure != StagingFailure::OwnPartitionUnread);
    let unread: HashMap<&Partition, &super::PartitionError> =
        found.partitions.iter().filter_map(|r| Some((&r.partition, r.error.as_ref()?))).collect();
    for target in found.partitions.iter().filter(|r| r.error.is_none()).map(|r| &r.partition) {
        for staging in cfg.staging_accounts_of(&target.account) {
            let own = Partition { account: staging.clone(), region: target.region.clone() };
            let Some(e) = unread.get(&own) else { continue };
            found.staging_errors.push(StagingError {
                account: target.account.clone(),
                region: target.region.clone(),
                staging_account: staging.clone(),
                failure: StagingFailure::OwnPartitionUnread,
                reason: format!(
                    "{}: its own account x region could not be read ({}); its servers not extended into {} are not named",
                    e.reason, e.message, target.account
                ),
            });
        }
    }
    found
        .staging_errors
        .sort_by(|a, b| (&a.account, &a.region, &a.staging_account).cmp(&(&b.account, &b.region, &b.staging_account)));
}

/// Leaves out each discovered server that an extension (another discovered server) stands
/// for, naming it in `extended_elsewhere`: the extension is the one recovered. Idempotent.
pub fn supersede(found: &mut Discovery) {
    let extensions: HashMap<String, String> =
        found.servers.iter().filter_map(|s| s.staging.as_ref().map(|o| (o.source_server_arn.clone(), s.arn.clone()))).collect();
    if extensions.is_empty() {
        return;
    }
    let (servers, superseded): (Vec<_>, Vec<_>) =
        std::mem::take(&mut found.servers).into_iter().partition(|s| !extensions.contains_key(&s.arn));
    found.servers = servers;
    found.extended_elsewhere.extend(superseded.into_iter().map(|s| ExtendedElsewhere {
        extension_arn: extensions[&s.arn].clone(),
        account: s.account,
        region: s.region,
        hostname: s.hostname,
        source_server_id: s.source_server_id,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::{DiscoveredServer, StagingOrigin};

    #[test]
    fn an_extension_leaves_its_staging_server_out_once() {
        let staging =
            DiscoveredServer { arn: "arn:aws:drs:us-east-1:300000000001:source-server/s-1".into(), ..Default::default() };
        let extension = DiscoveredServer {
            arn: "arn:aws:drs:us-east-1:200000000001:source-server/s-2".into(),
            staging: Some(StagingOrigin { account: "300000000001".into(), source_server_arn: staging.arn.clone(), error: None }),
            ..Default::default()
        };
        let other = DiscoveredServer { arn: "arn:aws:drs:us-east-1:300000000001:source-server/s-3".into(), ..Default::default() };
        let mut found = Discovery { servers: vec![staging, extension.clone(), other.clone()], ..Default::default() };
        supersede(&mut found);
        supersede(&mut found);
        assert_eq!(
            found.servers.iter().map(|s| s.arn.as_str()).collect::<Vec<_>>(),
            [extension.arn.as_str(), other.arn.as_str()]
        );
        assert_eq!(found.extended_elsewhere.len(), 1);
        assert_eq!(found.extended_elsewhere[0].extension_arn, extension.arn);
    }
}

//! Discovery: every configured account x region concurrently (bounded overall and per
//! partition), DescribeSourceServers paged to the end, then each partition's servers
//! enriched with their source EC2 instance, found in its origin account and region. A
//! failing partition is reported with its reason and never hides the others.

mod enrich;
mod limits;
mod list;
pub mod model;
mod staging;

pub use limits::Limits;

pub use model::*;

use crate::aws::Clients;
use crate::config::Partition;
use std::collections::HashMap;
use std::time::Instant;
use tokio::task::JoinSet;

/// Discovers the given partitions; `on_done` sees each partition as it finishes.
pub async fn discover(clients: &Clients, partitions: &[Partition], on_done: impl Fn(&PartitionReport)) -> Discovery {
    let limits = Limits::from(clients);
    // A task per partition, so reading the responses (the SDK's parsing is most of the CPU
    // a large fleet costs) spreads over the runtime's worker threads.
    let mut running = JoinSet::new();
    let mut by_task = HashMap::new();
    for p in partitions {
        let (c, task_p, l) = (clients.clone(), p.clone(), limits.clone());
        let task = running.spawn(async move { one_partition(&c, task_p, &l).await });
        by_task.insert(task.id(), p.clone());
    }
    let mut out = Discovery::default();
    while let Some(done) = running.join_next_with_id().await {
        let (report, servers) = match done {
            Ok((_, done)) => done,
            // A task that panicked is reported as its partition's failure, not lost.
            Err(e) => {
                let partition =
                    by_task.get(&e.id()).cloned().unwrap_or_else(|| Partition { account: "?".into(), region: "?".into() });
                let error = PartitionError::named("internal", format!("discovery stopped abnormally: {e}"));
                (PartitionReport { partition, error: Some(error), ..Default::default() }, vec![])
            }
        };
        on_done(&report);
        out.partitions.push(report);
        out.servers.extend(servers);
    }
    let read: Vec<Partition> = out.partitions.iter().filter(|r| r.error.is_none()).map(|r| r.partition.clone()).collect();
    (out.pending_extension, out.staging_errors) = staging::pending(clients, &read).await;
    staging::name_unread(&mut out, clients.config());
    staging::supersede(&mut out);
    out.partitions.sort_by(|a, b| a.partition.cmp(&b.partition));
    out.servers.sort_by(|a, b| (&a.account, &a.region, &a.hostname).cmp(&(&b.account, &b.region, &b.hostname)));
    out
}

/// Discovers the given partitions, then again, up to `rounds` more times with a growing
/// pause, those that failed in a way that may pass (throttled past the SDK's retries, or the
/// region not answering): a throttling storm at activate should slow a plan, not block it.
pub async fn discover_retrying(clients: &Clients, partitions: &[Partition], rounds: u32) -> Discovery {
    let mut found = discover(clients, partitions, |_| {}).await;
    for round in 1..=rounds {
        let again: Vec<Partition> = found
            .failed()
            .filter(|p| p.error.as_ref().is_some_and(PartitionError::may_pass))
            .map(|p| p.partition.clone())
            .collect();
        if again.is_empty() {
            break;
        }
        tracing::warn!(partitions = again.len(), round, "discovery retries partitions that failed for now");
        tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(round))).await;
        let more = discover(clients, &again, |_| {}).await;
        found.partitions.retain(|p| !again.contains(&p.partition));
        found.partitions.extend(more.partitions);
        found.servers.extend(more.servers);
        found.pending_extension.extend(more.pending_extension);
        found.staging_errors.extend(more.staging_errors);
        found.extended_elsewhere.extend(more.extended_elsewhere);
    }
    // A server and its extension may have come from different rounds, and a staging
    // account unread in one round may have been read in the next.
    staging::name_unread(&mut found, clients.config());
    staging::supersede(&mut found);
    found.partitions.sort_by(|a, b| a.partition.cmp(&b.partition));
    found.servers.sort_by(|a, b| (&a.account, &a.region, &a.hostname).cmp(&(&b.account, &b.region, &b.hostname)));
    found
}

/// One partition: its source servers, then their source instances.
pub async fn one_partition(clients: &Clients, partition: Partition, limits: &Limits) -> (PartitionReport, Vec<DiscoveredServer>) {
    let started = Instant::now();
    let mut report = PartitionReport { partition: partition.clone(), ..Default::default() };
    let mut servers = match list::source_servers(clients, &partition, limits).await {
        Ok((servers, pages)) => {
            report.pages = pages;
            servers
        }
        Err(e) => {
            report.error = Some(e);
            report.millis = started.elapsed().as_millis() as u64;
            return (report, vec![]);
        }
    };
    report.enrichment_errors = enrich::source_instances(clients, &mut servers, limits).await;
    report.servers = servers.len();
    report.millis = started.elapsed().as_millis() as u64;
    (report, servers)
}

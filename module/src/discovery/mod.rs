//! Discovery: every configured account x region concurrently (bounded overall and per
//! partition), DescribeSourceServers paged to the end, then each partition's servers
//! enriched with their source EC2 instance, found in its origin account and region. A
//! failing partition is reported with its reason and never hides the others.

mod enrich;
mod list;
pub mod model;

pub use model::*;

use crate::aws::Clients;
use crate::config::Partition;
use futures::stream::{FuturesUnordered, StreamExt};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

/// Limits on calls in flight: overall, and within one account x region.
#[derive(Clone)]
pub struct Limits {
    pub overall: Arc<Semaphore>,
    pub per_partition: usize,
}

impl Limits {
    pub fn from(clients: &Clients) -> Limits {
        let c = &clients.config().concurrency;
        Limits { overall: Arc::new(Semaphore::new(c.overall)), per_partition: c.per_partition }
    }
}

/// Discovers the given partitions; `on_done` sees each partition as it finishes.
pub async fn discover(clients: &Clients, partitions: &[Partition], on_done: impl Fn(&PartitionReport)) -> Discovery {
    let limits = Limits::from(clients);
    let mut running: FuturesUnordered<_> = partitions.iter().map(|p| one_partition(clients, p.clone(), &limits)).collect();
    let mut out = Discovery::default();
    while let Some((report, servers)) = running.next().await {
        on_done(&report);
        out.partitions.push(report);
        out.servers.extend(servers);
    }
    out.partitions.sort_by(|a, b| a.partition.cmp(&b.partition));
    out.servers.sort_by(|a, b| (&a.account, &a.region, &a.hostname).cmp(&(&b.account, &b.region, &b.hostname)));
    out
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

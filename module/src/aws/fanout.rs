//! Calls spread over accounts x regions: every partition at once (bounded by the configured
//! overall concurrency), and a bounded number of calls in flight within each (per_partition),
//! so that one account's throttling does not hold the others back.

use super::Clients;
use crate::config::Partition;
use futures::stream::{self, StreamExt};
use std::collections::BTreeMap;
use std::future::Future;

/// Runs `f(partition, item)` for every item, grouped by partition; results in the items'
/// order.
pub async fn by_partition<T, R, F, Fut>(clients: &Clients, items: Vec<(Partition, T)>, f: F) -> Vec<R>
where
    F: Fn(Partition, T) -> Fut + Clone,
    Fut: Future<Output = R>,
{
    let mut groups: BTreeMap<Partition, Vec<(usize, T)>> = BTreeMap::new();
    for (i, (p, t)) in items.into_iter().enumerate() {
        groups.entry(p).or_default().push((i, t));
    }
    let c = &clients.config().concurrency;
    let (overall, per_partition) = (c.overall.max(1), c.per_partition.max(1));
    let results: Vec<Vec<(usize, R)>> = stream::iter(groups)
        .map(|(p, ts)| {
            let f = f.clone();
            async move {
                stream::iter(ts)
                    .map(|(i, t)| {
                        let r = f(p.clone(), t);
                        async move { (i, r.await) }
                    })
                    .buffer_unordered(per_partition)
                    .collect::<Vec<_>>()
                    .await
            }
        })
        .buffer_unordered(overall)
        .collect()
        .await;
    let mut results: Vec<(usize, R)> = results.into_iter().flatten().collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs `f(item)` for every item, at most `concurrency.overall` at once; results in the
/// items' order. For one call per partition (or account): a thousand accounts x regions
/// must not open a thousand connections and sessions at once.
pub async fn each<T, R, F, Fut>(clients: &Clients, items: impl IntoIterator<Item = T>, f: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R>,
{
    stream::iter(items).map(f).buffered(clients.config().concurrency.overall.max(1)).collect().await
}

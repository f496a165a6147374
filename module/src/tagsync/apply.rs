//! Applying a tag-sync plan: one drs:TagResource per server, in the server's DRS account and
//! region, every partition at once and a bounded number of calls within each.

use super::{Plan, ServerChange};
use crate::accounts::reason::finding;
use crate::aws::Clients;
use crate::config::Partition;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub servers_tagged: usize,
    pub tags_set: usize,
    /// `hostname (account/region): reason` for each server that could not be tagged.
    pub failures: Vec<String>,
}

pub async fn apply(clients: &Clients, plan: &Plan) -> Applied {
    let mut by_partition: BTreeMap<Partition, Vec<&ServerChange>> = BTreeMap::new();
    for c in plan.changes.iter().filter(|c| !c.set.is_empty()) {
        by_partition.entry(Partition { account: c.account.clone(), region: c.region.clone() }).or_default().push(c);
    }
    let per_partition = clients.config().concurrency.per_partition.max(1);
    let results: Vec<Vec<Result<usize, String>>> = stream::iter(by_partition)
        .map(|(p, changes)| async move {
            let drs = match clients.drs(&p).await {
                Ok(d) => d,
                Err(e) => return changes.iter().map(|c| Err(failure(c, &format!("{e:#}")))).collect(),
            };
            stream::iter(changes)
                .map(|c| {
                    let drs = drs.clone();
                    async move {
                        let r = drs
                            .tag_resource()
                            .resource_arn(&c.arn)
                            .set_tags(Some(c.set.clone().into_iter().collect()))
                            .send()
                            .await;
                        r.map(|_| c.set.len()).map_err(|e| failure(c, &finding("drs:TagResource", &e).message))
                    }
                })
                .buffer_unordered(per_partition)
                .collect()
                .await
        })
        .buffer_unordered(clients.config().concurrency.overall.max(1))
        .collect()
        .await;
    let mut out = Applied::default();
    for r in results.into_iter().flatten() {
        match r {
            Ok(n) => {
                out.servers_tagged += 1;
                out.tags_set += n;
            }
            Err(f) => out.failures.push(f),
        }
    }
    out.failures.sort();
    out
}

fn failure(c: &ServerChange, reason: &str) -> String {
    format!("{} ({}/{}): {reason}", c.hostname, c.account, c.region)
}

//! Applying a tag-sync plan: one drs:TagResource per server, in the server's DRS account and
//! region, every partition at once and a bounded number of calls within each.

use super::model::{Plan, ServerChange};
use crate::accounts::reason::finding;
use crate::aws::fanout::by_partition;
use crate::aws::Clients;
use crate::config::Partition;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub servers_tagged: usize,
    pub tags_set: usize,
    /// `hostname (account/region): reason` for each server that could not be tagged.
    pub failures: Vec<String>,
}

pub async fn apply(clients: &Clients, plan: &Plan) -> Applied {
    let items: Vec<(Partition, &ServerChange)> = plan
        .changes
        .iter()
        .filter(|c| !c.set.is_empty())
        .map(|c| (Partition { account: c.account.clone(), region: c.region.clone() }, c))
        .collect();
    let results = by_partition(clients, items, |p, c| async move {
        let drs = clients.drs(&p).await.map_err(|e| failure(c, &format!("{e:#}")))?;
        let tags = c.set.clone().into_iter().collect();
        drs.tag_resource()
            .resource_arn(&c.arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| failure(c, &finding("drs:TagResource", &e).message))?;
        Ok::<usize, String>(c.set.len())
    })
    .await;
    let mut out = Applied::default();
    for r in results {
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

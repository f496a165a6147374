//! What a resource's executions launched and still exists: recovery instances found through
//! the jobs tagged with the resource (and the execution, when one is named) or through their
//! own tags, whichever DRS carries, so cleanup and replicate work without any payload.

use super::{failed, tags};
use crate::aws::Clients;
use crate::config::Partition;
use futures::future::try_join_all;
use serde::Serialize;
use std::collections::HashSet;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Launched {
    pub partition: Partition,
    pub recovery_instance_id: String,
    pub source_server_id: String,
    pub drill: bool,
    /// The failback replication state once ReverseReplication started.
    pub replication_state: Option<String>,
    /// True while a TerminateRecoveryInstances job holds it.
    pub terminating: bool,
}

pub struct Scope<'a> {
    pub resource: &'a str,
    pub execution: Option<&'a str>,
    pub drills: bool,
    pub recoveries: bool,
}

impl Scope<'_> {
    fn tagged(&self, t: Option<&std::collections::HashMap<String, String>>) -> bool {
        let Some(t) = t else { return false };
        t.get(tags::RESOURCE).map(String::as_str) == Some(self.resource)
            && self.execution.is_none_or(|e| t.get(tags::EXECUTION).map(String::as_str) == Some(e))
    }
}

pub async fn find(clients: &Clients, partitions: &[Partition], scope: &Scope<'_>) -> anyhow::Result<Vec<Launched>> {
    let per = try_join_all(partitions.iter().map(|p| in_partition(clients, p, scope))).await?;
    Ok(per.into_iter().flatten().collect())
}

async fn in_partition(clients: &Clients, p: &Partition, scope: &Scope<'_>) -> anyhow::Result<Vec<Launched>> {
    let drs = clients.drs(p).await?;
    let (mut ours, mut terminating) = (HashSet::new(), HashSet::new());
    let mut pages = drs.describe_jobs().max_results(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(p, "drs:DescribeJobs", &e))?;
        for j in page.items() {
            if scope.tagged(j.tags()) {
                ours.insert(j.job_id().to_owned());
            }
            let active = j.status().is_some_and(|s| s.as_str() != "COMPLETED");
            if active && j.r#type().is_some_and(|t| t.as_str() == "TERMINATE") {
                terminating.extend(j.participating_servers().iter().filter_map(|s| s.recovery_instance_id().map(str::to_owned)));
            }
        }
    }
    let mut out = vec![];
    let mut pages = drs.describe_recovery_instances().max_results(200).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(p, "drs:DescribeRecoveryInstances", &e))?;
        for r in page.items() {
            let by_job = r.job_id().is_some_and(|j| ours.contains(j));
            if !(by_job || scope.tagged(r.tags())) {
                continue;
            }
            let drill = r.is_drill().unwrap_or(false);
            if (drill && !scope.drills) || (!drill && !scope.recoveries) {
                continue;
            }
            let id = r.recovery_instance_id().unwrap_or_default().to_owned();
            out.push(Launched {
                partition: p.clone(),
                terminating: terminating.contains(&id),
                recovery_instance_id: id,
                source_server_id: r.source_server_id().unwrap_or_default().to_owned(),
                drill,
                replication_state: r
                    .data_replication_info()
                    .and_then(|d| d.data_replication_state())
                    .map(|s| s.as_str().to_owned()),
            });
        }
    }
    Ok(out)
}

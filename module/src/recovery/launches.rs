//! What a resource's executions launched and still exists: recovery instances found through
//! the jobs tagged with the resource (and the execution, when one is named) or through their
//! own tags, whichever DRS carries, so cleanup and replicate work without any payload. A
//! resource is known by its name and its identity (`drs-orch:resource-id`): instances of
//! another resource with the same name are counted, never taken. A partition that cannot be
//! read is named, and the others are still searched.

use super::tags;
use crate::aws::failed;
use crate::aws::Clients;
use crate::config::Partition;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

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
    /// The execution that launched it, as its job's (or its own) tags say.
    pub execution: Option<String>,
}

/// A launch job of the resource still running: what it launches is not listed yet.
#[derive(Debug, Clone)]
pub struct Launching {
    pub job_id: String,
    pub partition: Partition,
    pub execution: Option<String>,
}

impl std::fmt::Display for Launching {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.job_id, self.partition)
    }
}

#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub resource: &'a str,
    /// The resource's identity (`DrsResource::identity`); jobs from before it was recorded
    /// carry none and are matched by name.
    pub identity: Option<&'a str>,
    pub execution: Option<&'a str>,
    pub drills: bool,
    pub recoveries: bool,
}

/// Whether tags name this resource, another resource of the same name, or neither.
#[derive(PartialEq)]
enum Match {
    Ours,
    SameName,
    No,
}

impl Scope<'_> {
    fn tagged(&self, t: Option<&std::collections::HashMap<String, String>>) -> Match {
        let Some(t) = t else { return Match::No };
        let named = t.get(tags::RESOURCE).map(String::as_str) == Some(self.resource)
            && self.execution.is_none_or(|e| t.get(tags::EXECUTION).map(String::as_str) == Some(e));
        match (named, t.get(tags::RESOURCE_ID), self.identity) {
            (false, _, _) => Match::No,
            (true, Some(theirs), Some(ours)) if theirs != ours => Match::SameName,
            (true, _, _) => Match::Ours,
        }
    }
}

/// What a search found: this resource's instances, those of other resources with its name
/// (left alone), its launch jobs still running (what they launch is not listed yet), and the
/// partitions that could not be read (partition -> error).
#[derive(Debug, Default)]
pub struct Found {
    pub ours: Vec<Launched>,
    pub same_name: Vec<Launched>,
    /// The resource's launch jobs not yet COMPLETED, of the kinds in scope (drills,
    /// recoveries).
    pub launching: Vec<Launching>,
    pub unreachable: BTreeMap<Partition, String>,
}

/// A partition where DRS was never initialized holds no job and no instance: nothing to
/// clean, replicate or wait for, rather than a partition that cannot be read.
fn holds_nothing(e: &anyhow::Error) -> bool {
    e.downcast_ref::<crate::aws::CallFailed>().is_some_and(|c| c.error.kind == crate::aws::errors::Kind::DrsNotInitialized)
}

pub async fn find(clients: &Clients, partitions: &[Partition], scope: &Scope<'_>) -> Found {
    let per = crate::aws::fanout::each(clients, partitions, |p| in_partition(clients, p, scope)).await;
    let mut found = Found::default();
    for (p, r) in partitions.iter().zip(per) {
        match r {
            Ok(InPartition { ours, same_name, launching }) => {
                found.ours.extend(ours);
                found.same_name.extend(same_name);
                found.launching.extend(launching);
            }
            Err(e) if holds_nothing(&e) => {}
            Err(e) => {
                if Clients::is_session_refused(&e) {
                    clients.forget(&p.account).await;
                }
                found.unreachable.insert(p.clone(), format!("{e:#}"));
            }
        }
    }
    found
}

/// One partition's share of `Found`.
struct InPartition {
    ours: Vec<Launched>,
    same_name: Vec<Launched>,
    launching: Vec<Launching>,
}

async fn in_partition(clients: &Clients, p: &Partition, scope: &Scope<'_>) -> anyhow::Result<InPartition> {
    let drs = clients.drs(p).await?;
    let (mut others, mut terminating) = (HashSet::new(), HashSet::new());
    // The resource's jobs, with the execution each names.
    let mut ours: HashMap<String, Option<String>> = HashMap::new();
    let mut launching = vec![];
    let mut pages = drs.describe_jobs().max_results(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(p, "drs:DescribeJobs", &e))?;
        for j in page.items() {
            match scope.tagged(j.tags()) {
                Match::Ours => _ = ours.insert(j.job_id().to_owned(), tags::execution_of(j.tags())),
                Match::SameName => _ = others.insert(j.job_id().to_owned()),
                Match::No => {}
            }
            let active = j.status().is_some_and(|s| s.as_str() != "COMPLETED");
            let drill = j.initiated_by().is_some_and(|i| i.as_str() == "START_DRILL");
            let in_scope = if drill { scope.drills } else { scope.recoveries };
            if let Some(execution) =
                ours.get(j.job_id()).filter(|_| active && in_scope && j.r#type().is_some_and(|t| t.as_str() == "LAUNCH"))
            {
                launching.push(Launching { job_id: j.job_id().to_owned(), partition: p.clone(), execution: execution.clone() });
            }
            if active && j.r#type().is_some_and(|t| t.as_str() == "TERMINATE") {
                terminating.extend(j.participating_servers().iter().filter_map(|s| s.recovery_instance_id().map(str::to_owned)));
            }
        }
    }
    let (mut out, mut same_name) = (vec![], vec![]);
    let mut pages = drs.describe_recovery_instances().max_results(200).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed(p, "drs:DescribeRecoveryInstances", &e))?;
        for r in page.items() {
            // The job that launched it decides; an instance's own tags only when its job is gone.
            let by_job = r.job_id().and_then(|j| {
                if let Some(execution) = ours.get(j) {
                    Some((Match::Ours, execution.clone()))
                } else if others.contains(j) {
                    Some((Match::SameName, None))
                } else {
                    None
                }
            });
            let (whose, execution) = by_job.unwrap_or_else(|| (scope.tagged(r.tags()), tags::execution_of(r.tags())));
            if whose == Match::No {
                continue;
            }
            let drill = r.is_drill().unwrap_or(false);
            if (drill && !scope.drills) || (!drill && !scope.recoveries) {
                continue;
            }
            let id = r.recovery_instance_id().unwrap_or_default().to_owned();
            let list = if whose == Match::Ours { &mut out } else { &mut same_name };
            list.push(Launched {
                partition: p.clone(),
                terminating: terminating.contains(&id),
                recovery_instance_id: id,
                source_server_id: r.source_server_id().unwrap_or_default().to_owned(),
                execution,
                drill,
                replication_state: r
                    .data_replication_info()
                    .and_then(|d| d.data_replication_state())
                    .map(|s| s.as_str().to_owned()),
            });
        }
    }
    Ok(InPartition { ours: out, same_name, launching })
}

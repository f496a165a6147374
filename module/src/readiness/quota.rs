//! Quota headroom for the plan's jobs: per account x region, the largest wave's jobs and
//! servers (the waves that start with the run counted together: they start at one check)
//! against the configured quotas less what DRS jobs active there now hold
//! (drs:DescribeJobs, not COMPLETED). Short headroom slows a recovery (jobs wait for others
//! to finish) rather than stopping it, so it leaves the resource unverified, not unready.

use super::verdict::{Check, Reason, Verdict};
use crate::aws::errors::AwsError;
use crate::aws::fanout::each;
use crate::aws::Clients;
use crate::config::{Partition, Quotas};
use crate::plan::WavePlan;
use std::collections::BTreeMap;

/// What the largest wave asks of one partition: jobs starting with it, their servers, and
/// jobs that wait already under the quotas alone.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub jobs: usize,
    pub servers: usize,
    pub waiting: usize,
}

/// What is in use now in one partition.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Active {
    pub jobs: usize,
    pub servers: usize,
}

/// The most any one wave asks of each partition, the waves that depend on nothing (they all
/// start at the run's first check) asked as one.
pub fn needs(waves: &[WavePlan]) -> BTreeMap<Partition, (String, Need)> {
    let mut out: BTreeMap<Partition, (String, Need)> = BTreeMap::new();
    let roots: Vec<&WavePlan> = waves.iter().filter(|w| w.depends_on.is_empty()).collect();
    let together = roots.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(" + ");
    let asks = std::iter::once((together, roots))
        .chain(waves.iter().filter(|w| !w.depends_on.is_empty()).map(|w| (w.name.clone(), vec![w])));
    for (name, group) in asks {
        let mut per: BTreeMap<Partition, Need> = BTreeMap::new();
        for j in group.iter().flat_map(|w| &w.jobs) {
            let n = per.entry(Partition { account: j.account.clone(), region: j.region.clone() }).or_default();
            match j.starts_with_wave {
                true => {
                    n.jobs += 1;
                    n.servers += j.source_server_ids.len();
                }
                false => n.waiting += 1,
            }
        }
        for (p, n) in per {
            let bigger = out.get(&p).is_none_or(|(_, have)| (n.jobs, n.servers) > (have.jobs, have.servers));
            if bigger {
                out.insert(p, (name.clone(), n));
            }
        }
    }
    out
}

/// The verdict of one partition's headroom.
pub fn judge(p: &Partition, wave: &str, need: Need, active: Active, q: &Quotas) -> Option<Reason> {
    let jobs_left = q.concurrent_jobs.saturating_sub(active.jobs);
    let servers_left = q.servers_in_active_jobs.saturating_sub(active.servers);
    let mut short = vec![];
    if need.waiting > 0 {
        short.push(format!("{} of its jobs wait under the quotas alone", need.waiting));
    }
    if need.jobs > jobs_left || need.servers > servers_left {
        short.push(format!(
            "it starts {} jobs of {} servers while {} jobs of {} servers are active there now \
             (quotas: {} concurrent jobs, {} servers in active jobs)",
            need.jobs, need.servers, active.jobs, active.servers, q.concurrent_jobs, q.servers_in_active_jobs
        ));
    }
    (!short.is_empty()).then(|| {
        Reason::at(
            Check::Quota,
            Verdict::NeedsVerification,
            p,
            format!("wave {wave}: {}: it would launch slower", short.join("; ")),
        )
    })
}

/// Jobs and servers in DRS jobs not yet COMPLETED, per partition.
pub async fn active(clients: &Clients, partitions: Vec<Partition>) -> BTreeMap<Partition, Result<Active, String>> {
    each(clients, partitions, |p| async move {
        let r = active_in(clients, &p).await.map_err(|e| format!("{e:#}"));
        (p, r)
    })
    .await
    .into_iter()
    .collect()
}

async fn active_in(clients: &Clients, p: &Partition) -> anyhow::Result<Active> {
    let drs = clients.drs(p).await?;
    let mut pages = drs.describe_jobs().max_results(1000).into_paginator().send();
    let mut out = Active::default();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("drs:DescribeJobs", &e))?;
        for j in page.items().iter().filter(|j| j.status().is_some_and(|s| s.as_str() != "COMPLETED")) {
            out.jobs += 1;
            out.servers += j.participating_servers().len();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::jobs::PlannedJob;

    fn job(n: usize, starts: bool) -> PlannedJob {
        PlannedJob {
            account: "1".into(),
            region: "r".into(),
            source_server_ids: (0..n).map(|i| format!("s-{i}")).collect(),
            starts_with_wave: starts,
        }
    }

    #[test]
    fn the_largest_wave_against_what_is_active_now() {
        let waves = vec![
            WavePlan { name: "db".into(), depends_on: vec![], servers: vec![], jobs: vec![job(10, true)] },
            WavePlan {
                name: "web".into(),
                depends_on: vec!["db".into()],
                servers: vec![],
                jobs: vec![job(100, true), job(50, true)],
            },
        ];
        let (p, (wave, need)) = needs(&waves).into_iter().next().expect("one partition");
        assert_eq!((wave.as_str(), need), ("web", Need { jobs: 2, servers: 150, waiting: 0 }));
        let q = Quotas { servers_per_job: 100, servers_in_active_jobs: 500, concurrent_jobs: 20 };
        assert_eq!(judge(&p, &wave, need, Active::default(), &q), None);
        let busy = judge(&p, &wave, need, Active { jobs: 19, servers: 100 }, &q).expect("one job slot left");
        assert_eq!(busy.verdict, Verdict::NeedsVerification);
        assert!(busy.message.contains("19 jobs of 100 servers are active"), "{}", busy.message);
    }

    #[test]
    fn the_waves_that_start_with_the_run_ask_together() {
        let waves = vec![
            WavePlan { name: "a-db".into(), depends_on: vec![], servers: vec![], jobs: vec![job(60, true)] },
            WavePlan { name: "b-db".into(), depends_on: vec![], servers: vec![], jobs: vec![job(70, true)] },
            WavePlan { name: "a-web".into(), depends_on: vec!["a-db".into()], servers: vec![], jobs: vec![job(100, true)] },
        ];
        let (_, (wave, need)) = needs(&waves).into_iter().next().expect("one partition");
        assert_eq!((wave.as_str(), need), ("a-db + b-db", Need { jobs: 2, servers: 130, waiting: 0 }));
    }
}

//! DRS jobs of one wave: servers grouped by account x region and split within the quotas
//! (servers per job); jobs past the concurrent-job or active-server quota of their
//! partition wait for an earlier job to finish.

use crate::config::Quotas;
use crate::selection::ServerRef;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedJob {
    pub account: String,
    pub region: String,
    pub source_server_ids: Vec<String>,
    /// True when the partition's quotas let it start with the wave; false when it waits.
    pub starts_with_wave: bool,
}

pub fn split(servers: &[ServerRef], q: &Quotas) -> Vec<PlannedJob> {
    let mut by: BTreeMap<(&str, &str), Vec<&ServerRef>> = BTreeMap::new();
    for s in servers {
        by.entry((&s.account, &s.region)).or_default().push(s);
    }
    let per_job = q.servers_per_job.max(1);
    let mut out = vec![];
    for ((account, region), list) in by {
        let (mut jobs, mut active) = (0, 0);
        for chunk in list.chunks(per_job) {
            let fits = jobs < q.concurrent_jobs && active + chunk.len() <= q.servers_in_active_jobs;
            if fits {
                jobs += 1;
                active += chunk.len();
            }
            out.push(PlannedJob {
                account: account.to_owned(),
                region: region.to_owned(),
                source_server_ids: chunk.iter().map(|s| s.source_server_id.clone()).collect(),
                starts_with_wave: fits,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(n: usize, account: &str) -> Vec<ServerRef> {
        (0..n)
            .map(|i| ServerRef {
                account: account.into(),
                region: "us-east-1".into(),
                hostname: format!("h{i}"),
                source_server_id: format!("s-{i:017}"),
            })
            .collect()
    }

    #[test]
    fn jobs_split_per_partition_within_quotas() {
        let mut servers = refs(250, "1");
        servers.extend(refs(30, "2"));
        let q = Quotas { servers_per_job: 100, servers_in_active_jobs: 220, concurrent_jobs: 20 };
        let jobs = split(&servers, &q);
        let sizes: Vec<(String, usize, bool)> =
            jobs.iter().map(|j| (j.account.clone(), j.source_server_ids.len(), j.starts_with_wave)).collect();
        assert_eq!(
            sizes,
            vec![("1".into(), 100, true), ("1".into(), 100, true), ("1".into(), 50, false), ("2".into(), 30, true)]
        );
    }
}

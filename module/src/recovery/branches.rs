//! Waves as a graph: a wave starts when the waves it depends on have completed, so independent
//! branches run at once. What one status check shares among the waves it judges: each
//! partition's quotas (the jobs started in this check count against them, and the headroom is
//! shared fairly among the waves that may start there), and which waves' `after-wave` hooks
//! have run (once, at the crossing of the first of their dependents to cross).

use super::observe::ObservedJob;
use super::payload::Payload;
use crate::ledger::RunRecord;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Mutex;

/// Per check: what waves started where, and whose after-wave hooks ran.
#[derive(Debug, Default)]
pub struct Shared {
    /// Partition (payload index) -> the waves that may start servers there at this check:
    /// their dependencies completed by the check's start, and servers of theirs not in a job.
    contenders: BTreeMap<usize, usize>,
    /// Partition -> (jobs, servers) started by this check so far.
    started: Mutex<BTreeMap<usize, (usize, usize)>>,
    /// Waves whose after-wave hooks ran at a crossing of this check.
    after_run: Mutex<BTreeSet<usize>>,
}

/// How much of a partition's quotas a wave may take now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    /// Jobs and servers already active or started (this run's, this check's included).
    pub jobs: usize,
    pub servers: usize,
    /// This wave's fair part of the headroom there: at most so many more jobs and servers.
    pub share_jobs: usize,
    pub share_servers: usize,
    /// How many waves share the partition's headroom at this check.
    pub sharing: usize,
}

impl Shared {
    pub fn new(payload: &Payload, record: &RunRecord, jobs: &[ObservedJob]) -> Shared {
        let in_jobs: HashSet<&str> = jobs.iter().flat_map(|j| j.servers.iter().map(|s| s.source_server_id.as_str())).collect();
        let mut contenders: BTreeMap<usize, usize> = BTreeMap::new();
        for (w, wave) in payload.waves.iter().enumerate() {
            let ready = payload.depends_on(w).iter().all(|d| record.completed(*d).is_some());
            if record.completed(w).is_some() || !ready {
                continue;
            }
            for g in &wave.groups {
                if g.servers.iter().any(|id| !in_jobs.contains(id.as_str())) {
                    *contenders.entry(g.partition).or_default() += 1;
                }
            }
        }
        Shared { contenders, ..Shared::default() }
    }

    /// Wave's allowance in partition `p`, where `active` jobs of `active_servers` servers of
    /// the run were active at the check's start, under quotas of `max_jobs` and `max_servers`.
    pub fn allowance(&self, p: usize, active: usize, active_servers: usize, max_jobs: usize, max_servers: usize) -> Allowance {
        let (jobs_now, servers_now) = self.started.lock().map(|s| s.get(&p).copied().unwrap_or_default()).unwrap_or_default();
        let sharing = self.contenders.get(&p).copied().unwrap_or(1).max(1);
        let part = |max: usize, used: usize| max.saturating_sub(used).div_ceil(sharing);
        Allowance {
            jobs: active + jobs_now,
            servers: active_servers + servers_now,
            share_jobs: part(max_jobs, active),
            share_servers: part(max_servers, active_servers),
            sharing,
        }
    }

    /// A job of `servers` servers started in partition `p` at this check.
    pub fn started(&self, p: usize, servers: usize) {
        if let Ok(mut s) = self.started.lock() {
            let e = s.entry(p).or_default();
            e.0 += 1;
            e.1 += servers;
        }
    }

    /// The waves before wave `w` whose after-wave hooks run at its crossing: those it depends
    /// on that no other dependent has crossed (recorded, or at this check).
    pub fn afters_for(&self, payload: &Payload, record: &RunRecord, w: usize) -> Vec<usize> {
        let ran = self.after_run.lock().map(|r| r.clone()).unwrap_or_default();
        payload
            .depends_on(w)
            .into_iter()
            .filter(|d| !ran.contains(d))
            .filter(|d| !payload.dependents(*d).iter().any(|x| *x != w && record.crossing(*x).is_some()))
            .collect()
    }

    /// Wave `w` crossed at this check: the after-wave hooks of `afters` ran.
    pub fn crossed(&self, afters: &[usize]) {
        if let Ok(mut r) = self.after_run.lock() {
            r.extend(afters.iter().copied());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headroom_is_shared_among_the_waves_that_may_start() {
        let shared = Shared { contenders: BTreeMap::from([(0, 2), (1, 1)]), ..Shared::default() };
        // 20 concurrent jobs and 500 servers; 4 jobs of 100 servers active at the start.
        let a = shared.allowance(0, 4, 100, 20, 500);
        assert_eq!((a.share_jobs, a.share_servers, a.sharing), (8, 200, 2));
        shared.started(0, 100);
        let b = shared.allowance(0, 4, 100, 20, 500);
        assert_eq!((b.jobs, b.servers), (5, 200), "this check's jobs count against the quotas");
        let alone = shared.allowance(1, 0, 0, 20, 500);
        assert_eq!((alone.share_jobs, alone.share_servers), (20, 500), "a wave alone takes all");
        let full = shared.allowance(0, 20, 500, 20, 500);
        assert_eq!((full.share_jobs, full.share_servers), (0, 0));
    }
}

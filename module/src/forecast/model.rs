//! The run played forward on paper, as the status checks play it: at each check (one poll
//! interval apart, the first at activation) the jobs that ended are seen done; a wave whose
//! jobs all ended is done and the next wave starts in that same check; otherwise the wave's
//! servers not yet in a job are cut into jobs of `serversPerJob`, and each job starts when its
//! partition's concurrent-job and active-server quotas let it (`recovery::start` does the
//! same, chunk by chunk, skipping a chunk that does not fit).

use crate::config::Quotas;
use std::collections::{BTreeMap, VecDeque};

/// A wave as the forecast sees it: per partition (any key), its servers in start order.
#[derive(Debug, Clone)]
pub struct WaveInput {
    pub name: String,
    pub partitions: BTreeMap<String, Vec<String>>,
}

/// When a wave starts and ends, in seconds from activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: f64,
    pub end: f64,
}

/// A wave that can never start all its servers: a job of `serversPerJob` servers exceeds
/// the partition's `serversInActiveJobs` (the run would wait forever).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("wave {wave}: {servers} servers in {partition} never fit the quotas (a job of them exceeds serversInActiveJobs)")]
pub struct Stuck {
    pub wave: String,
    pub partition: String,
    pub servers: usize,
}

/// A running job: when it ends, how many servers it holds.
struct Running {
    end: f64,
    servers: usize,
}

/// Plays `waves` in order. `job_seconds` gives a job's duration from its servers.
pub fn play(waves: &[WaveInput], q: &Quotas, poll: f64, job_seconds: &dyn Fn(&[String]) -> f64) -> Result<Vec<Span>, Stuck> {
    let per_job = q.servers_per_job.max(1);
    let poll = poll.max(1.0);
    let mut t = 0.0;
    let mut spans = vec![];
    for w in waves {
        let start = t;
        let mut todo: BTreeMap<&str, VecDeque<&String>> =
            w.partitions.iter().map(|(p, s)| (p.as_str(), s.iter().collect())).collect();
        let mut running: BTreeMap<&str, Vec<Running>> = BTreeMap::new();
        loop {
            for jobs in running.values_mut() {
                jobs.retain(|j| j.end > t);
            }
            if todo.values().all(VecDeque::is_empty) && running.values().all(Vec::is_empty) {
                break;
            }
            for (p, queue) in todo.iter_mut() {
                let jobs = running.entry(p).or_default();
                let left: Vec<&String> = queue.drain(..).collect();
                for chunk in left.chunks(per_job) {
                    let active: usize = jobs.iter().map(|j| j.servers).sum();
                    if jobs.len() < q.concurrent_jobs && active + chunk.len() <= q.servers_in_active_jobs {
                        let ids: Vec<String> = chunk.iter().map(|s| (*s).clone()).collect();
                        jobs.push(Running { end: t + job_seconds(&ids), servers: chunk.len() });
                    } else if jobs.is_empty() {
                        return Err(Stuck { wave: w.name.clone(), partition: (*p).to_owned(), servers: chunk.len() });
                    } else {
                        queue.extend(chunk.iter().copied());
                    }
                }
            }
            t += poll;
        }
        spans.push(Span { start, end: t });
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(name: &str, parts: &[(&str, usize)]) -> WaveInput {
        WaveInput {
            name: name.into(),
            partitions: parts.iter().map(|(p, n)| ((*p).to_owned(), (0..*n).map(|i| format!("{p}-{i}")).collect())).collect(),
        }
    }

    fn q(per_job: usize, active: usize, jobs: usize) -> Quotas {
        Quotas { servers_per_job: per_job, servers_in_active_jobs: active, concurrent_jobs: jobs }
    }

    #[test]
    fn a_wave_ends_at_the_first_check_after_its_last_job_and_the_next_starts_there() {
        let waves = [wave("db", &[("a", 2), ("b", 1)]), wave("web", &[("a", 1)])];
        // Jobs of partition a take 100 s, of b 250 s.
        let d = |ids: &[String]| if ids[0].starts_with('a') { 100.0 } else { 250.0 };
        let spans = play(&waves, &q(100, 500, 20), 30.0, &d).expect("fits");
        // 250 s ends between the checks at 240 and 270.
        assert_eq!(spans, vec![Span { start: 0.0, end: 270.0 }, Span { start: 270.0, end: 390.0 }]);
    }

    #[test]
    fn a_job_past_the_concurrent_job_quota_waits_for_a_check_after_one_ends() {
        // 3 jobs of 1 server, 2 at a time: the third starts at the check at 120 (the first
        // two end at 100), and ends at 220, seen at 240.
        let spans = play(&[wave("w", &[("a", 3)])], &q(1, 500, 2), 60.0, &|_| 100.0).expect("fits");
        assert_eq!(spans, vec![Span { start: 0.0, end: 240.0 }]);
    }

    #[test]
    fn a_smaller_chunk_that_fits_starts_beside_one_that_waits() {
        // 150 servers in jobs of 100 with 120 active at most: 100 start, then the 50 cannot
        // (150 > 120) and wait for the first job to end.
        let spans = play(&[wave("w", &[("a", 150)])], &q(100, 120, 20), 10.0, &|_| 95.0).expect("fits");
        assert_eq!(spans, vec![Span { start: 0.0, end: 200.0 }]);
    }

    #[test]
    fn a_job_that_can_never_fit_is_named_rather_than_played_forever() {
        let e = play(&[wave("w", &[("a", 5)])], &q(5, 3, 20), 10.0, &|_| 1.0).expect_err("never fits");
        assert_eq!(e, Stuck { wave: "w".into(), partition: "a".into(), servers: 5 });
    }

    #[test]
    fn an_empty_wave_ends_where_it_starts() {
        let spans = play(&[wave("w", &[])], &q(100, 500, 20), 30.0, &|_| 1.0).expect("fits");
        assert_eq!(spans, vec![Span { start: 0.0, end: 0.0 }]);
    }
}

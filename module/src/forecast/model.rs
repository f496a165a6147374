//! The run played forward on paper, as the status checks play it: at each check (one poll
//! interval apart, the first at activation) the jobs that ended are seen done; a wave whose
//! jobs all ended is done, and the waves that depend on it (all their dependencies done)
//! start in that same check, so independent branches run side by side; a started wave's
//! servers not yet in a job are cut into jobs of `serversPerJob`, and each job starts when its
//! partition's concurrent-job and active-server quotas let it, the headroom shared among the
//! waves starting there (`recovery::start` and `recovery::branches` do the same, chunk by
//! chunk, skipping a chunk that does not fit).

use crate::config::Quotas;
use std::collections::{BTreeMap, VecDeque};

/// A wave as the forecast sees it: per partition (any key), its servers in start order, and
/// the waves it waits for (indexes of earlier waves).
#[derive(Debug, Clone)]
pub struct WaveInput {
    pub name: String,
    pub partitions: BTreeMap<String, Vec<String>>,
    pub after: Vec<usize>,
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

/// A running job: its wave, when it ends, how many servers it holds.
struct Running {
    wave: usize,
    end: f64,
    servers: usize,
}

/// One wave while it plays.
struct Playing<'a> {
    start: Option<f64>,
    end: Option<f64>,
    todo: BTreeMap<&'a str, VecDeque<&'a String>>,
}

/// Plays `waves` (each after the waves it depends on). `job_seconds` gives a job's duration
/// from its servers.
pub fn play(waves: &[WaveInput], q: &Quotas, poll: f64, job_seconds: &dyn Fn(&[String]) -> f64) -> Result<Vec<Span>, Stuck> {
    let per_job = q.servers_per_job.max(1);
    let poll = poll.max(1.0);
    let mut t = 0.0;
    let mut state: Vec<Playing> = waves
        .iter()
        .map(|w| Playing {
            start: None,
            end: None,
            todo: w.partitions.iter().map(|(p, s)| (p.as_str(), s.iter().collect())).collect(),
        })
        .collect();
    let mut running: BTreeMap<&str, Vec<Running>> = BTreeMap::new();
    loop {
        for jobs in running.values_mut() {
            jobs.retain(|j| j.end > t);
        }
        // In plan order, each wave after those it depends on: one pass settles this check.
        for w in 0..waves.len() {
            let ready = waves[w].after.iter().all(|d| state.get(*d).is_some_and(|s| s.end.is_some()));
            if state[w].start.is_none() && ready {
                state[w].start = Some(t);
            }
            let idle = state[w].todo.values().all(VecDeque::is_empty) && !running.values().flatten().any(|j| j.wave == w);
            if state[w].start.is_some() && state[w].end.is_none() && idle {
                state[w].end = Some(t);
            }
        }
        if state.iter().all(|s| s.end.is_some()) {
            break;
        }
        if state.iter().all(|s| s.start.is_none() || s.end.is_some()) && state.iter().any(|s| s.start.is_none()) {
            // Nothing runs and nothing can start: a dependency that is not earlier.
            let w = state.iter().position(|s| s.start.is_none()).unwrap_or(0);
            return Err(Stuck { wave: waves[w].name.clone(), partition: "(its dependencies)".into(), servers: 0 });
        }
        start_jobs(waves, &mut state, &mut running, q, per_job, t, job_seconds)?;
        t += poll;
    }
    Ok(state.iter().map(|s| Span { start: s.start.unwrap_or(t), end: s.end.unwrap_or(t) }).collect())
}

/// One check's starts: each started wave's chunks in turn, within the partition's quotas and,
/// past its first job of the check, within its part of the headroom the check began with.
fn start_jobs<'a>(
    waves: &[WaveInput],
    state: &mut [Playing<'a>],
    running: &mut BTreeMap<&'a str, Vec<Running>>,
    q: &Quotas,
    per_job: usize,
    t: f64,
    job_seconds: &dyn Fn(&[String]) -> f64,
) -> Result<(), Stuck> {
    let moving = |s: &Playing, p: &str| s.start.is_some() && s.end.is_none() && s.todo.get(p).is_some_and(|q| !q.is_empty());
    let mut sharing: BTreeMap<&str, usize> = BTreeMap::new();
    for s in state.iter() {
        for p in s.todo.keys() {
            if moving(s, p) {
                *sharing.entry(*p).or_default() += 1;
            }
        }
    }
    let at_start: BTreeMap<&str, (usize, usize)> =
        running.iter().map(|(p, jobs)| (*p, (jobs.len(), jobs.iter().map(|j| j.servers).sum()))).collect();
    for (w, s) in state.iter_mut().enumerate() {
        if s.start.is_none() || s.end.is_some() {
            continue;
        }
        for (p, queue) in s.todo.iter_mut() {
            let n = sharing.get(p).copied().unwrap_or(1).max(1);
            let (jobs0, servers0) = at_start.get(p).copied().unwrap_or_default();
            let (share_jobs, share_servers) = (
                q.concurrent_jobs.saturating_sub(jobs0).div_ceil(n),
                q.servers_in_active_jobs.saturating_sub(servers0).div_ceil(n),
            );
            let jobs = running.entry(p).or_default();
            let left: Vec<&String> = queue.drain(..).collect();
            let (mut mine_jobs, mut mine_servers) = (0, 0);
            for chunk in left.chunks(per_job) {
                let active: usize = jobs.iter().map(|j| j.servers).sum();
                let fits = jobs.len() < q.concurrent_jobs && active + chunk.len() <= q.servers_in_active_jobs;
                let within_share = mine_jobs == 0 || (mine_jobs < share_jobs && mine_servers + chunk.len() <= share_servers);
                if fits && within_share {
                    let ids: Vec<String> = chunk.iter().map(|s| (*s).clone()).collect();
                    jobs.push(Running { wave: w, end: t + job_seconds(&ids), servers: chunk.len() });
                    (mine_jobs, mine_servers) = (mine_jobs + 1, mine_servers + chunk.len());
                } else if jobs.is_empty() {
                    return Err(Stuck { wave: waves[w].name.clone(), partition: (*p).to_owned(), servers: chunk.len() });
                } else {
                    queue.extend(chunk.iter().copied());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(name: &str, parts: &[(&str, usize)]) -> WaveInput {
        WaveInput {
            name: name.into(),
            partitions: parts.iter().map(|(p, n)| ((*p).to_owned(), (0..*n).map(|i| format!("{p}-{i}")).collect())).collect(),
            after: vec![],
        }
    }

    fn after(mut w: WaveInput, on: &[usize]) -> WaveInput {
        w.after = on.to_vec();
        w
    }

    fn q(per_job: usize, active: usize, jobs: usize) -> Quotas {
        Quotas { servers_per_job: per_job, servers_in_active_jobs: active, concurrent_jobs: jobs }
    }

    #[test]
    fn a_wave_ends_at_the_first_check_after_its_last_job_and_the_next_starts_there() {
        let waves = [wave("db", &[("a", 2), ("b", 1)]), after(wave("web", &[("a", 1)]), &[0])];
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

    #[test]
    fn independent_branches_run_side_by_side_and_share_the_quotas() {
        // Two applications of a db and a web wave each, in one partition: 4 jobs at a time,
        // jobs of 1 server taking 100 s.
        let waves = [
            wave("a-db", &[("p", 2)]),
            wave("b-db", &[("p", 4)]),
            after(wave("a-web", &[("p", 1)]), &[0]),
            after(wave("b-web", &[("p", 1)]), &[1]),
        ];
        let spans = play(&waves, &q(1, 500, 4), 60.0, &|_| 100.0).expect("fits");
        // Both dbs start at 0, sharing 4 jobs two and two; a-db ends at 120, b-db's last two
        // start at 120 (a-web takes the third) and end at 240.
        assert_eq!(spans[0], Span { start: 0.0, end: 120.0 });
        assert_eq!(spans[2], Span { start: 120.0, end: 240.0 });
        assert_eq!(spans[1], Span { start: 0.0, end: 240.0 });
        assert_eq!(spans[3], Span { start: 240.0, end: 360.0 });
        // In a line the same waves take longer.
        let line: Vec<WaveInput> =
            waves.iter().enumerate().map(|(i, w)| after(w.clone(), &i.checked_sub(1).into_iter().collect::<Vec<_>>())).collect();
        let spans = play(&line, &q(1, 500, 4), 60.0, &|_| 100.0).expect("fits");
        assert!(spans[3].end > 360.0, "{spans:?}");
    }
}

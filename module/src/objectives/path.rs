//! The critical path: the chain of waves that set the run's end. From the wave that ended
//! last, back through what each waited for (`WaveRun::waits_for`), taking at each step the
//! wave among those that ended last: the one that held it back. With waves in one line that
//! is every wave that ran; with waves as a graph it is the longest branch.

use super::WaveRun;
use std::collections::BTreeSet;

/// The waves (indexes) of the critical path, first to last; empty when no wave ended.
pub fn critical_path(waves: &[WaveRun]) -> Vec<usize> {
    let latest = |among: &mut dyn Iterator<Item = usize>| {
        // Ties go to the later wave: the one planned after waited for the other.
        among.filter_map(|w| waves.get(w).and_then(|x| x.ended).map(|e| (e, w))).max().map(|(_, w)| w)
    };
    let mut path = vec![];
    let mut seen = BTreeSet::new();
    let mut at = latest(&mut (0..waves.len()));
    while let Some(w) = at.filter(|w| seen.insert(*w)) {
        path.push(w);
        at = latest(&mut waves[w].waits_for.iter().copied());
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Targets;
    use chrono::{DateTime, Utc};

    fn wave(ended: Option<i64>, waits_for: Vec<usize>) -> WaveRun<'static> {
        let t0 = DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z").unwrap().with_timezone(&Utc);
        WaveRun {
            name: "w",
            started: None,
            ended: ended.map(|m| t0 + chrono::Duration::minutes(m)),
            completed: ended.is_some(),
            waits_for,
            targets: Targets::default(),
            servers: vec![],
        }
    }

    #[test]
    fn follows_what_each_wave_waited_for_back_from_the_last_to_end() {
        // In line: every wave.
        assert_eq!(critical_path(&[wave(Some(5), vec![]), wave(Some(9), vec![0]), wave(Some(14), vec![1])]), [0, 1, 2]);
        // As a graph: 0 -> {1, 2} -> 3; branch 2 ended later, so it is on the path, 1 is not.
        let graph = [wave(Some(5), vec![]), wave(Some(8), vec![0]), wave(Some(12), vec![0]), wave(Some(20), vec![1, 2])];
        assert_eq!(critical_path(&graph), [0, 2, 3]);
        // A wave that never ended is not on it; nothing ended, no path.
        assert_eq!(critical_path(&[wave(Some(5), vec![]), wave(None, vec![0])]), [0]);
        assert!(critical_path(&[wave(None, vec![])]).is_empty());
        // A cycle in bad input ends the walk rather than looping.
        assert_eq!(critical_path(&[wave(Some(5), vec![1]), wave(Some(9), vec![0])]), [0, 1]);
    }
}

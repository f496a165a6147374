//! A resource's objectives as its report judges them: the waves as the report read them (their
//! ends, each server's launch and the point in time of its data), the run's start and end
//! from its record, the targets and what each wave waits for from its plan, through `objectives::measure`.

use super::{WaveReport, WaveState};
use crate::ledger::RunRecord;
use crate::objectives::{self, Objectives, RunTimes, ServerRun, WaveRun};
use crate::recovery::payload::Payload;
use crate::resource::Targets;

/// `succeeded`: the run ended without an error (when its end is recorded).
pub(super) fn objectives(payload: &Payload, record: &RunRecord, succeeded: bool, waves: &[WaveReport]) -> Objectives {
    let run = RunTimes { started: record.started, ended: record.end.is_some(), succeeded };
    let planned = |w: usize| match payload.waves.get(w) {
        Some(p) => (p.targets, payload.depends_on(w)),
        None => (Targets::default(), vec![]),
    };
    of_waves(&run, payload.targets, &planned, waves)
}

/// The objectives of `waves`; `planned` gives each wave's targets and the waves it waits for.
pub(super) fn of_waves(
    run: &RunTimes,
    resource: Targets,
    planned: &dyn Fn(usize) -> (Targets, Vec<usize>),
    waves: &[WaveReport],
) -> Objectives {
    let runs: Vec<WaveRun> = waves
        .iter()
        .enumerate()
        .map(|(w, wave)| {
            let (targets, depends_on) = planned(w);
            WaveRun {
                name: &wave.name,
                started: wave.started,
                ended: wave.ended,
                completed: wave.state == WaveState::Completed,
                waits_for: objectives::waits_for(w, &depends_on),
                targets,
                servers: wave
                    .servers
                    .iter()
                    .map(|s| ServerRun {
                        id: &s.source_server_id,
                        job: s.job_id.as_deref(),
                        launched: s.launched,
                        snapshot: s.snapshot,
                    })
                    .collect(),
            }
        })
        .collect();
    objectives::measure(run, resource, &runs)
}

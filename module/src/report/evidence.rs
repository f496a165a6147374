//! The parts of a resource's section that an auditor reads as evidence: the objectives (RTO
//! and RPO achieved against their targets, resource and waves, and the critical path), who
//! answered each approval gate and when, and which component (by digest) each hook decision
//! came from. Blocks of the document (`view.rs`), for both markups; texts stay raw here and
//! are escaped by the renderer.

use super::figures::{fmt_duration, wave_label};
use super::view::{col, Block, Cell, Column, ColumnKind::*, Field};
use super::{when, ResourceReport, WaveReport};
use crate::objectives::{Judgement, Objective, Objectives};

const OBJECTIVES: &[Column] = &[
    col("Scope", Text),
    col("Objective", Text),
    col("Target", Number),
    col("Achieved", Number),
    col("Verdict", Text),
    col("Note", Wrap),
];
const APPROVALS: &[Column] = &[
    col("Wave", Text),
    col("Decision", Text),
    col("Approver", Text),
    col("Answered", Text),
    col("Approval execution", Wrap),
    col("Reason", Wrap),
];

fn text(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

fn heading(text: &str) -> Block {
    Block::Heading { level: 3, text: text.to_owned(), aside: None }
}

/// Objectives, then the critical path: what the run achieved against its targets.
pub(super) fn objectives(res: &ResourceReport) -> Vec<Block> {
    let Some(o) = &res.objectives else { return vec![] };
    let mut rows = vec![];
    rows.push(row("resource", "RTO", &o.rto, None));
    rows.push(row("resource", "RPO", &o.rpo, o.oldest_data.as_deref()));
    for w in &o.waves {
        let label = res.waves.get(w.index - 1).map(wave_label).unwrap_or_else(|| format!("wave {}", w.index));
        rows.push(row(&label, "RTO", &w.rto, None));
        rows.push(row(&label, "RPO", &w.rpo, w.oldest_data.as_deref()));
    }
    let mut blocks =
        vec![heading("Objectives"), Block::Fields(vec![Field { name: "Measured from".into(), value: text(&measured_from(o)) }])];
    blocks.push(Block::Table(super::view::Table { columns: OBJECTIVES, rows }));
    if !o.has_targets() {
        blocks
            .push(Block::Note("No TargetRtoMinutes or TargetRpoMinutes set: what was achieved is reported, not judged.".into()));
    }
    blocks.push(heading("Critical path"));
    blocks.push(critical_path(res, o));
    blocks
}

fn measured_from(o: &Objectives) -> String {
    format!(
        "{} (the run's start): RTO to each wave's last launch, RPO as the age there of each server's launched point in time",
        when(&o.measured_from)
    )
}

fn row(scope: &str, what: &str, o: &Objective, oldest: Option<&str>) -> Vec<Cell> {
    let target = o.target_minutes.map(|m| format!("{m} min")).unwrap_or_else(|| "-".into());
    let verdict = match o.verdict {
        Judgement::Met => Cell::Outcome("met".into()),
        Judgement::Missed => Cell::Outcome("missed".into()),
        // No target, no verdict: said so.
        Judgement::NoTarget => text("no target: not judged"),
        Judgement::Unmeasured => text("unmeasured"),
    };
    let mut note: Vec<String> = o.why.iter().cloned().collect();
    if let Some(id) = oldest {
        note.push(format!("oldest data: {id}"));
    }
    vec![
        text(scope),
        text(what),
        Cell::Text(target),
        Cell::Text(fmt_duration(o.achieved_seconds)),
        verdict,
        Cell::Text(if note.is_empty() { "-".into() } else { note.join("; ") }),
    ]
}

fn critical_path(res: &ResourceReport, o: &Objectives) -> Block {
    if o.critical_path.is_empty() {
        return Block::Empty("No wave ended: no critical path.");
    }
    let items = o
        .critical_path
        .iter()
        .map(|s| {
            let label = res.waves.get(s.wave - 1).map(wave_label).unwrap_or_else(|| s.name.clone());
            let last = match (&s.server, &s.launched) {
                (Some(id), Some(at)) => {
                    format!(
                        "; last launch {id}{} at {}",
                        s.job.as_ref().map(|j| format!(" (job {j})")).unwrap_or_default(),
                        when(at)
                    )
                }
                _ => String::new(),
            };
            let started = s.started.as_ref().map(when).unwrap_or_else(|| "-".into());
            Field { name: label, value: Cell::Text(format!("{started} to {}{last}", when(&s.ended))) }
        })
        .collect();
    Block::List(items)
}

/// Who answered each gate of the resource's waves, and when.
pub(super) fn approvals(res: &ResourceReport) -> Vec<Block> {
    let rows: Vec<Vec<Cell>> = res
        .waves
        .iter()
        .filter_map(|w| w.approval.as_ref().map(|a| (w, a)))
        .map(|(w, a)| {
            vec![
                text(&wave_label(w)),
                Cell::Outcome(a.decision.as_str().into()),
                text(a.approver.as_deref().unwrap_or("not named")),
                Cell::Text(a.at.as_ref().map(when).unwrap_or_else(|| "-".into())),
                text(if a.approval.is_empty() { "-" } else { &a.approval }),
                text(a.reason.as_deref().unwrap_or("-")),
            ]
        })
        .collect();
    if rows.is_empty() {
        return vec![];
    }
    vec![heading("Approvals"), Block::Table(super::view::Table { columns: APPROVALS, rows })]
}

/// The component that made hook `hook`'s decision at `point` of wave `w` (0-based): a wave's
/// crossing holds the digests of the hooks that ran at its boundary (before-wave of it,
/// after-wave of the wave before), so an after-wave decision is the next wave's crossing's.
pub(super) fn component<'a>(waves: &'a [WaveReport], w: usize, hook: &str, point: &str) -> Option<&'a str> {
    let of = |i: usize| waves.get(i).and_then(|x| x.components.get(hook)).map(String::as_str);
    match point {
        "after-wave" => of(w + 1).or_else(|| of(w)),
        _ => of(w),
    }
}

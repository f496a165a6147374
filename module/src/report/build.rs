//! Builds the report's document (`view.rs`) from a `RunReport` in one walk: the header, the
//! resources table, per resource its timeline, waves, failures, hook decisions, notes and
//! server tables, then the phases. What the report shows is decided here, for both markups.

use super::evidence;
use super::figures::{
    detail_text, fmt_duration, fmt_secs, is_failure, is_launched, outcome_text, partitions_text, wave_label, ServerRows,
    WaveStats,
};
use super::timeline::{self, Axis, Timeline};
use super::view::{col, Block, Cell, Column, ColumnKind::*, Doc, Field, Table, WaveServers};
use super::{seconds_between, when, LeftOut, PhaseReport, ResourceReport, RunReport, ServerReport, WaveReport};

const RESOURCES: &[Column] = &[
    col("Layer", Number),
    col("Resource", Text),
    col("Execution", Text),
    col("Outcome", Text),
    col("Waves", Number),
    col("Servers", Number),
    col("Accounts x regions touched", Text),
];
const WAVES: &[Column] = &[
    col("Wave", Text),
    col("State", Text),
    col("After", Text),
    col("Servers", Number),
    col("Launched", Number),
    col("Failed", Number),
    col("Started", Text),
    col("Ended", Text),
    col("Duration", Number),
    col("p50 recovery", Number),
    col("Max recovery", Number),
];
const FAILURES: &[Column] = &[
    col("Wave", Text),
    col("Hostname", Text),
    col("Server ID", Text),
    col("Partition", Text),
    col("Status", Text),
    col("Reason", Wrap),
];
const HOOKS: &[Column] = &[
    col("Wave", Text),
    col("Hook", Text),
    col("Point", Text),
    col("Decision", Text),
    col("Detail", Wrap),
    col("Component (SHA-256)", Wrap),
];
const SERVERS: &[Column] = &[
    col("Hostname", Text),
    col("Server ID", Text),
    col("Partition", Text),
    col("Status", Text),
    col("Recovery (s)", Number),
    col("RPO (s)", Number),
    col("Recovered point", Text),
];
const PHASES: &[Column] =
    &[col("Resource", Text), col("Phase", Text), col("Outcome", Text), col("Ended", Text), col("Detail", Wrap)];
const LEFT_OUT: &[Column] = &[
    col("Why", Text),
    col("Hostname", Text),
    col("Server ID", Text),
    col("Partition", Text),
    col("Entry", Text),
    col("Reason", Wrap),
];

pub(crate) fn build(r: &RunReport) -> Doc {
    let mut blocks = vec![heading(1, format!("DRS run report: {}", r.source)), header(r), heading(2, "Resources".into())];
    blocks.push(table_or(RESOURCES, r.resources.iter().map(resource_row).collect(), "No resources."));
    let axis = Axis::of(r);
    blocks.extend(r.resources.iter().map(|res| resource_section(res, axis.as_ref())));
    blocks.push(heading(2, "Phases".into()));
    blocks.push(table_or(PHASES, r.phases.iter().map(phase_row).collect(), "No phases after activation."));
    Doc { title: r.source.clone(), blocks }
}

fn heading(level: u8, text: String) -> Block {
    Block::Heading { level, text, aside: None }
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

fn field(name: &str, value: Cell) -> Field {
    Field { name: name.to_string(), value }
}

/// A table of `rows`, or `empty` said when there are none.
fn table_or(columns: &'static [Column], rows: Vec<Vec<Cell>>, empty: &'static str) -> Block {
    if rows.is_empty() {
        Block::Empty(empty)
    } else {
        Block::Table(Table { columns, rows })
    }
}

fn header(r: &RunReport) -> Block {
    let mut fields = vec![
        field("Source", text(&r.source)),
        field("Mode", text(r.mode.as_str())),
        field("Outcome", Cell::Outcome(r.outcome_text())),
        field("Started", Cell::Text(when(&r.started))),
        field("Ended", Cell::Text(when(&r.ended))),
        // A report file may say it ended before it started: that is no duration.
        field("Duration", Cell::Text(fmt_duration((r.ended >= r.started).then(|| seconds_between(r.started, r.ended))))),
    ];
    if !r.clock.is_empty() {
        fields.push(field("Clock", text(&r.clock)));
    }
    Block::Fields(fields)
}

fn resource_row(res: &ResourceReport) -> Vec<Cell> {
    let servers: usize = res.waves.iter().map(|w| w.servers.len()).sum();
    vec![
        Cell::Text(res.layer.to_string()),
        Cell::Link { text: res.resource.clone(), anchor: anchor(res) },
        text(&res.execution),
        Cell::Outcome(outcome_text(res.outcome.as_str(), res.error.as_deref())),
        Cell::Text(res.waves.len().to_string()),
        Cell::Text(servers.to_string()),
        Cell::Text(partitions_text(&res.partitions)),
    ]
}

/// A resource's section id: its layer and name, with anything but `[A-Za-z0-9_-]` as `-`.
fn anchor(res: &ResourceReport) -> String {
    let slug: String =
        res.resource.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    format!("res-{}-{}", res.layer, slug)
}

/// What a resource's waves add to its section, gathered in one pass over them.
#[derive(Default)]
struct Waves {
    timeline: Vec<timeline::Row>,
    table: Vec<Vec<Cell>>,
    failures: Vec<Vec<Cell>>,
    hooks: Vec<Vec<Cell>>,
    notes: Vec<Field>,
    servers: Vec<WaveServers>,
}

impl Waves {
    /// Wave `i` of `all` (the resource's waves).
    fn add(&mut self, all: &[WaveReport], i: usize, axis: Option<&Axis>) {
        let w = &all[i];
        let stats = WaveStats::of(w);
        let label = wave_label(w);
        self.timeline.push(timeline::row(w, &stats, axis));
        self.table.push(wave_row(w, &label, &stats));
        self.failures.extend(w.servers.iter().filter(|s| is_failure(s)).map(|s| failure_row(&label, s)));
        self.hooks.extend(w.hook_decisions.iter().map(|h| {
            let digest = evidence::component(all, i, &h.hook, &h.point).unwrap_or("-");
            vec![
                text(&label),
                text(&h.hook),
                text(&h.point),
                text(&h.decision),
                text(h.detail.as_deref().unwrap_or("-")),
                text(digest),
            ]
        }));
        self.notes.extend(w.notes.iter().map(|n| field(&label, text(n))));
        self.servers.push(wave_servers(w, label));
    }
}

fn resource_section(res: &ResourceReport, axis: Option<&Axis>) -> Block {
    let mut waves = Waves::default();
    for i in 0..res.waves.len() {
        waves.add(&res.waves, i, axis);
    }
    let mut facts = vec![field("Execution", text(&res.execution)), field("Outcome", Cell::Outcome(res.outcome.as_str().into()))];
    if let Some(e) = &res.error {
        facts.push(field("Error", text(e)));
    }
    facts.push(field("Accounts x regions", Cell::Text(partitions_text(&res.partitions))));
    if let Some(t) = &res.recover_before {
        facts.push(field(
            "Recover before",
            Cell::Text(format!("{} (each server's newest recovery snapshot taken before)", when(t))),
        ));
    }
    let chart = if res.waves.is_empty() {
        Block::Empty("No waves.")
    } else {
        Block::Timeline(Timeline { resource: res.resource.clone(), axis: axis.copied(), rows: waves.timeline })
    };
    let notes = if waves.notes.is_empty() { Block::Empty("No notes.") } else { Block::List(waves.notes) };
    let mut blocks = vec![
        Block::Heading { level: 2, text: format!("Resource {}", res.resource), aside: Some(format!("(layer {})", res.layer)) },
        Block::List(facts),
    ];
    blocks.extend(evidence::objectives(res));
    blocks.extend([
        Block::Figure(vec![heading(3, "Timeline".into()), chart]),
        heading(3, "Waves".into()),
        table_or(WAVES, waves.table, "No waves."),
        heading(3, "Failures".into()),
        table_or(FAILURES, waves.failures, "No failed servers."),
        heading(3, "Hook decisions".into()),
        table_or(HOOKS, waves.hooks, "No hook decisions."),
    ]);
    blocks.extend(evidence::approvals(res));
    blocks.extend([heading(3, "Notes".into()), notes]);
    // What never reached a wave: shown when there is any (every server of the group is named).
    if !res.left_out.is_empty() {
        blocks.push(heading(3, "Left out".into()));
        blocks.push(table_or(LEFT_OUT, res.left_out.iter().map(left_out_row).collect(), "Nothing left out."));
    }
    blocks.push(Block::WaveServers(waves.servers));
    Block::Section { anchor: anchor(res), blocks }
}

fn wave_row(w: &WaveReport, label: &str, s: &WaveStats) -> Vec<Cell> {
    vec![
        text(label),
        Cell::State(w.state.as_str().into()),
        text(&if w.after.is_empty() { "-".to_string() } else { w.after.join(", ") }),
        Cell::Text(s.servers.to_string()),
        Cell::Text(s.launched.to_string()),
        Cell::Text(s.failed.to_string()),
        Cell::Text(w.started.as_ref().map(when).unwrap_or("-".into())),
        Cell::Text(w.ended.as_ref().map(when).unwrap_or("-".into())),
        Cell::Text(fmt_duration(s.duration)),
        Cell::Text(fmt_duration(s.p50)),
        Cell::Text(fmt_duration(s.max)),
    ]
}

fn failure_row(label: &str, s: &ServerReport) -> Vec<Cell> {
    vec![
        text(label),
        text(s.hostname.as_deref().unwrap_or("-")),
        text(&s.source_server_id),
        text(&s.partition),
        text(s.status.as_str()),
        text(s.reason.as_deref().unwrap_or("-")),
    ]
}

fn wave_servers(w: &WaveReport, label: String) -> WaveServers {
    let listed = ServerRows::of(w);
    let rows = listed
        .rows
        .iter()
        .map(|s| {
            vec![
                text(s.hostname.as_deref().unwrap_or("-")),
                text(&s.source_server_id),
                text(&s.partition),
                text(s.status.as_str()),
                Cell::Text(fmt_secs(s.recovery_s)),
                Cell::Text(fmt_secs(s.rpo_s)),
                Cell::Text(recovered_point(s)),
            ]
        })
        .collect();
    let mut blocks = vec![table_or(SERVERS, rows, "No servers.")];
    blocks.extend(listed.elision_note().map(Block::Note));
    WaveServers { label, count: w.servers.len(), complete: listed.elided.is_none(), blocks }
}

/// The point a server launched (or was to launch): its recovery snapshot's time and id, or
/// its latest data; nothing for a server launched from neither.
fn recovered_point(s: &ServerReport) -> String {
    match &s.recovered_point {
        Some(p) => format!("{} ({})", when(&p.taken), p.snapshot_id),
        None if is_launched(s) => "latest data".into(),
        None => "-".into(),
    }
}

fn phase_row(p: &PhaseReport) -> Vec<Cell> {
    vec![
        text(&p.resource),
        text(&p.phase),
        Cell::Outcome(p.outcome.as_str().into()),
        Cell::Text(p.ended.as_ref().map(when).unwrap_or("-".into())),
        Cell::Text(detail_text(&p.detail)),
    ]
}

fn left_out_row(l: &LeftOut) -> Vec<Cell> {
    let or_dash = |v: &Option<String>| text(v.as_deref().unwrap_or("-"));
    vec![
        text(l.kind.as_str()),
        or_dash(&l.hostname),
        or_dash(&l.source_server_id),
        or_dash(&l.partition),
        or_dash(&l.entry),
        text(&l.reason),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{large, sample};

    fn section(doc: &Doc, i: usize) -> (&str, &[Block]) {
        match doc.blocks.iter().filter(|b| matches!(b, Block::Section { .. })).nth(i) {
            Some(Block::Section { anchor, blocks }) => (anchor, blocks),
            _ => panic!("no section {i}"),
        }
    }

    #[test]
    fn resources_link_to_their_sections() {
        let doc = build(&sample());
        let Some(Block::Table(t)) = doc.blocks.get(3) else { panic!("no resources table") };
        for (i, row) in t.rows.iter().enumerate() {
            let Cell::Link { anchor, .. } = &row[1] else { panic!("resource cell is not a link") };
            assert_eq!(anchor, section(&doc, i).0);
        }
    }

    #[test]
    fn each_server_row_says_its_recovered_point() {
        let mut r = sample();
        let taken = "2026-12-01T02:00:04Z".parse().unwrap();
        r.resources[0].waves[0].servers[0].recovered_point =
            Some(crate::pitr::RecoveryPoint { snapshot_id: "pit-0123456789abcdefg".into(), taken });
        r.resources[0].recover_before = Some("2026-12-01T02:10:00Z".parse().unwrap());
        let md = crate::report::markdown::render(&r);
        assert!(md.contains("| 2026-12-01T02:00:04Z (pit-0123456789abcdefg) |"), "{md}");
        assert!(md.contains("| latest data |"), "the others launched their latest data: {md}");
        assert!(md.contains("Recover before: 2026-12-01T02:10:00Z"), "{md}");
    }

    #[test]
    fn large_wave_lists_failures_and_slowest() {
        let doc = build(&large(60));
        let Some(Block::WaveServers(waves)) = section(&doc, 0).1.last() else { panic!("no server tables") };
        let w = &waves[0];
        assert_eq!((w.count, w.complete), (60, false));
        let [Block::Table(t), Block::Note(note)] = &w.blocks[..] else { panic!("expected a table and a note") };
        assert_eq!(t.rows.len(), 21);
        assert_eq!(note, "60 servers in this wave: listing the 1 failed and the 20 slowest; 39 left out.");
    }
}

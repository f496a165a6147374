//! The run report as Markdown, for a DR engineer reading it after a drill: the document built
//! by `build.rs`, each block a paragraph, tables as pipe tables. Every text is escaped by
//! [`md`]; figures (the timeline) are left out, Markdown cannot draw them.

use super::build::build;
use super::view::{Block, Cell, ColumnKind, Field, Table};
use super::RunReport;

pub fn render(r: &RunReport) -> String {
    let mut paragraphs = Vec::new();
    blocks(&mut paragraphs, &build(r).blocks);
    paragraphs.join("\n")
}

/// Renders each block to a paragraph (ending in a line break); paragraphs are joined by a
/// blank line, so the report ends without one.
fn blocks(out: &mut Vec<String>, doc: &[Block]) {
    for b in doc {
        match b {
            Block::Heading { level, text, aside } => {
                let aside = aside.as_deref().map(|a| format!(" {}", md(a))).unwrap_or_default();
                out.push(format!("{} {}{aside}\n", "#".repeat(usize::from(*level)), md(text)));
            }
            Block::Fields(fields) => {
                let rows: String = fields.iter().map(|f| format!("| {} | {} |\n", md(&f.name), emphasised(&f.value))).collect();
                out.push(format!("| | |\n|---|---|\n{rows}"));
            }
            Block::List(items) => out.push(items.iter().map(item).collect()),
            Block::Table(t) => out.push(table(t)),
            Block::Empty(text) => out.push(format!("{text}\n")),
            Block::Note(text) => out.push(format!("_{}_\n", md(text))),
            Block::Section { blocks: inner, .. } => blocks(out, inner),
            Block::Figure(_) | Block::Timeline(_) => {}
            Block::WaveServers(waves) => {
                for w in waves {
                    out.push(format!("### Servers of {}\n", md(&w.label)));
                    blocks(out, &w.blocks);
                }
            }
        }
    }
}

fn item(f: &Field) -> String {
    format!("- {}: {}\n", md(&f.name), emphasised(&f.value))
}

/// A value standing on its own: an outcome is bold. In table rows cells stay plain.
fn emphasised(c: &Cell) -> String {
    match c {
        Cell::Outcome(t) => format!("**{}**", md(t)),
        other => md(other.text()),
    }
}

fn table(t: &Table) -> String {
    let row = |cells: &mut dyn Iterator<Item = String>| format!("| {} |\n", cells.collect::<Vec<_>>().join(" | "));
    let mut out = row(&mut t.columns.iter().map(|c| c.title.to_string()));
    let rule = |k: ColumnKind| if k == ColumnKind::Number { "---:" } else { "---" };
    out.push_str(&format!("|{}|\n", t.columns.iter().map(|c| rule(c.kind)).collect::<Vec<_>>().join("|")));
    for cells in &t.rows {
        out.push_str(&row(&mut cells.iter().map(|c| md(c.text()))));
    }
    out
}

/// Escapes text for a Markdown table cell or list item: every punctuation mark Markdown
/// reads as markup (links, images, emphasis, code, HTML, headings, tables) is
/// backslash-escaped, line breaks become spaces, and what GitHub's Markdown would turn into
/// a link by itself (`https://`, `www.`) is broken by an invisible space: text from a hook or
/// a manifest is shown as text, never as a link.
pub(crate) fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '|' | '<' | '>' | '`' | '[' | ']' | '*' | '_' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {}
            '\n' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.replace("://", ":/\u{200B}/").replace("www.", "www\u{200B}.").replace("WWW.", "WWW\u{200B}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{large, sample};

    #[test]
    fn renders_key_content() {
        let text = render(&sample());
        for needle in [
            "# DRS run report: manifests/demo-drill.json",
            "| Mode | drill |",
            "| Duration | 20m 30s |",
            "## Resources",
            "| 1 | core-db-app | exec-core-1 | WaveFailed: wave 2 (app): 1 server failed | 2 | 4 | 2 accounts x 2 regions (2 partitions): 111111111111/us-east-1, 222222222222/us-west-2 |",
            "| wave 1 (db) | completed | - | 2 | 2 | 0 | 2024-05-01T10:00:00Z | 2024-05-01T10:06:00Z | 6m 00s | 4m 00s | 5m 30s |",
            "| wave 2 (app) | failed | db | 2 | 1 | 1 |",
            "| wave 1 (db) | freeze-window | before-wave | proceed | outside the freeze window |",
            "- wave 1 (db): waited 40 s for approval",
            "### Servers of wave 1 (web)",
            "| web01.corp.example | s-web01 | 222222222222/us-west-2 | LAUNCHED | 300.5 |",
            "| core-db-app | cleanup | succeeded | - | jobs=drsjob-9; terminated=2 |",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
    }

    #[test]
    fn shows_objectives_approvers_and_components() {
        let text = render(&sample());
        for needle in [
            "### Objectives",
            "| resource | RTO | 15 min | - | missed | the run failed: the resource was not recovered |",
            "| resource | RPO | 5 min | 10m 00s | missed | missed in wave db; oldest data: s-db02 |",
            "| wave 1 (db) | RTO | 15 min | 6m 30s | met | - |",
            "| wave 1 (db) | RPO | 5 min | 10m 00s | missed | oldest data: s-db02 |",
            "- wave 1 (db): 2024-05-01T10:00:00Z to 2024-05-01T10:06:00Z; last launch s-db02 (job drsjob-1) at 2024-05-01T10:05:30Z",
            "### Approvals",
            r"| wave 1 (db) | approved | alice \<admin@corp.example\> | 2024-05-01T09:59:50Z |",
            "| wave 1 (db) | freeze-window | before-wave | proceed | outside the freeze window | 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 |",
            "| db02.corp.example | s-db02 | 222222222222/us-west-2 | LAUNCHED | 330.0 | 600.0 |",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        // The critical path of a failed run holds the waves that ended, in order.
        assert!(text.contains("- wave 2 (app): 2024-05-01T10:07:00Z to 2024-05-01T10:15:30Z"), "{text}");
        // A resource without objectives says nothing of them; one without targets says so.
        let mut r = sample();
        if let Some(o) = r.resources[0].objectives.as_mut() {
            o.rto.target_minutes = None;
            o.rto.verdict = crate::objectives::Judgement::NoTarget;
            o.rto.why = None;
        }
        let mut bare = r.clone();
        if let Some(o) = bare.resources[0].objectives.as_mut() {
            o.rpo.target_minutes = None;
            for w in &mut o.waves {
                w.rto.target_minutes = None;
                w.rpo.target_minutes = None;
            }
        }
        let text = render(&bare);
        assert!(text.contains("No TargetRtoMinutes or TargetRpoMinutes set"), "{text}");
        assert!(render(&r).contains("| resource | RTO | - | - | no target: not judged |"), "{}", render(&r));
    }

    #[test]
    fn escapes_cells() {
        let text = render(&sample());
        let line = text.lines().find(|l| l.contains("s-app02") && l.contains("subnet missing")).unwrap();
        assert!(line.contains(r"\<script\>alert(1)\</script\> \| subnet missing"), "{line}");
        assert!(!text.contains("<script>"));
        // Every row of the failures table has the table's six cells.
        assert_eq!(line.matches(" | ").count(), 5, "{line}");
        assert_eq!(md("a|b\\c\nd"), r"a\|b\\c d");
    }

    #[test]
    fn hook_text_is_shown_as_text_never_as_a_link_or_markup() {
        let hostile = "[click](https://evil.example) ![x](http://e/i.png) **bold** _em_ ~~gone~~ www.evil.example";
        let out = md(hostile);
        for linkish in ["https://", "http://", "www.evil", "**", "~~"] {
            assert!(!out.contains(linkish), "{linkish:?} in {out}");
        }
        assert!(out.matches("](").count() == out.matches(r"\](").count(), "every ] before ( is escaped: {out}");
        assert!(out.starts_with(r"\[click\](https:/"), "{out}");
        assert!(out.contains(r"\*\*bold\*\* \_em\_ \~\~gone\~\~"), "{out}");
    }

    #[test]
    fn large_wave_is_cut() {
        let text = render(&large(5000));
        assert!(text.contains("5000 servers in this wave: listing the 1 failed and the 20 slowest; 4979 left out."), "{text}");
        // The per-server table: the failure and the 20 slowest.
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| host")).collect();
        assert_eq!(rows.len(), 21);
        assert!(rows[0].starts_with("| host00000 | s-00000 | 111111111111/us-east-1 | FAILED | - |"), "{}", rows[0]);
        // The failures table lists it too, with its reason.
        assert!(text.contains("| wave 1 (bulk) | host00000 | s-00000 | 111111111111/us-east-1 | FAILED | quota |"));
        // The slowest server (recovery 60 + 996 s) is listed; a fast one is not.
        assert!(text.contains("| 1056.0 |"));
        assert!(!text.contains("| host00001 |"));
    }
}

//! The report as a document: what a reader sees, in which order, decided once in `build.rs`
//! and drawn by `markdown.rs` and `html.rs`, each escaping text in one place. Texts here are
//! raw; a renderer escapes them for its markup.

use super::timeline::Timeline;

/// A whole report: its title and its blocks, top to bottom.
pub(crate) struct Doc {
    pub title: String,
    pub blocks: Vec<Block>,
}

pub(crate) enum Block {
    /// A heading of `level` 1 to 3; `aside` is secondary text after it (muted in HTML).
    Heading {
        level: u8,
        text: String,
        aside: Option<String>,
    },
    /// A two-column table of names and values (the run's summary).
    Fields(Vec<Field>),
    /// A bulleted list of `label: value` items.
    List(Vec<Field>),
    Table(Table),
    /// Says a part is empty ("No waves.").
    Empty(&'static str),
    /// A remark under a table (which rows a large wave leaves out).
    Note(String),
    /// A part with an anchor that links can point to (an HTML section).
    Section {
        anchor: String,
        blocks: Vec<Block>,
    },
    /// Blocks only a markup that can draw shows: Markdown leaves them out.
    Figure(Vec<Block>),
    /// The waves of a resource on a time axis (inside a [`Block::Figure`]).
    Timeline(Timeline),
    /// The per-server tables of a resource's waves.
    WaveServers(Vec<WaveServers>),
}

/// A named value: a summary row or a list item.
pub(crate) struct Field {
    pub name: String,
    pub value: Cell,
}

pub(crate) struct Table {
    pub columns: &'static [Column],
    pub rows: Vec<Vec<Cell>>,
}

pub(crate) struct Column {
    pub title: &'static str,
    pub kind: ColumnKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Text,
    /// Numbers, right-aligned.
    Number,
    /// Long free text (reasons, details) that may wrap.
    Wrap,
}

/// Shorthand for the column lists in `build.rs`.
pub(crate) const fn col(title: &'static str, kind: ColumnKind) -> Column {
    Column { title, kind }
}

pub(crate) enum Cell {
    Text(String),
    /// An outcome (succeeded, WaveFailed...): a badge in HTML, coloured by how it went.
    Outcome(String),
    /// A wave's state: a badge in HTML, coloured by the state.
    State(String),
    /// Text that links to the [`Block::Section`] with this anchor.
    Link {
        text: String,
        anchor: String,
    },
}

impl Cell {
    /// The cell's text, whatever its kind.
    pub(crate) fn text(&self) -> &str {
        match self {
            Cell::Text(t) | Cell::Outcome(t) | Cell::State(t) | Cell::Link { text: t, .. } => t,
        }
    }
}

/// One wave's servers: the rows to list (all, or for a large wave the failures and the
/// slowest) and a note saying what was left out.
pub(crate) struct WaveServers {
    pub label: String,
    /// All the wave's servers, listed or not.
    pub count: usize,
    /// Whether every server is listed.
    pub complete: bool,
    /// A table, or [`Block::Empty`] for a wave without servers; then any [`Block::Note`].
    pub blocks: Vec<Block>,
}

//! What `check` found and `sync` did, per resource and per account x region: each plan's
//! state, its drift, the steps it should have, where it does not do what the module would,
//! and what a sync changed. One model, rendered as text here and as JSON by serde.

use super::drift::{Drift, StepEdits};
use super::error::NativeError;
use super::layout::{DesiredPlan, DesiredStep, StepKind};
use super::remote::RemotePlan;
use crate::config::Partition;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// The plan is as it should be.
    InSync,
    /// No plan: sync creates it.
    Missing,
    /// The plan differs: sync brings it in line.
    Drifted,
    /// A plan of the resource where it no longer has servers (or a second one of its name):
    /// sync deletes it.
    Stale,
    /// A plan of the name that the module does not keep (without its tag): left alone, named.
    Unmanaged,
    /// More steps than a plan holds: it cannot exist.
    TooLarge,
    /// The plan could not be read (or, after a sync, brought in line).
    Failed,
}

impl State {
    /// Whether a sync would change it.
    pub fn needs_sync(self) -> bool {
        matches!(self, State::Missing | State::Drifted | State::Stale)
    }

    /// Whether no sync can fix it.
    pub fn is_error(self) -> bool {
        matches!(self, State::Unmanaged | State::TooLarge | State::Failed)
    }

    fn text(self) -> &'static str {
        match self {
            State::InSync => "in sync",
            State::Missing => "missing",
            State::Drifted => "DRIFT",
            State::Stale => "stale",
            State::Unmanaged => "UNMANAGED",
            State::TooLarge => "TOO LARGE",
            State::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanReport {
    pub partition: Partition,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub state: State,
    pub drifts: Vec<Drift>,
    /// The steps it should have (none for a stale plan).
    pub steps: Vec<DesiredStep>,
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What a sync did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    #[serde(skip)]
    pub(super) desired: Option<DesiredPlan>,
    #[serde(skip)]
    pub(super) remote: Option<RemotePlan>,
    #[serde(skip)]
    pub(super) edits: StepEdits,
}

impl PlanReport {
    pub(super) fn new(partition: Partition, name: &str, state: State) -> PlanReport {
        PlanReport {
            partition,
            name: name.to_owned(),
            arn: None,
            state,
            drifts: vec![],
            steps: vec![],
            notes: vec![],
            error: None,
            changes: vec![],
            desired: None,
            remote: None,
            edits: StepEdits::default(),
        }
    }

    pub(super) fn failed(mut self, e: &NativeError) -> PlanReport {
        self.state = State::Failed;
        self.error = Some(e.to_string());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReport {
    pub resource: String,
    pub identity: String,
    pub plan_name: String,
    pub plans: Vec<PlanReport>,
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub resources: Vec<ResourceReport>,
    /// Accounts x regions that could not be read where no plan is wanted: a stale plan there
    /// is unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

impl Report {
    fn plans(&self) -> impl Iterator<Item = &PlanReport> {
        self.resources.iter().flat_map(|r| r.plans.iter())
    }

    /// Plans a sync would change.
    pub fn out_of_sync(&self) -> usize {
        self.plans().filter(|p| p.state.needs_sync()).count()
    }

    /// Plans and resources no sync can fix.
    pub fn errors(&self) -> usize {
        self.plans().filter(|p| p.state.is_error()).count()
            + self.resources.iter().filter(|r| r.error.is_some()).count()
            + self.unread.len()
    }

    pub fn in_sync(&self) -> bool {
        self.out_of_sync() == 0 && self.errors() == 0
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for u in &self.unread {
            let _ = writeln!(out, "UNREAD {u} (a stale plan there is unknown)");
        }
        for r in &self.resources {
            let _ = writeln!(out, "{}: native plan '{}' in {} accounts x regions", r.resource, r.plan_name, r.plans.len());
            if let Some(e) = &r.error {
                let _ = writeln!(out, "  ERROR {e}");
            }
            // Notes every plan has are said once.
            let common: BTreeSet<&String> = match r
                .plans
                .iter()
                .filter(|p| !p.steps.is_empty())
                .map(|p| p.notes.iter().collect::<BTreeSet<_>>())
                .reduce(|a, b| a.intersection(&b).copied().collect())
            {
                Some(c) if r.plans.iter().filter(|p| !p.steps.is_empty()).count() > 1 => c,
                _ => BTreeSet::new(),
            };
            for n in r.notes.iter().chain(common.iter().copied()) {
                let _ = writeln!(out, "  note: {n}");
            }
            for p in &r.plans {
                plan_text(&mut out, p, &common);
            }
        }
        out
    }
}

fn plan_text(out: &mut String, p: &PlanReport, common: &BTreeSet<&String>) {
    let arn = p.arn.as_deref().map(|a| format!(" {a}")).unwrap_or_default();
    // A sync's report keeps what was found; what it did follows.
    let synced = if !p.changes.is_empty() && p.error.is_none() { " -> synced" } else { "" };
    let _ = writeln!(out, "  {}: {}{synced}{arn}", p.partition, p.state.text());
    if let Some(e) = &p.error {
        let _ = writeln!(out, "    error: {e}");
    }
    for d in &p.drifts {
        let _ = writeln!(out, "    drift: {d}");
    }
    for c in &p.changes {
        let _ = writeln!(out, "    changed: {c}");
    }
    for (i, s) in p.steps.iter().enumerate() {
        let what = match &s.kind {
            StepKind::Wait { minutes } => format!("wait {minutes} min"),
            StepKind::Servers { servers } => {
                let hosts: Vec<&str> = servers
                    .iter()
                    .map(|x| if x.hostname.is_empty() { x.source_server_id.as_str() } else { x.hostname.as_str() })
                    .collect();
                let optional = if servers.iter().all(|x| !x.critical) { ", OPTIONAL" } else { "" };
                format!("{} servers{optional}: {}", servers.len(), some(&hosts))
            }
        };
        let _ = writeln!(out, "    {}. {}: {what}", i + 1, s.name);
    }
    for n in p.notes.iter().filter(|n| !common.contains(n)) {
        let _ = writeln!(out, "    note: {n}");
    }
}

/// Host names for a line: the first 8 and how many more.
fn some(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    let more = if names.len() > SHOWN { format!(" and {} more", names.len() - SHOWN) } else { String::new() };
    format!("{}{more}", names[..names.len().min(SHOWN)].join(", "))
}

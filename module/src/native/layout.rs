//! What a resource's native plans should be: for each account x region its waves touch, one
//! line of steps mirroring what the module would run there.
//!
//! - Waves come in the module's start order: a wave starts once the waves it depends on have
//!   ended, so waves are ordered by how many waves stand before them on their longest chain
//!   of dependencies (the waves that start with the run first), then as the module's plan
//!   lists them. In a line of waves that is the line; branches that the module runs side by
//!   side run one after the other here (a native plan runs one step at a time), which the
//!   plan's notes say.
//! - A wave's servers in the partition are its server steps: the module's DRS jobs of that
//!   wave there (split within the configuration's servers per job), each split again into
//!   steps of at most 100 servers (a server step's limit), said so.
//! - A wave that pauses (`PauseBefore`: an approval in the module) is a wait step before the
//!   first wave of the partition that it holds back (itself, or a wave after it); a native plan
//!   has no approvals: the wait gives operators time to stop the plan.
//! - Servers are CRITICAL (a failure stops the plan: fail-fast and thresholds, which a native
//!   step cannot count) or OPTIONAL (`FailurePolicy: continue`).
//! - A plan of more than 20 steps cannot exist: it is refused, named, not cut short.

use super::names;
use crate::config::{Partition, Quotas};
use crate::discovery::Discovery;
use crate::plan::ResourcePlan;
use crate::resource::{DrsResource, FailurePolicy};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A server step holds at most this many servers (`RecoveryPlanServers`).
pub const MAX_SERVERS_PER_STEP: usize = 100;
/// A plan holds at most this many steps (`RecoveryPlanStepOrder`).
pub const MAX_STEPS: usize = 20;
/// A wait step lasts 1 to 120 minutes (`WaitDurationMinutes`).
pub const MAX_WAIT_MINUTES: u32 = 120;

/// How the layout is made.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long the wait step a `PauseBefore` becomes lasts (1 to 120).
    pub pause_minutes: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { pause_minutes: 60 }
    }
}

/// One server of a server step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepServer {
    pub arn: String,
    pub source_server_id: String,
    pub hostname: String,
    pub critical: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum StepKind {
    Servers { servers: Vec<StepServer> },
    Wait { minutes: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesiredStep {
    pub name: String,
    /// The module's wave the step stands for.
    pub wave: String,
    #[serde(flatten)]
    pub kind: StepKind,
}

/// The plan a resource should have in one account x region.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesiredPlan {
    pub partition: Partition,
    pub name: String,
    pub description: String,
    pub tags: BTreeMap<String, String>,
    pub steps: Vec<DesiredStep>,
    /// Where the plan does not do what the module would, and why.
    pub notes: Vec<String>,
    /// Why it cannot exist (more steps than a plan holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A resource's plans, one per account x region its waves touch.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLayout {
    pub resource: String,
    pub identity: String,
    pub plan_name: String,
    pub plans: Vec<DesiredPlan>,
    /// Notes that hold for every plan of the resource.
    pub notes: Vec<String>,
    /// Why no plan can be laid out (the module's own plan failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Accounts x regions the resource may reach that discovery could not read: its plan there
    /// is unknown, so nothing is made, changed or deleted there (each reported failed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<crate::plan::Unread>,
}

/// The waves of `plan` in the module's start order: by the length of their longest chain of
/// dependencies, then as the plan lists them.
pub fn start_order(plan: &ResourcePlan) -> Vec<usize> {
    let index: BTreeMap<&str, usize> = plan.waves.iter().enumerate().map(|(i, w)| (w.name.as_str(), i)).collect();
    // The plan lists each wave after the waves it depends on.
    let mut depth = vec![0usize; plan.waves.len()];
    for (i, w) in plan.waves.iter().enumerate() {
        depth[i] = w.depends_on.iter().filter_map(|d| index.get(d.as_str())).map(|d| depth[*d] + 1).max().unwrap_or(0);
    }
    let mut order: Vec<usize> = (0..plan.waves.len()).collect();
    order.sort_by_key(|i| (depth[*i], *i));
    order
}

/// Every wave `w` waits for, directly or through others.
fn ancestors(plan: &ResourcePlan, w: usize) -> BTreeSet<usize> {
    let index: BTreeMap<&str, usize> = plan.waves.iter().enumerate().map(|(i, w)| (w.name.as_str(), i)).collect();
    let mut seen = BTreeSet::new();
    let mut todo = vec![w];
    while let Some(x) = todo.pop() {
        for d in plan.waves[x].depends_on.iter().filter_map(|d| index.get(d.as_str())) {
            if seen.insert(*d) {
                todo.push(*d);
            }
        }
    }
    seen
}

/// The resource's plans as `plan` (the module's own plan of it) and discovery say.
pub fn layout(plan: &ResourcePlan, resource: &DrsResource, found: &Discovery, quotas: &Quotas, opts: Options) -> ResourceLayout {
    let identity = resource.identity();
    let plan_name = names::plan_name(&resource.name);
    let mut out = ResourceLayout {
        resource: resource.name.clone(),
        identity: identity.clone(),
        plan_name: plan_name.clone(),
        plans: vec![],
        notes: resource_notes(resource),
        error: None,
        unread: vec![],
    };
    if let Some(e) = &plan.error {
        out.error = Some(e.clone());
        return out;
    }
    if !plan.resolution.is_ok() {
        out.error = Some(format!("the selection has errors: {}", plan.resolution.errors.join("; ")));
        return out;
    }
    let servers: BTreeMap<&str, (&str, &str)> =
        found.servers.iter().map(|s| (s.source_server_id.as_str(), (s.arn.as_str(), s.hostname.as_str()))).collect();
    let partitions: BTreeSet<Partition> = plan
        .waves
        .iter()
        .flat_map(|w| w.jobs.iter().map(|j| Partition { account: j.account.clone(), region: j.region.clone() }))
        .collect();
    for p in partitions {
        let steps = Steps { plan, resource, servers: &servers, quotas, opts, partition: &p };
        let (steps, notes) = steps.lay_out();
        let error = (steps.len() > MAX_STEPS).then(|| {
            format!("{} steps: a recovery plan holds {MAX_STEPS} (fewer waves, or fewer servers per wave, in {p})", steps.len())
        });
        out.plans.push(DesiredPlan {
            description: names::description(&resource.name, &identity),
            tags: names::tags(&resource.name, &identity),
            name: plan_name.clone(),
            partition: p,
            steps,
            notes,
            error,
        });
    }
    out
}

/// What the resource asks for that no native plan does.
fn resource_notes(resource: &DrsResource) -> Vec<String> {
    let mut notes = vec![];
    if resource.recovery.tenant.is_some() {
        notes.push("hooks do not run in a native plan (no before-wave or after-wave decisions)".into());
    }
    if resource.launch.is_some() {
        notes.push("LaunchSettings are not applied by a native plan: keep them with `drs-orch launch check --sync`".into());
    }
    if resource.recovery.recover_before.is_some() {
        notes.push(
            "RecoverBefore is not kept: a native plan launches each server's latest data unless started with snapshots".into(),
        );
    }
    notes.push("no cleanup: terminate a native drill's instances yourself".into());
    notes
}

/// The layout of one partition's steps.
struct Steps<'a> {
    plan: &'a ResourcePlan,
    resource: &'a DrsResource,
    servers: &'a BTreeMap<&'a str, (&'a str, &'a str)>,
    quotas: &'a Quotas,
    opts: Options,
    partition: &'a Partition,
}

impl Steps<'_> {
    fn here(&self, w: usize) -> Vec<&Vec<String>> {
        let p = self.partition;
        self.plan.waves[w]
            .jobs
            .iter()
            .filter(|j| j.account == p.account && j.region == p.region)
            .map(|j| &j.source_server_ids)
            .collect()
    }

    fn elsewhere(&self, w: usize) -> bool {
        let p = self.partition;
        self.plan.waves[w].jobs.iter().any(|j| j.account != p.account || j.region != p.region)
    }

    fn lay_out(&self) -> (Vec<DesiredStep>, Vec<String>) {
        let (mut steps, mut notes) = (vec![], vec![]);
        let mut pending: Vec<usize> = vec![];
        let mut laid: Vec<usize> = vec![];
        for w in start_order(self.plan) {
            let wave = &self.plan.waves[w];
            let settings = self.resource.recovery.wave(&wave.name);
            if settings.pause.is_some() {
                pending.push(w);
            }
            let jobs = self.here(w);
            if jobs.is_empty() {
                continue;
            }
            let before = ancestors(self.plan, w);
            let holding: Vec<usize> = pending.iter().copied().filter(|x| *x == w || before.contains(x)).collect();
            if !holding.is_empty() {
                let paused: Vec<&str> = holding.iter().map(|x| self.plan.waves[*x].name.as_str()).collect();
                steps.push(DesiredStep {
                    name: names::step_name(&format!("pause before {}", wave.name)),
                    wave: wave.name.clone(),
                    kind: StepKind::Wait { minutes: self.opts.pause_minutes.clamp(1, MAX_WAIT_MINUTES) },
                });
                notes.push(format!(
                    "{} pauses for an approval in the module (PauseBefore); here a {}-minute wait step stands for it",
                    paused.join(", "),
                    self.opts.pause_minutes.clamp(1, MAX_WAIT_MINUTES)
                ));
                pending.retain(|x| !holding.contains(x));
            }
            notes.extend(self.order_notes(w, &before, &laid));
            let critical = !matches!(settings.policy, FailurePolicy::Continue);
            if let FailurePolicy::Threshold { max_failed, max_failed_percent } = settings.policy {
                if max_failed.unwrap_or(0) > 0 || max_failed_percent.is_some_and(|p| p > 0.0) {
                    notes.push(format!(
                        "{}'s FailurePolicy ({}) tolerates failures; a native step cannot count them: its servers are \
                         CRITICAL (a failure stops the plan; skip the failed step to go on)",
                        wave.name,
                        settings.policy.describe()
                    ));
                }
            }
            let chunks: Vec<&[String]> = jobs.iter().flat_map(|ids| ids.chunks(MAX_SERVERS_PER_STEP)).collect();
            if chunks.len() > 1 {
                let per_job = self.quotas.servers_per_job;
                let why = if jobs.len() > 1 {
                    format!("the module starts {} DRS jobs for it here ({per_job} servers a job at most)", jobs.len())
                } else {
                    String::new()
                };
                let split = if chunks.len() > jobs.len() { "a server step holds 100 servers at most" } else { "" };
                let reasons: Vec<&str> = [why.as_str(), split].into_iter().filter(|s| !s.is_empty()).collect();
                notes.push(format!(
                    "{} is {} server steps, one after the other ({}); the module launches them side by side",
                    wave.name,
                    chunks.len(),
                    reasons.join("; ")
                ));
            }
            for (k, ids) in chunks.iter().enumerate() {
                let name = match chunks.len() {
                    1 => wave.name.clone(),
                    n => format!("{} part {} of {n}", wave.name, k + 1),
                };
                let servers = ids
                    .iter()
                    .map(|id| {
                        let (arn, host) = self.servers.get(id.as_str()).copied().unwrap_or(("", ""));
                        StepServer {
                            arn: if arn.is_empty() { names::server_arn(self.partition, id) } else { arn.to_owned() },
                            source_server_id: id.clone(),
                            hostname: host.to_owned(),
                            critical,
                        }
                    })
                    .collect();
                steps.push(DesiredStep {
                    name: names::step_name(&name),
                    wave: wave.name.clone(),
                    kind: StepKind::Servers { servers },
                });
            }
            laid.push(w);
        }
        (steps, notes)
    }

    /// Where the order here is not the module's: a wave that follows one it does not wait
    /// for, and one that waits for servers of another account x region.
    fn order_notes(&self, w: usize, before: &BTreeSet<usize>, laid: &[usize]) -> Vec<String> {
        let mut notes = vec![];
        let name = &self.plan.waves[w].name;
        if let Some(last) = laid.last().filter(|l| !before.contains(l)) {
            notes.push(format!(
                "{name} does not wait for {} in the module (they run side by side); a native plan runs one step at a \
                 time, so here it follows it (the module's start order)",
                self.plan.waves[*last].name
            ));
        }
        let remote: Vec<&str> =
            before.iter().filter(|d| self.elsewhere(**d)).map(|d| self.plan.waves[*d].name.as_str()).collect();
        if !remote.is_empty() {
            notes.push(format!(
                "{name} waits in the module for {} in other accounts or regions too; this plan waits only for its own \
                 (run the resource's plans side by side, or start this one when those are done)",
                remote.join(", ")
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::jobs::PlannedJob;
    use crate::plan::WavePlan;
    use crate::selection::Resolution;
    use serde_json::json;

    const P1: (&str, &str) = ("111111111111", "us-east-1");
    const P2: (&str, &str) = ("222222222222", "us-east-1");

    fn job(at: (&str, &str), from: usize, n: usize) -> PlannedJob {
        PlannedJob {
            account: at.0.into(),
            region: at.1.into(),
            source_server_ids: (from..from + n).map(|i| format!("s-{i:017}")).collect(),
            starts_with_wave: true,
        }
    }

    fn wave(name: &str, depends_on: &[&str], jobs: Vec<PlannedJob>) -> WavePlan {
        WavePlan { name: name.into(), depends_on: depends_on.iter().map(|d| d.to_string()).collect(), servers: vec![], jobs }
    }

    fn plan(waves: Vec<WavePlan>) -> ResourcePlan {
        let resolution = Resolution {
            resource_name: "Big".into(),
            servers: vec![],
            misses: vec![],
            conflicts: vec![],
            not_ready: vec![],
            warnings: vec![],
            errors: vec![],
        };
        ResourcePlan { layer: 1, resource_name: "Big".into(), resolution, waves, error: None, recovery_points: None }
    }

    fn lay_out(p: &ResourcePlan, params: serde_json::Value, per_job: usize) -> ResourceLayout {
        let r = DrsResource::new("Big", &params).unwrap();
        let found = Discovery::default();
        let q = Quotas { servers_per_job: per_job, servers_in_active_jobs: 10_000, concurrent_jobs: 1_000 };
        layout(p, &r, &found, &q, Options { pause_minutes: 15 })
    }

    fn shape(plan: &DesiredPlan) -> Vec<(String, String)> {
        plan.steps
            .iter()
            .map(|s| match &s.kind {
                StepKind::Servers { servers } => (s.name.clone(), servers.len().to_string()),
                StepKind::Wait { minutes } => (s.name.clone(), format!("wait {minutes}")),
            })
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_wave_past_100_servers_is_several_steps_and_says_so() {
        let p = plan(vec![wave("all", &[], vec![job(P1, 0, 200), job(P1, 200, 50)])]);
        let l = lay_out(&p, json!({"Tags": {"App": "big"}}), 200);
        assert_eq!(
            shape(&l.plans[0]),
            pairs(&[("all part 1 of 3", "100"), ("all part 2 of 3", "100"), ("all part 3 of 3", "50")])
        );
        let note = l.plans[0].notes.iter().find(|n| n.contains("3 server steps")).unwrap();
        assert!(note.contains("2 DRS jobs") && note.contains("100 servers at most"), "{note}");
        assert!(l.plans[0].error.is_none());
        let first = match &l.plans[0].steps[0].kind {
            StepKind::Servers { servers } => servers[0].clone(),
            StepKind::Wait { .. } => panic!("a server step"),
        };
        assert_eq!(first.arn, "arn:aws:drs:us-east-1:111111111111:source-server/s-00000000000000000");
        assert!(first.critical, "the default policy fails the run on a failure");
    }

    #[test]
    fn a_plan_of_more_than_20_steps_is_refused_not_cut_short() {
        let jobs = (0..25).map(|i| job(P1, i * 10, 10)).collect();
        let l = lay_out(&plan(vec![wave("all", &[], jobs)]), json!({"Tags": {"App": "big"}}), 10);
        assert_eq!(l.plans[0].steps.len(), 25);
        assert!(
            l.plans[0].error.as_deref().is_some_and(|e| e.contains("25 steps: a recovery plan holds 20")),
            "{:?}",
            l.plans[0].error
        );
    }

    #[test]
    fn waves_come_in_the_modules_start_order_with_a_pause_before_what_it_holds_back() {
        // a pauses and has servers only in P2; b waits for a; c starts with the run.
        let p = plan(vec![
            wave("a", &[], vec![job(P2, 0, 2)]),
            wave("b", &["a"], vec![job(P1, 10, 3), job(P2, 20, 1)]),
            wave("c", &[], vec![job(P1, 30, 4)]),
        ]);
        let params = json!({
            "Tags": {"App": "big"},
            "Waves": [
                {"Name": "a", "Tags": {"T": "a"}, "PauseBefore": true},
                {"Name": "b", "Tags": {"T": "b"}, "DependsOn": ["a"], "FailurePolicy": {"MaxFailed": 2}},
                {"Name": "c", "Tags": {"T": "c"}, "DependsOn": [], "FailurePolicy": "continue"}
            ]
        });
        let l = lay_out(&p, params, 100);
        assert_eq!(start_order(&p), [0, 2, 1]);
        let p1 = l.plans.iter().find(|x| x.partition.account == P1.0).unwrap();
        assert_eq!(shape(p1), pairs(&[("c", "4"), ("pause before b", "wait 15"), ("b", "3")]));
        let notes = p1.notes.join("\n");
        assert!(notes.contains("a pauses for an approval in the module"), "{notes}");
        assert!(notes.contains("b does not wait for c in the module"), "{notes}");
        assert!(notes.contains("b waits in the module for a in other accounts or regions too"), "{notes}");
        assert!(notes.contains("b's FailurePolicy (MaxFailed 2) tolerates failures"), "{notes}");
        let critical: Vec<bool> = p1
            .steps
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::Servers { servers } => Some(servers[0].critical),
                StepKind::Wait { .. } => None,
            })
            .collect();
        assert_eq!(critical, [false, true], "continue: OPTIONAL; a threshold: CRITICAL");
        let p2 = l.plans.iter().find(|x| x.partition.account == P2.0).unwrap();
        assert_eq!(shape(p2), pairs(&[("pause before a", "wait 15"), ("a", "2"), ("b", "1")]));
    }
}

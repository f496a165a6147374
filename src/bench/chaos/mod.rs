//! `bench chaos`: drills run to their end (activate, then cleanup) as the platform drives
//! them, on bad days, each judged by the simulator alone (`judge.rs`): every server the run
//! should launch in exactly one launch job, none it must not, no drill instance left after
//! cleanup (orphans), and the outcome the kind calls for. Runs take the selected kinds in turn:
//! - `worst-day` (`worst_day.rs`): a throttling storm, one account x region dark for 10
//!   simulated minutes mid-wave, every session ended mid-run, each phase's event re-delivered
//!   and one status check sent twice at once; alternately the demo drill (60 servers over 3
//!   accounts x 2 regions) and a generated 20-account x 3-region drill;
//! - the others (`kinds.rs`): two resources sharing an execution id and its approvals, a
//!   selection rewritten between activate and cleanup, a fail-fast drill cleaned up while its
//!   launches are in flight, one region dark in 50 accounts, a re-run of an ended execution,
//!   hooks during an outage, and a region where DRS is not initialized.
//!
//! A run falls short when it did not complete (the phases did not end as the kind calls for),
//! launched a server twice, left an orphan, or ended otherwise than it should (a wrong
//! outcome: the wrong end, a server missed or launched that must not be, a refused
//! TagResource); the bench then fails after printing its line.

mod judge;
mod kinds;
pub(crate) mod runner;
pub(crate) mod worst_day;

use judge::{Expect, Verdict};
use runner::Rig;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Storm, dark partition, sessions ended and re-deliveries in one drill.
    WorstDay,
    /// Two resources given one ExecutionId: two runs, two approvals, one answered first.
    SharedExecution,
    /// Activated with `"Tier": "web"`, cleaned up with `"Tier": ["web"]`.
    RewrittenSelection,
    /// A fail-fast drill whose first server fails, cleaned up while launches run.
    FailFastCleanup,
    /// One region's DRS and EC2 dark in 50 accounts for some checks mid-run.
    RegionDark,
    /// A drill with an ExecutionId run to its end, then activated again.
    Rerun,
    /// The demo drill with the tenant's skip-tagged hook, one account x region dark.
    HooksOutage,
    /// The configuration names a region where one account never initialized DRS.
    UninitializedRegion,
}

const ALL: [Kind; 8] = [
    Kind::WorstDay,
    Kind::SharedExecution,
    Kind::RewrittenSelection,
    Kind::FailFastCleanup,
    Kind::RegionDark,
    Kind::Rerun,
    Kind::HooksOutage,
    Kind::UninitializedRegion,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::WorstDay => "worst-day",
            Kind::SharedExecution => "shared-execution",
            Kind::RewrittenSelection => "rewritten-selection",
            Kind::FailFastCleanup => "fail-fast-cleanup",
            Kind::RegionDark => "region-dark",
            Kind::Rerun => "rerun",
            Kind::HooksOutage => "hooks-outage",
            Kind::UninitializedRegion => "uninitialized-region",
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// How many drills, taking the selected kinds in turn (at least one of each).
    #[arg(long, default_value_t = 16)]
    runs: usize,
    /// The kinds of run (comma-separated); default all.
    #[arg(long, value_enum, value_delimiter = ',')]
    kinds: Vec<Kind>,
    /// Servers of worst-day's 20-account x 3-region drill.
    #[arg(long, default_value_t = 600)]
    servers: usize,
    /// Servers of region-dark's 50-account x 2-region drill (2 per account x region by default).
    #[arg(long, default_value_t = 200)]
    region_servers: usize,
    /// The platform's Wait between status checks, in simulated seconds.
    #[arg(long, default_value_t = 30)]
    poll_seconds: u64,
}

impl Args {
    /// worst-day's dark partition: 10 simulated minutes of checks.
    fn dark_checks(&self) -> usize {
        (600 / self.poll_seconds.max(1)) as usize
    }
}

/// What a kind drove: its rig (for the judge), what it should have launched, and how its
/// phases ended against what the kind calls for.
pub struct Drive {
    rig: Rig,
    label: &'static str,
    expect: Expect,
    /// Every phase ended as the kind calls for.
    completed: bool,
    /// Why the outcome is wrong (the simulator's counts add theirs).
    wrong: Vec<String>,
    notes: Vec<String>,
}

impl Drive {
    fn new(rig: Rig, label: &'static str, expect: Expect) -> Drive {
        Drive { rig, label, expect, completed: false, wrong: vec![], notes: vec![] }
    }
}

struct RunResult {
    kind: Kind,
    label: &'static str,
    servers: usize,
    completed: bool,
    wrong_outcome: bool,
    verdict: Verdict,
    checks: usize,
    seconds: f64,
    notes: Vec<String>,
}

impl RunResult {
    fn short(&self) -> bool {
        !self.completed || self.wrong_outcome || self.verdict.duplicate_launches > 0 || self.verdict.orphans > 0
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let kinds: Vec<Kind> = if args.kinds.is_empty() { ALL.to_vec() } else { args.kinds.clone() };
    anyhow::ensure!(args.runs >= kinds.len(), "--runs {} is fewer than the {} kinds selected", args.runs, kinds.len());
    let mut results = vec![];
    for i in 0..args.runs {
        let kind = kinds[i % kinds.len()];
        // This kind's how-manyth run.
        let nth = i / kinds.len();
        let started = Instant::now();
        let drive = match kind {
            Kind::WorstDay => worst_day::run(&args, nth % 2 == 1).await?,
            Kind::SharedExecution => kinds::shared_execution(&args, nth).await?,
            Kind::RewrittenSelection => kinds::rewritten_selection(&args).await?,
            Kind::FailFastCleanup => kinds::fail_fast_cleanup(&args).await?,
            Kind::RegionDark => kinds::region_dark(&args).await?,
            Kind::Rerun => kinds::rerun(&args, nth).await?,
            Kind::HooksOutage => kinds::hooks_outage(&args).await?,
            Kind::UninitializedRegion => kinds::uninitialized_region(&args).await?,
        };
        let verdict = judge::judge(&drive.rig, &drive.expect).await?;
        let mut notes = drive.wrong.clone();
        notes.extend(drive.notes);
        notes.extend(verdict.notes.iter().cloned());
        let r = RunResult {
            kind,
            label: drive.label,
            servers: drive.expect.once.len(),
            completed: drive.completed,
            wrong_outcome: !drive.wrong.is_empty() || verdict.launches_wrong() || verdict.tag_errors > 0,
            checks: drive.rig.checks(),
            seconds: started.elapsed().as_secs_f64(),
            verdict,
            notes,
        };
        println!(
            "  run {:>2} {:<20} {:<5} servers={:<5} completed={} duplicate_launches={} orphans={} wrong_outcome={} missed={} unexpected={} tag_errors={} checks={} throttled={} dark={} expired={} {:.1}s {}",
            i + 1,
            r.kind.name(),
            r.label,
            r.servers,
            r.completed,
            r.verdict.duplicate_launches,
            r.verdict.orphans,
            r.wrong_outcome,
            r.verdict.missed_launches,
            r.verdict.unexpected_launches,
            r.verdict.tag_errors,
            r.checks,
            r.verdict.throttled,
            r.verdict.dark,
            r.verdict.expired,
            r.seconds,
            r.notes.join("; ")
        );
        results.push(r);
    }
    let sum = |f: fn(&Verdict) -> usize| results.iter().map(|r| f(&r.verdict)).sum::<usize>();
    let ran: std::collections::BTreeSet<&str> = results.iter().map(|r| r.kind.name()).collect();
    println!(
        "bench chaos: runs={} completed={} duplicate_launches={} orphans={} wrong_outcomes={} throttled_calls={} dark_calls={} expired_session_calls={} dark_minutes={} poll_s={} kinds={} missed_launches={} unexpected_launches={} tag_errors={}",
        results.len(),
        results.iter().filter(|r| r.completed).count(),
        sum(|v| v.duplicate_launches),
        sum(|v| v.orphans),
        results.iter().filter(|r| r.wrong_outcome).count(),
        sum(|v| v.throttled),
        sum(|v| v.dark),
        sum(|v| v.expired),
        args.dark_checks() as u64 * args.poll_seconds / 60,
        args.poll_seconds,
        ran.len(),
        sum(|v| v.missed_launches),
        sum(|v| v.unexpected_launches),
        sum(|v| v.tag_errors),
    );
    let short: Vec<String> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.short())
        .map(|(i, r)| format!("run {} ({})", i + 1, r.kind.name()))
        .collect();
    anyhow::ensure!(short.is_empty(), "{} of {} runs fell short: {}", short.len(), results.len(), short.join(", "));
    Ok(())
}

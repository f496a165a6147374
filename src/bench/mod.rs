//! Benchmarks (`drs-orch bench NAME`). Each prints its figures as one final line of
//! `key=value` pairs, measured side by side in one run.

mod chaos;
mod child_sim;
mod discovery;
mod forecast;
mod fuzz;
mod generated;
mod handoff;
mod hooks;
mod replicate_phase;
mod scale;
mod scale_opening;
mod sim;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum Which {
    /// The simulator's DescribeSourceServers throughput (goal: 2,000 pages a second).
    Sim(sim::Args),
    /// Discovery over 10,000 servers in 20 accounts x 3 regions against the bound and the
    /// sequential loop.
    Discovery(discovery::Args),
    /// The hand-off between waves (a wave's last launch to the next wave's StartRecovery,
    /// goal: one status-poll interval) and the AWS calls per wave, over the demo drill.
    Handoff(handoff::Args),
    /// The wave-hook host: before-wave call p99 with a 500-server context, load from the
    /// compiled cache and compile time, for the Rust example hook and the JavaScript one
    /// (goals: p99 under 1 ms, cache load under 20 ms).
    Hooks(hooks::Args),
    /// Drills on bad days, judged by the simulator: a throttling storm with a partition dark,
    /// ended sessions and re-delivered events; a shared execution id; a selection rewritten
    /// before cleanup; a fail-fast drill cleaned up mid-launch; a region dark in 50 accounts; a
    /// re-run of an ended execution; hooks during an outage; an uninitialized region (goal:
    /// every run completed, each server launched once, no orphan, no wrong outcome).
    Chaos(chaos::Args),
    /// A 10,000-server drill (20 accounts x 3 regions, 5 waves) through the lifecycle: the
    /// payload's bytes a server, each status check's time and AWS calls, peak memory beside
    /// the hub's Lambda memory, the hand-off between waves, the run against its critical path.
    Scale(scale::Args),
    /// Structure-aware fuzzing of every parser of outside input, a million inputs per target:
    /// no panic, and every rejection names its field.
    Fuzz(fuzz::Args),
    /// Drills of the same resource on the demo fleet and a generated one, each forecast by
    /// instantiate before it runs, against the run's actual time on the simulator's clock
    /// (goal: within 10% from a resource's second run on).
    Forecast(forecast::Args),
}

pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Sim(args) => sim::run(args).await,
        Which::Discovery(args) => discovery::run(args).await,
        Which::Handoff(args) => handoff::run(args).await,
        Which::Hooks(args) => hooks::run(args).await,
        Which::Chaos(args) => chaos::run(args).await,
        Which::Scale(args) => scale::run(args).await,
        Which::Fuzz(args) => fuzz::run(args).await,
        Which::Forecast(args) => forecast::run(args).await,
    }
}

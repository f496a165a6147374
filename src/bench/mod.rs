//! Benchmarks (`drs-orch bench NAME`). Each prints its figures as one final line of
//! `key=value` pairs, measured side by side in one run.

mod sim;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum Which {
    /// The simulator's DescribeSourceServers throughput (goal: 2,000 pages a second).
    Sim(sim::Args),
}

pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Sim(args) => sim::run(args).await,
    }
}

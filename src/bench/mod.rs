//! Benchmarks (`drs-orch bench NAME`). Each prints its figures as one final line of
//! `key=value` pairs, measured side by side in one run.

mod discovery;
mod sim;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum Which {
    /// The simulator's DescribeSourceServers throughput (goal: 2,000 pages a second).
    Sim(sim::Args),
    /// Discovery over 10,000 servers in 20 accounts x 3 regions against the bound and the
    /// sequential loop.
    Discovery(discovery::Args),
}

pub async fn run(which: Which) -> anyhow::Result<()> {
    match which {
        Which::Sim(args) => sim::run(args).await,
        Which::Discovery(args) => discovery::run(args).await,
    }
}

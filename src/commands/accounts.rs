//! `drs-orch accounts check`: assume each account's role, then probe every DRS and EC2 call
//! the module makes with the least harmful request; a table with the exact reason for each
//! failure, and a non-zero exit when any account x region is unhealthy.

use crate::embedded;
use drs_module::accounts::check;
use drs_module::aws::Clients;
use std::sync::Arc;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Check every configured account x region.
    Check(Args),
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: embedded::TargetArgs,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Check(args) = command;
    let target = args.target.target().await?;
    let cfg = Arc::new(target.config);
    let clients = Clients::new(cfg.clone(), target.hub, "accounts-check");
    let report = check(&clients, &cfg.partitions()).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    anyhow::ensure!(report.healthy(), "some account x region is unhealthy");
    Ok(())
}

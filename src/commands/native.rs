//! `drs-orch native sync MANIFEST [--check]`: for each DRS resource of a manifest and each
//! account x region it touches, the DRS recovery plan that mirrors its waves (the fallback
//! that runs from the DRS console when the orchestrator does not), created or brought in line;
//! with --check, only compared (for CI and readiness). Exit code: 0 every plan in sync; 2 out
//! of sync (--check: a sync would fix it); 1 what no sync fixes (a plan too large, a plan of
//! the name the module does not keep, an account x region that cannot be read).

use crate::embedded;
use drs_module::aws::Clients;
use drs_module::discovery::discover;
use drs_module::native::{self, Options, Report};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create or bring in line each resource's native recovery plans (--check: compare only).
    Sync(Args),
}

#[derive(clap::Args)]
pub struct Args {
    /// The application manifest (layers of resources).
    manifest: PathBuf,
    #[command(flatten)]
    target: embedded::TargetArgs,
    /// Compare only: report missing, drifted and stale plans, change nothing (exit code 2
    /// when a sync would change something).
    #[arg(long)]
    check: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// How long the wait step that stands for a wave's PauseBefore lasts, in minutes.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=120))]
    pause_minutes: u32,
}

/// Plans a sync would change (--check), as the process's exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{count} native plans are out of sync (drs-orch native sync fixes them)")]
pub struct OutOfSync {
    pub count: usize,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Sync(args) = command;
    let manifest = super::read_manifest(&args.manifest)?;
    let layers = drs_module::manifest::layers(&manifest)?;
    anyhow::ensure!(layers.iter().any(|l| !l.resources.is_empty()), "{}: no DRS resource", args.manifest.display());
    let target = args.target.target().await?;
    let clock = target.clock();
    let cfg = Arc::new(target.config);
    let clients = Clients::new(cfg.clone(), target.hub, "native-sync").with_clock(clock);
    let found = discover(&clients, &cfg.partitions(), |_| {}).await;
    let layouts = native::layouts(&layers, &found, &cfg.quotas, Options { pause_minutes: args.pause_minutes });
    let before = native::check(&clients, &layouts).await;
    if args.check {
        print(&before, None, args.json)?;
        anyhow::ensure!(before.errors() == 0, "{} native plans cannot be synced (see above)", before.errors());
        return match before.out_of_sync() {
            0 => Ok(()),
            count => Err(OutOfSync { count }.into()),
        };
    }
    let synced = native::sync(&clients, &before).await;
    let after = native::check(&clients, &layouts).await;
    print(&synced, Some(&after), args.json)?;
    anyhow::ensure!(
        after.in_sync(),
        "{} native plans are out of sync or cannot be synced after the sync",
        after.out_of_sync() + after.errors()
    );
    Ok(())
}

fn print(report: &Report, after: Option<&Report>, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        let out = match after {
            Some(a) => json!({"sync": report, "after": a}),
            None => json!({"check": report}),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    print!("{}", report.text());
    if let Some(a) = after {
        let states = a.resources.iter().flat_map(|r| r.plans.iter()).filter(|p| p.state != native::State::InSync);
        let left: Vec<String> = states.map(|p| format!("{} {}: {:?}", p.name, p.partition, p.state)).collect();
        match left.is_empty() {
            true => println!("after the sync: every native plan is in sync"),
            false => println!("after the sync, still out of line: {}", left.join("; ")),
        }
    }
    Ok(())
}

//! `drs-orch launch check MANIFEST [--sync]`: for each DRS resource with `LaunchSettings`,
//! the drift of its group's launch settings (DRS launch configuration and EC2 launch template)
//! from them; with --sync, fixes the drift and checks again.

use crate::embedded;
use drs_module::aws::Clients;
use drs_module::discovery::discover;
use drs_module::launch::{check, sync, Report};
use drs_module::manifest::layers;
use drs_module::selection::resolve;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Report (and with --sync fix) drift from each resource's LaunchSettings.
    Check(Args),
}

#[derive(clap::Args)]
pub struct Args {
    /// The application manifest (layers of resources).
    manifest: PathBuf,
    #[command(flatten)]
    target: embedded::TargetArgs,
    /// Fix the drift: UpdateLaunchConfiguration, and a new default launch template version.
    #[arg(long)]
    sync: bool,
    /// Print the reports as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Check(args) = command;
    let manifest: Value = super::read_manifest(&args.manifest)?;
    let target = args.target.target().await?;
    let cfg = Arc::new(target.config);
    let clients = Clients::new(cfg.clone(), target.hub, "launch-check");
    let found = discover(&clients, &cfg.partitions(), |_| {}).await;
    let mut out = vec![];
    let (mut drifting, mut errors) = (0, 0);
    for layer in layers(&manifest)? {
        for resource in &layer.resources {
            let sel = &resource.selection;
            let Some(want) = &resource.launch else { continue };
            let group = resolve(sel, &found.servers).servers;
            let before = check(&clients, &group, want).await;
            let after: Option<Report> = if args.sync && before.drifting() > 0 {
                let failed = sync(&clients, &before, want).await;
                for line in failed.lines() {
                    eprintln!("{}: sync failed: {line}", sel.resource_name);
                }
                Some(check(&clients, &group, want).await)
            } else {
                None
            };
            let last = after.as_ref().unwrap_or(&before);
            drifting += last.drifting();
            errors += last.errors();
            if !args.json {
                print_report(&sel.resource_name, &before, after.as_ref());
            }
            out.push(json!({"resource": sel.resource_name, "settings": want, "before": before, "after": after}));
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if out.is_empty() {
        println!("no DRS resource of the manifest has LaunchSettings");
    }
    anyhow::ensure!(errors == 0, "{errors} servers' launch settings could not be read");
    anyhow::ensure!(
        drifting == 0,
        "{drifting} servers drift from their LaunchSettings{}",
        if args.sync { "" } else { " (--sync fixes it)" }
    );
    Ok(())
}

fn print_report(resource: &str, before: &Report, after: Option<&Report>) {
    println!("{resource}: {} servers, {} drifting, {} failed", before.servers, before.drifting(), before.errors());
    for line in before.lines() {
        println!("  {line}");
    }
    if let Some(a) = after {
        println!("{resource} after sync: {} drifting, {} failed", a.drifting(), a.errors());
        for line in a.lines() {
            println!("  {line}");
        }
    }
}

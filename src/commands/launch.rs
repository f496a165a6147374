//! `drs-orch launch check MANIFEST [--sync]`: for each DRS resource with `LaunchSettings`,
//! the drift of its group's launch settings (DRS launch configuration and EC2 launch template)
//! from them, per server and field; the keys of `LaunchSettings.Servers` that name no server
//! or several; and every static private address of the manifest, checked together (its
//! subnet, the addresses AWS reserves, the other servers of the manifest, the network
//! interfaces there). With --sync, fixes the drift and checks again, unless a key or an
//! address is refused: then it changes nothing. `drs-orch launch release RESOURCE` lets go of
//! the static addresses a resource claimed at instantiate.

use crate::embedded;
use drs_module::aws::Clients;
use drs_module::discovery::discover;
use drs_module::launch::addresses::{self, Asked};
use drs_module::launch::servers::key_problems;
use drs_module::launch::{read_all, report, sync, KeyProblem, Report};
use drs_module::manifest::layers;
use drs_module::selection::resolve;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Report (and with --sync fix) drift from each resource's LaunchSettings.
    Check(Args),
    /// Let go of the static private addresses a resource claimed at instantiate (a resource
    /// taken out of the manifests: another may then have them).
    Release(ReleaseArgs),
}

#[derive(clap::Args)]
pub struct ReleaseArgs {
    /// The resource's name (`resourceName`).
    resource: String,
    #[command(flatten)]
    target: embedded::TargetArgs,
}

async fn release(args: ReleaseArgs) -> anyhow::Result<()> {
    let target = args.target.target().await?;
    let clients = Clients::new(Arc::new(target.config), target.hub, "launch-release");
    let held = drs_module::launch::claims::release(&clients, &args.resource).await?;
    if held.is_empty() {
        println!("resource {} holds no static private address", args.resource);
    }
    for k in &held {
        println!("let go: {} in {} of {}/{} (resource {})", k.address, k.subnet, k.account, k.region, args.resource);
    }
    Ok(())
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
    let args = match command {
        Command::Check(args) => args,
        Command::Release(args) => return release(args).await,
    };
    let manifest: Value = super::read_manifest(&args.manifest)?;
    let target = args.target.target().await?;
    let cfg = Arc::new(target.config);
    let clients = Clients::new(cfg.clone(), target.hub, "launch-check");
    let found = discover(&clients, &cfg.partitions(), |_| {}).await;
    // Each resource's group, its settings as read, its keys and its static addresses.
    let mut checked = vec![];
    let mut asks: Vec<Asked> = vec![];
    let layers = layers(&manifest)?;
    for layer in &layers {
        for resource in &layer.resources {
            let sel = &resource.selection;
            let Some(want) = &resource.launch else { continue };
            let resolution = resolve(sel, &found.servers);
            let group: Vec<_> = resolution.servers.clone();
            let known: Vec<_> = group.iter().cloned().chain(resolution.not_ready.iter().map(|n| n.server.clone())).collect();
            let keys: Vec<KeyProblem> = key_problems(want, &known);
            let reads = read_all(&clients, &group, Some(want)).await;
            asks.extend(
                addresses::asked(&reads, want, &found)
                    .into_iter()
                    .map(|a| Asked { field: format!("{}: {}", sel.resource_name, a.field), ..a }),
            );
            checked.push((sel.resource_name.clone(), want, group, keys, report(&reads, want)));
        }
    }
    let refused = addresses::check(&clients, &asks).await;
    let blocking_keys: usize = checked.iter().map(|c| c.3.iter().filter(|k| k.blocks()).count()).sum();
    let may_sync = refused.is_empty() && blocking_keys == 0;
    let mut out = vec![];
    let (mut drifting, mut errors) = (0, 0);
    for (name, want, group, keys, before) in &checked {
        let after: Option<Report> = if args.sync && may_sync && before.drifting() > 0 {
            let failed = sync(&clients, before, want).await;
            for line in failed.lines() {
                eprintln!("{name}: sync failed: {line}");
            }
            Some(drs_module::launch::check(&clients, group, want).await)
        } else {
            None
        };
        let last = after.as_ref().unwrap_or(before);
        drifting += last.drifting();
        errors += last.errors();
        if !args.json {
            print_report(name, before, after.as_ref(), keys);
        }
        out.push(json!({"resource": name, "settings": want, "keys": keys, "before": before, "after": after}));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json!({"resources": out, "addresses": refused}))?);
    } else if out.is_empty() {
        println!("no DRS resource of the manifest has LaunchSettings");
    } else {
        println!("static private addresses: {} checked, {} refused", asks.len(), refused.len());
        for p in &refused {
            println!("  {} ({}/{}): {p}", p.server.hostname, p.server.account, p.server.region);
        }
    }
    anyhow::ensure!(
        may_sync,
        "{} static addresses and {blocking_keys} LaunchSettings.Servers keys are refused{}",
        refused.len(),
        if args.sync { ": nothing was synced" } else { "" }
    );
    anyhow::ensure!(errors == 0, "{errors} servers' launch settings could not be read");
    anyhow::ensure!(
        drifting == 0,
        "{drifting} servers drift from their LaunchSettings{}",
        if args.sync { "" } else { " (--sync fixes it)" }
    );
    Ok(())
}

fn print_report(resource: &str, before: &Report, after: Option<&Report>, keys: &[KeyProblem]) {
    println!("{resource}: {} servers, {} drifting, {} failed", before.servers, before.drifting(), before.errors());
    for k in keys {
        println!("  {k}");
    }
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

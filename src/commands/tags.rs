//! `drs-orch tags sync`: copies each source instance's EC2 tags onto its DRS source server
//! across every configured account x region. Shows the plan; changes nothing without --apply.

use crate::embedded;
use drs_module::aws::Clients;
use drs_module::discovery::discover;
use drs_module::tagsync::{apply, plan, Plan, Rules};
use serde_json::json;
use std::sync::Arc;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Copy source instances' EC2 tags onto their DRS source servers (adds and updates, never removes).
    Sync(Args),
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: embedded::TargetArgs,
    /// Copy only this key (repeatable; every key when absent).
    #[arg(long = "key")]
    keys: Vec<String>,
    /// Replace DRS values that differ from EC2's (otherwise they are reported as conflicts).
    #[arg(long)]
    overwrite: bool,
    /// Tag the servers (otherwise only the plan is shown).
    #[arg(long)]
    apply: bool,
    /// Print the plan (and what was applied) as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Sync(args) = command;
    let target = args.target.target().await?;
    let cfg = Arc::new(target.config);
    let clients = Clients::new(cfg.clone(), target.hub, "tags-sync");
    let found = discover(&clients, &cfg.partitions(), |_| {}).await;
    let failed: Vec<String> = found
        .failed()
        .map(|p| format!("{}: {}", p.partition, p.error.as_ref().map(|e| e.to_string()).unwrap_or_default()))
        .collect();
    let plan = plan(&found.servers, &Rules { keys: args.keys, overwrite: args.overwrite });
    let applied = if args.apply { Some(apply(&clients, &plan).await) } else { None };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json!({"plan": plan, "applied": applied, "failedPartitions": failed}))?);
    } else {
        print!("{}", table(&plan));
        for f in &failed {
            println!("partition not read: {f}");
        }
        match &applied {
            Some(a) => println!("applied: {} tags on {} servers; {} failed", a.tags_set, a.servers_tagged, a.failures.len()),
            None if plan.tags_to_set() > 0 => println!("nothing changed: run again with --apply to tag"),
            None => {}
        }
        for f in applied.iter().flat_map(|a| &a.failures) {
            println!("FAILED {f}");
        }
    }
    anyhow::ensure!(failed.is_empty(), "{} partitions could not be read", failed.len());
    anyhow::ensure!(applied.is_none_or(|a| a.failures.is_empty()), "some servers could not be tagged");
    Ok(())
}

fn table(p: &Plan) -> String {
    let mut out = format!("{:<14} {:<12} {:<18} {}\n", "account", "region", "server", "change");
    for c in &p.changes {
        let mut what: Vec<String> = c.set.iter().map(|(k, v)| format!("{k}={v}")).collect();
        what.extend(c.conflicts.iter().map(|k| format!("conflict {k} (--overwrite to replace)")));
        what.extend(c.skipped.iter().map(|s| format!("skipped {s}")));
        out += &format!("{:<14} {:<12} {:<18} {}\n", c.account, c.region, c.hostname, what.join(", "));
    }
    out += &format!(
        "{} tags to set on {} servers; {} in sync; {} without a readable source instance\n",
        p.tags_to_set(),
        p.changes.iter().filter(|c| !c.set.is_empty()).count(),
        p.in_sync,
        p.without_instance.len()
    );
    out
}

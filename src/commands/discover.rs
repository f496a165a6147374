//! `drs-orch discover`: every account x region, with progress while it runs; prints a table
//! and writes the whole result as JSON.

use crate::embedded;
use drs_module::aws::Clients;
use drs_module::discovery::{discover, Discovery};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: embedded::TargetArgs,
    /// Where to write the JSON result.
    #[arg(long, default_value = "discovery.json")]
    out: PathBuf,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let target = args.target.target().await?;
    let cfg = Arc::new(target.config);
    let partitions = cfg.partitions();
    let clients = Clients::new(cfg.clone(), target.hub, &format!("discover-{}", std::process::id()));
    let bar = ProgressBar::new(partitions.len() as u64);
    bar.set_style(ProgressStyle::with_template("{spinner} discovering {pos}/{len} account x region {msg}")?);
    let found = discover(&clients, &partitions, |p| {
        bar.inc(1);
        bar.set_message(format!("(last: {})", p.partition));
    })
    .await;
    bar.finish_and_clear();
    print!("{}", table(&found));
    std::fs::write(&args.out, serde_json::to_vec_pretty(&found)?)?;
    println!("wrote {}", args.out.display());
    let failed = found.failed().count();
    anyhow::ensure!(failed == 0, "{failed} of {} partitions failed (see the table)", found.partitions.len());
    Ok(())
}

fn table(d: &Discovery) -> String {
    let mut out = format!("{:<14} {:<16} {:>8} {:>6} {:>8}  status\n", "account", "region", "servers", "pages", "ms");
    for p in &d.partitions {
        let status = match (&p.error, p.enrichment_errors.is_empty()) {
            (Some(e), _) => format!("FAILED {e}"),
            (None, true) => "ok".into(),
            (None, false) => format!("ok, source instances unread: {}", p.enrichment_errors.join("; ")),
        };
        out += &format!(
            "{:<14} {:<16} {:>8} {:>6} {:>8}  {status}\n",
            p.partition.account, p.partition.region, p.servers, p.pages, p.millis
        );
    }
    let enriched = d.servers.iter().filter(|s| s.instance.is_some()).count();
    out += &format!("{} servers in {} partitions; {enriched} with their source instance\n", d.servers.len(), d.partitions.len());
    let extended = d.servers.iter().filter(|s| s.staging.is_some()).count();
    if extended + d.pending_extension.len() + d.staging_errors.len() + d.extended_elsewhere.len() > 0 {
        out += &format!(
            "{extended} extended from staging accounts; {} staging servers left to their extensions\n",
            d.extended_elsewhere.len()
        );
    }
    for p in &d.pending_extension {
        out += &format!(
            "NOT EXTENDED {} ({}) of staging account {} into {}/{}\n",
            p.hostname, p.source_server_arn, p.staging_account, p.account, p.region
        );
    }
    for e in &d.staging_errors {
        out += &format!("STAGING UNREAD {e}\n");
    }
    out
}

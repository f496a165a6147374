//! `drs-orch plan MANIFEST`: discovers, resolves the manifest's DRS resources to groups,
//! splits them into waves and DRS jobs, and prints what activation would start. Starts
//! nothing.

use crate::embedded;
use drs_module::aws::Clients;
use drs_module::discovery::discover;
use drs_module::plan::plan;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// The application manifest (layers of resources).
    manifest: PathBuf,
    #[command(flatten)]
    target: embedded::TargetArgs,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let manifest: serde_json::Value = super::read_manifest(&args.manifest)?;
    let target = args.target.target().await?;
    let cfg = Arc::new(target.config);
    let clients = Clients::new(cfg.clone(), target.hub, "plan");
    let found = discover(&clients, &cfg.partitions(), |_| {}).await;
    let p = plan(&drs_module::manifest::layers(&manifest)?, &found, &cfg.quotas);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", p.text());
    }
    anyhow::ensure!(p.is_ok(), "the plan has errors (see above)");
    Ok(())
}

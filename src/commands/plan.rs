//! `drs-orch plan MANIFEST`: discovers, resolves the manifest's DRS resources to groups,
//! splits them into waves and DRS jobs, and prints what activation would start. Starts
//! nothing.

use crate::embedded;
use drs_module::aws::Clients;
use drs_module::discovery::discover;
use drs_module::forecast::{self, Assumptions};
use drs_module::plan::plan;
use drs_module::resource::DrsResource;
use serde_json::json;
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
    /// The platform's Wait between status checks, for the forecast (default: the
    /// configuration's forecast.pollSeconds).
    #[arg(long)]
    poll_seconds: Option<u64>,
    /// Plan a point-in-time recovery: each server's newest recovery snapshot taken before
    /// this RFC 3339 time, for every DRS resource (as `drill --recover-before`).
    #[arg(long, value_parser = super::rfc3339)]
    recover_before: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut manifest: serde_json::Value = super::read_manifest(&args.manifest)?;
    if let Some(t) = &args.recover_before {
        drs_module::manifest::set_parameter(&mut manifest, "RecoverBefore", json!(super::rfc3339_text(t)));
    }
    let target = args.target.target().await?;
    let clock = target.clock();
    let cfg = Arc::new(target.config);
    // The simulator's clock when there is one: RecoverBefore is judged against it.
    let clients = Clients::new(cfg.clone(), target.hub, "plan").with_clock(clock);
    let found = discover(&clients, &cfg.partitions(), |_| {}).await;
    let layers = drs_module::manifest::layers(&manifest)?;
    let mut p = plan(&layers, &found, &cfg.quotas);
    let mut assume = Assumptions::from(&cfg.forecast);
    if let Some(s) = args.poll_seconds {
        assume.poll_seconds = s.max(1);
    }
    let resources: Vec<&DrsResource> = layers.iter().flat_map(|l| l.resources.iter()).collect();
    // RecoverBefore: each server's recovery snapshot and its age against the time.
    drs_module::plan::points::attach(&clients, &mut p, &resources).await?;
    let forecasts = forecast::of_plan(&clients, &p, &resources, assume).await;
    let total = forecast::manifest_seconds(&forecasts);
    if args.json {
        let mut out = serde_json::to_value(&p)?;
        out["forecast"] = json!({"resources": forecasts, "manifestSeconds": total});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", p.text());
        forecasts.iter().for_each(|f| print!("{}", f.text()));
        if let Some(s) = total {
            println!("forecast for the manifest: {} (layers in turn, approvals not counted)", forecast::hms(s));
        }
    }
    anyhow::ensure!(p.is_ok(), "the plan has errors (see above)");
    Ok(())
}

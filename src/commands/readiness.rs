//! `drs-orch readiness MANIFEST`: whether each DRS resource of a manifest could be recovered
//! now (READY, NEEDS VERIFICATION, NOT READY, with the reasons per resource and server), as
//! the Lambda's scheduled `readiness` entry judges it. Changes nothing. The exit code is the
//! verdict: 0 READY, 2 NEEDS VERIFICATION, 3 NOT READY (1: the check itself failed).

use crate::embedded;
use drs_module::aws::Clients;
use drs_module::readiness::{assess, render, Verdict};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// The application manifest (layers of resources).
    manifest: PathBuf,
    #[command(flatten)]
    target: embedded::TargetArgs,
    /// Print the report as JSON (the Lambda's answer) instead of a table.
    #[arg(long)]
    json: bool,
}

/// A verdict other than READY, as the process's exit code (printed nothing more).
#[derive(Debug, thiserror::Error)]
#[error("{verdict}")]
pub struct NotAllReady {
    pub verdict: Verdict,
}

impl NotAllReady {
    pub fn code(&self) -> u8 {
        match self.verdict {
            Verdict::Ready => 0,
            Verdict::NeedsVerification => 2,
            Verdict::NotReady => 3,
        }
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let manifest = super::read_manifest(&args.manifest)?;
    let resources: Vec<_> = drs_module::manifest::layers(&manifest)?.into_iter().flat_map(|l| l.resources).collect();
    anyhow::ensure!(!resources.is_empty(), "{}: no DRS resource", args.manifest.display());
    let target = args.target.target().await?;
    let clock = target.clock();
    let cfg = Arc::new(target.config);
    let clients = Clients::new(cfg, target.hub, "readiness").with_clock(clock);
    let report = assess(&clients, &resources).await;
    match args.json {
        true => println!("{}", serde_json::to_string_pretty(&report)?),
        false => print!("{}", render::table(&report)),
    }
    match report.verdict {
        Verdict::Ready => Ok(()),
        verdict => Err(NotAllReady { verdict }.into()),
    }
}

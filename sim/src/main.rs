//! `drs-sim`: run the simulator standalone, or write and check fleet files.

use anyhow::Context;
use clap::{Parser, Subcommand};
use drs_sim::generate::{self, Spec};
use drs_sim::Fleet;
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "drs-sim", about = "A local AWS endpoint for DRS, STS, EC2 and Step Functions")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a fleet on 127.0.0.1. The first line of output is the hub identity as JSON.
    Serve {
        /// A fleet file (JSON or YAML); default: the embedded demo fleet.
        #[arg(long)]
        fleet: Option<PathBuf>,
        /// A generated fleet instead: SERVERSxACCOUNTSxREGIONS, e.g. 10000x20x3.
        #[arg(long, conflicts_with = "fleet")]
        generate: Option<String>,
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Simulated seconds per real second (overrides the fleet's clock speed).
        #[arg(long)]
        speed: Option<f64>,
    },
    /// Write a generated fleet as JSON.
    Generate {
        #[arg(long)]
        servers: usize,
        #[arg(long)]
        accounts: usize,
        #[arg(long)]
        regions: usize,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a fleet file against its schema and references.
    Check { fleet: PathBuf },
}

fn parse_spec(s: &str) -> anyhow::Result<Spec> {
    let parts: Vec<usize> = s
        .split('x')
        .map(|p| p.parse::<usize>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--generate '{s}': expected SERVERSxACCOUNTSxREGIONS"))?;
    anyhow::ensure!(parts.len() == 3, "--generate '{s}': expected SERVERSxACCOUNTSxREGIONS");
    Ok(Spec { servers: parts[0], accounts: parts[1], regions: parts[2] })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    match Cli::parse().command {
        Command::Serve { fleet, generate, port, speed } => {
            let mut fleet = match (fleet, generate) {
                (Some(path), _) => Fleet::load(&path)?,
                (None, Some(spec)) => generate::fleet(&parse_spec(&spec)?)?,
                (None, None) => Fleet::demo(),
            };
            if let Some(s) = speed {
                fleet.clock.speed = s;
            }
            let server = drs_sim::start(fleet, port).await?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", server.identity_json())?;
            out.flush()?;
            drop(out);
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        Command::Generate { servers, accounts, regions, out } => {
            let fleet = generate::fleet(&Spec { servers, accounts, regions })?;
            let text = serde_json::to_string_pretty(&fleet)? + "\n";
            match out {
                Some(p) => std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?,
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::Check { fleet } => {
            let f = Fleet::load(&fleet)?;
            println!(
                "{}: {} accounts, {} roles, {} servers: valid",
                fleet.display(),
                f.accounts.len(),
                f.roles.len(),
                f.servers.len()
            );
            Ok(())
        }
    }
}

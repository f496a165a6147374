//! `drs-orch`: the orchestrator's command line.

mod bench;

/// The SDK's parsers and the simulator allocate per field: mimalloc is several times
/// cheaper per allocation than the system allocator on these paths.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;
mod embedded;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "drs-orch", about = "Orchestrates AWS Elastic Disaster Recovery across accounts and regions")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the local simulator (the embedded demo fleet unless --fleet is given).
    /// The first line of output is the hub identity as JSON.
    Sim {
        #[arg(long)]
        fleet: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Validate the target accounts: roles, trust, DRS and EC2 permissions.
    Accounts {
        #[command(subcommand)]
        command: commands::accounts::Command,
    },
    /// Discover the source servers of every configured account x region.
    Discover(commands::discover::Args),
    /// Show the groups, waves and DRS jobs a manifest's activation would start (starts nothing).
    Plan(commands::plan::Args),
    /// Play the platform locally: activate each DRS resource of a manifest in waves, clean the
    /// drill up and write the run report (embedded simulator by default; --aws for AWS).
    Drill(commands::drill::Args),
    /// Approve (or --reject) a paused wave by its approval task token.
    Approve(commands::approve::Args),
    /// Whether each DRS resource of a manifest could be recovered now: READY, NEEDS
    /// VERIFICATION or NOT READY with the reasons (exit code 0, 2 or 3). Changes nothing.
    Readiness(commands::readiness::Args),
    /// Launch settings: drift of each resource's group from its LaunchSettings (and --sync).
    Launch {
        #[command(subcommand)]
        command: commands::launch::Command,
    },
    /// Native DRS recovery plans: each resource's waves as a plan per account x region, the
    /// fallback that runs from the DRS console (sync, or --check for drift).
    Native {
        #[command(subcommand)]
        command: commands::native::Command,
    },
    /// Sync tags across accounts: source instances' EC2 tags onto their DRS source servers.
    Tags {
        #[command(subcommand)]
        command: commands::tags::Command,
    },
    /// Check a wave hook component against a sample context.
    Hooks {
        #[command(subcommand)]
        command: commands::hooks::Command,
    },
    /// Run a benchmark; it ends with one line of key=value figures.
    Bench {
        #[command(subcommand)]
        which: bench::Which,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<commands::readiness::NotAllReady>() {
            // A readiness verdict other than READY: the report said why; the code says which.
            Some(verdict) => std::process::ExitCode::from(verdict.code()),
            // Native plans a sync would change: the report said which.
            None if e.downcast_ref::<commands::native::OutOfSync>().is_some() => {
                eprintln!("{}", error_text(&e));
                std::process::ExitCode::from(2)
            }
            None => {
                eprintln!("{}", error_text(&e));
                std::process::ExitCode::FAILURE
            }
        },
    }
}

/// An error and its causes as anyhow prints them, without the stack trace it captures
/// when RUST_BACKTRACE is set: a bad manifest is the user's to fix, not a crash to debug.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = format!("Error: {e}");
    let causes: Vec<String> = e.chain().skip(1).map(ToString::to_string).collect();
    if !causes.is_empty() {
        text.push_str("\n\nCaused by:");
        for (i, c) in causes.iter().enumerate() {
            let n = if causes.len() > 1 { format!("{i}: ") } else { String::new() };
            text.push_str(&format!("\n    {n}{c}"));
        }
    }
    text
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn".into())
                .add_directive(drs_module::secret::SDK_LOG_CAP.parse().expect("the SDK log cap is a valid directive")),
        )
        .init();
    match Cli::parse().command {
        Command::Sim { fleet, port } => {
            let fleet = match fleet {
                Some(p) => drs_sim::Fleet::load(&p)?,
                None => drs_sim::Fleet::demo(),
            };
            let server = drs_sim::start(fleet, port).await?;
            writeln!(std::io::stdout(), "{}", server.identity_json())?;
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        Command::Accounts { command } => commands::accounts::run(command).await,
        Command::Discover(args) => commands::discover::run(args).await,
        Command::Plan(args) => commands::plan::run(args).await,
        Command::Drill(args) => commands::drill::run(args).await,
        Command::Approve(args) => commands::approve::run(args).await,
        Command::Readiness(args) => commands::readiness::run(args).await,
        Command::Tags { command } => commands::tags::run(command).await,
        Command::Launch { command } => commands::launch::run(command).await,
        Command::Native { command } => commands::native::run(command).await,
        Command::Hooks { command } => commands::hooks::run(command).await,
        Command::Bench { which } => bench::run(which).await,
    }
}

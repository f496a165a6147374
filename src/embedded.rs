//! The embedded default: the local simulator with its demo fleet, and a module
//! configuration pointed at it, so that every command runs with no AWS account.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use drs_module::config::ModuleConfig;
use std::path::Path;

pub struct Target {
    pub config: ModuleConfig,
    /// The hub's AWS configuration (credentials of the orchestrator itself).
    pub hub: SdkConfig,
    /// Kept alive while the command runs.
    #[allow(dead_code)]
    pub sim: Option<drs_sim::SimServer>,
}

impl Target {
    /// The module's clock: the simulator's when there is one (deadlines and records then
    /// agree with the jobs' times), else the system's.
    pub fn clock(&self) -> std::sync::Arc<dyn drs_module::time::Clock> {
        match &self.sim {
            Some(sim) => {
                let world = sim.world.clone();
                std::sync::Arc::new(move || world.clock.now())
            }
            None => std::sync::Arc::new(drs_module::time::SystemClock),
        }
    }
}

/// Where a command runs: the embedded simulator (default) or AWS.
#[derive(clap::Args)]
pub struct TargetArgs {
    /// The module configuration (default with the simulator: its demo configuration).
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
    /// A fleet file for the embedded simulator (default: its demo fleet).
    #[arg(long, conflicts_with = "aws")]
    pub fleet: Option<std::path::PathBuf>,
    /// Use AWS through the default credential chain instead of the embedded simulator.
    #[arg(long)]
    pub aws: bool,
}

impl TargetArgs {
    pub async fn target(&self) -> anyhow::Result<Target> {
        target(self.config.as_deref(), self.fleet.as_deref(), self.aws).await
    }
}

/// `--aws`: the configuration file and the default credential chain; otherwise the embedded
/// simulator (a given fleet or the demo one) and the configuration (or the demo one)
/// pointed at it.
pub async fn target(config: Option<&Path>, fleet: Option<&Path>, aws: bool) -> anyhow::Result<Target> {
    if aws {
        let path = config.ok_or_else(|| anyhow::anyhow!("--aws needs --config FILE (the module configuration)"))?;
        let config = ModuleConfig::load(path)?;
        let hub = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(config.hub.region.clone())).load().await;
        return Ok(Target { config, hub, sim: None });
    }
    let fleet = match fleet {
        Some(p) => drs_sim::Fleet::load(p)?,
        None => drs_sim::Fleet::demo(),
    };
    let sim = drs_sim::start(fleet, 0).await?;
    let mut config = match config {
        Some(p) => ModuleConfig::load(p)?,
        None => ModuleConfig::parse(drs_module::config::DEMO)?,
    };
    config.hub.endpoint_url = Some(sim.endpoint.clone());
    let h = &sim.world.hub;
    let hub = drs_module::aws::static_hub(&config.hub.region, &h.access_key_id, &h.secret_access_key);
    Ok(Target { config, hub, sim: Some(sim) })
}

//! The records a hook sees: the wave's servers (account, region, hostname, id, DRS tags) and,
//! after the wave, each server's outcome.

use crate::config::Partition;
use crate::recovery::observe::ServerInfo;
use crate::resource::Mode;
use drs_host::{LaunchOutcome, Server, ServerOutcome, WaveContext, WaveResult};
use std::collections::BTreeMap;

pub struct Wave<'a> {
    pub execution: &'a str,
    pub tenant: &'a str,
    pub mode: Mode,
    pub index: usize,
    pub name: &'a str,
    /// The module's time (`Clients::now`): hooks see the clock the run is judged by.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// `servers`: (partition "account/region", the server).
pub fn context(w: &Wave, servers: &[(Partition, ServerInfo)]) -> WaveContext {
    WaveContext {
        execution_id: w.execution.to_owned(),
        tenant: w.tenant.to_owned(),
        mode: match w.mode {
            Mode::Drill => drs_host::Mode::Drill,
            Mode::Recovery => drs_host::Mode::Recovery,
        },
        wave_index: w.index as u32,
        wave_name: w.name.to_owned(),
        now: w.now.timestamp().max(0) as u64,
        servers: servers.iter().map(|(p, s)| server(p, s)).collect(),
    }
}

fn server(p: &Partition, s: &ServerInfo) -> Server {
    Server {
        account: p.account.clone(),
        region: p.region.clone(),
        hostname: s.hostname.clone(),
        source_server_id: s.source_server_id.clone(),
        tags: s.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

/// `failed`: source server id -> reason; servers missing from `launched` and `failed` were
/// left out of the wave (skipped) and are not reported.
pub fn result(
    w: &Wave,
    servers: &[(Partition, ServerInfo)],
    launched: &std::collections::HashSet<String>,
    failed: &BTreeMap<String, String>,
) -> WaveResult {
    let ctx = context(w, servers);
    let outcomes = ctx
        .servers
        .iter()
        .filter_map(|s| {
            let outcome = if launched.contains(&s.source_server_id) {
                LaunchOutcome::Launched
            } else {
                LaunchOutcome::Failed(failed.get(&s.source_server_id)?.clone())
            };
            Some(ServerOutcome { server: s.clone(), outcome })
        })
        .collect();
    WaveResult { context: ctx, outcomes }
}

//! Launch settings: a resource's `LaunchSettings` (what its recovery instances should launch
//! with) against what each server of its group launches with now, in DRS's launch
//! configuration and the default version of its EC2 launch template. `check` reports drift
//! per server and field; `sync` fixes it; `addresses` checks the static private addresses
//! before anything launches. Every partition is read at once, a bounded number of servers
//! within each.

pub mod addresses;
pub mod claims;
mod current;
mod desired;
mod drift;
mod error;
pub mod servers;
mod sync;

pub use current::Current;
pub use desired::{Desired, PerPartition, Settings};
pub use drift::{drift, Drift};
pub use error::LaunchError;
pub use servers::{KeyProblem, ServerSettings};

use crate::aws::fanout::by_partition;
use crate::aws::Clients;
use crate::config::Partition;
use crate::selection::ServerRef;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerDrift {
    pub server: ServerRef,
    pub drifts: Vec<Drift>,
    /// Why the settings could not be read (or, after sync, fixed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<LaunchError>,
    #[serde(skip)]
    current: Option<Current>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub servers: usize,
    /// Servers that drift or could not be read, sorted by account, region and hostname.
    pub findings: Vec<ServerDrift>,
}

impl Report {
    pub fn drifting(&self) -> usize {
        self.findings.iter().filter(|f| !f.drifts.is_empty()).count()
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.error.is_some()).count()
    }

    /// One line per finding: `host (account/region): field is X (want Y), ...` or
    /// `host (account/region): failed: <call>: <reason>`.
    pub fn lines(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|f| {
                let what = match &f.error {
                    // The reason names the call that failed (a read, or a sync's write).
                    Some(e) => format!("failed: {e}"),
                    None => f.drifts.iter().map(Drift::to_string).collect::<Vec<_>>().join(", "),
                };
                format!("{} ({}/{}): {what}", f.server.hostname, f.server.account, f.server.region)
            })
            .collect()
    }
}

fn partition(s: &ServerRef) -> Partition {
    Partition { account: s.account.clone(), region: s.region.clone() }
}

/// One server's settings as read: `current::read` once, in the server's own partition.
pub type Read = (ServerRef, Result<Current, LaunchError>);

/// Every server's current settings, with its template's default version when `want` names
/// template fields for its partition. Preflight derives both its launch-configuration
/// findings and the drift from these, so each server is read once.
pub async fn read_all(clients: &Clients, servers: &[ServerRef], want: Option<&Desired>) -> Vec<Read> {
    let items: Vec<(Partition, &ServerRef)> = servers.iter().map(|s| (partition(s), s)).collect();
    by_partition(clients, items, |p, s| async move {
        let with_template = want.is_some_and(|w| w.for_server(s).wants_template());
        (s.clone(), current::read(clients, &p, &s.source_server_id, with_template).await)
    })
    .await
}

/// Every server's current settings with its template's default version, whatever a
/// resource's settings name: what readiness reads the target network from.
pub async fn read_with_templates(clients: &Clients, servers: &[ServerRef]) -> Vec<Read> {
    let items: Vec<(Partition, &ServerRef)> = servers.iter().map(|s| (partition(s), s)).collect();
    by_partition(clients, items, |p, s| async move { (s.clone(), current::read(clients, &p, &s.source_server_id, true).await) })
        .await
}

/// The drift of what was read from `want`.
pub fn report(reads: &[Read], want: &Desired) -> Report {
    let mut findings: Vec<ServerDrift> = reads
        .iter()
        .map(|(s, read)| match read {
            Ok(c) => {
                let drifts = drift(&want.for_server(s), c);
                ServerDrift { server: s.clone(), drifts, error: None, current: Some(c.clone()) }
            }
            Err(e) => ServerDrift { server: s.clone(), drifts: vec![], error: Some(e.clone()), current: None },
        })
        .filter(|f| !f.drifts.is_empty() || f.error.is_some())
        .collect();
    findings.sort_by(|a, b| {
        (&a.server.account, &a.server.region, &a.server.hostname).cmp(&(&b.server.account, &b.server.region, &b.server.hostname))
    });
    Report { servers: reads.len(), findings }
}

/// Each server's drift from `want`.
pub async fn check(clients: &Clients, servers: &[ServerRef], want: &Desired) -> Report {
    report(&read_all(clients, servers, Some(want)).await, want)
}

/// Fixes the drift `report` found; returns what is left: servers whose fix failed (with why).
pub async fn sync(clients: &Clients, report: &Report, want: &Desired) -> Report {
    let items: Vec<(Partition, &ServerDrift)> =
        report.findings.iter().filter(|f| !f.drifts.is_empty()).map(|f| (partition(&f.server), f)).collect();
    let mut left: Vec<ServerDrift> = by_partition(clients, items, |p, f| async move {
        let have = f.current.as_ref()?;
        let wanted = want.for_server(&f.server);
        let r = sync::fix(clients, &p, &f.server.source_server_id, &wanted, have, &f.drifts).await;
        r.err().map(|e| ServerDrift { error: Some(e), ..f.clone() })
    })
    .await
    .into_iter()
    .flatten()
    .collect();
    left.sort_by(|a, b| a.server.hostname.cmp(&b.server.hostname));
    Report { servers: report.servers, findings: left }
}

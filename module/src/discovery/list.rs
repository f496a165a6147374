//! One partition's source servers: DescribeSourceServers through the SDK's paginator.

use super::limits::Limits;
use super::model::{DiscoveredServer, PartitionError};
use crate::accounts::reason::finding;
use crate::aws::Clients;
use crate::config::Partition;

/// The largest page the simulator and the service accept; fewer round trips per partition.
const PAGE: i32 = 1000;

pub async fn source_servers(
    clients: &Clients,
    p: &Partition,
    limits: &Limits,
) -> Result<(Vec<DiscoveredServer>, usize), PartitionError> {
    let drs = clients.drs(p).await.map_err(|e| PartitionError::named(crate::accounts::reason::CONFIG, format!("{e:#}")))?;
    let mut pages = drs.describe_source_servers().max_results(PAGE).into_paginator().send();
    let (mut out, mut count) = (vec![], 0);
    while let Some(page) = limits.page(pages.next()).await {
        let page = page.map_err(|e| PartitionError::from(finding("drs:DescribeSourceServers", &e)))?;
        count += 1;
        out.extend(page.items().iter().map(|s| from_sdk(p, s)));
    }
    Ok((out, count))
}

fn from_sdk(p: &Partition, s: &aws_sdk_drs::types::SourceServer) -> DiscoveredServer {
    let hints = s.source_properties().and_then(|sp| sp.identification_hints());
    let cloud = s.source_cloud_properties();
    let repl = s.data_replication_info();
    DiscoveredServer {
        account: p.account.clone(),
        region: p.region.clone(),
        source_server_id: s.source_server_id().unwrap_or_default().to_owned(),
        arn: s.arn().unwrap_or_default().to_owned(),
        hostname: hints.and_then(|h| h.hostname()).unwrap_or_default().to_owned(),
        fqdn: hints.and_then(|h| h.fqdn()).map(str::to_owned),
        tags: s.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        replication_state: repl.and_then(|r| r.data_replication_state()).map(|s| s.as_str().to_owned()),
        lag_seconds: repl.and_then(|r| r.lag_duration()).and_then(parse_iso_duration),
        direction: s.replication_direction().map(|d| d.as_str().to_owned()),
        recovery_instance_id: s.recovery_instance_id().map(str::to_owned),
        origin_account: cloud.and_then(|c| c.origin_account_id()).map(str::to_owned),
        origin_region: cloud.and_then(|c| c.origin_region()).map(str::to_owned),
        instance_id: hints.and_then(|h| h.aws_instance_id()).map(str::to_owned),
        instance: None,
        source_unread: None,
        staging: staging_origin(s.staging_area()),
    }
}

/// The staging server an extended source server stands for; none for a server replicating
/// in its own account.
fn staging_origin(area: Option<&aws_sdk_drs::types::StagingArea>) -> Option<super::model::StagingOrigin> {
    use aws_sdk_drs::types::ExtensionStatus;
    let area = area?;
    let error = match area.status()? {
        ExtensionStatus::Extended => None,
        ExtensionStatus::ExtensionError => Some(area.error_message().unwrap_or("EXTENSION_ERROR").to_owned()),
        _ => return None,
    };
    Some(super::model::StagingOrigin {
        account: area.staging_account_id().unwrap_or_default().to_owned(),
        source_server_arn: area.staging_source_server_arn().unwrap_or_default().to_owned(),
        error,
    })
}

/// Seconds in an ISO-8601 duration such as `PT1H2M3S` (DRS `lagDuration`).
pub fn parse_iso_duration(s: &str) -> Option<u64> {
    let rest = s.strip_prefix("PT").or_else(|| s.strip_prefix("P0DT"))?;
    let (mut total, mut num) = (0f64, String::new());
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' | 'M' | 'S' => {
                let n: f64 = num.parse().ok()?;
                total += n * match c {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
                num.clear();
            }
            _ => return None,
        }
    }
    Some(total as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_durations_parse() {
        assert_eq!(super::parse_iso_duration("PT1H2M3S"), Some(3723));
        assert_eq!(super::parse_iso_duration("PT0S"), Some(0));
        assert_eq!(super::parse_iso_duration("PT1.5S"), Some(1));
        assert_eq!(super::parse_iso_duration("garbage"), None);
    }
}

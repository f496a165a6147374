//! Generated fleets: N servers over A accounts x R regions in web, app and database tiers,
//! tagged for waves, with a target role per account that trusts the hub and requires an
//! ExternalId, and the module's run ledger table and reports bucket in the hub. The demo fleet
//! (`sim/fleets/demo.json`) is one of these.

use crate::fleet::*;
use serde_json::json;

pub const HUB_ACCOUNT: &str = "100000000000";
pub const HUB_ROLE: &str = "drs-orchestrator";
pub const TARGET_ROLE: &str = "drs-orchestrator-target";
pub const HUB_ACCESS_KEY: &str = "AKIASIMHUB0000000001";
pub const HUB_SECRET: &str = "sim/hub/secret/key/not/a/real/credential0";
/// The DynamoDB table the module keeps its run ledger in (partition key `pk`, sort key `sk`).
pub const LEDGER_TABLE: &str = "drs-orch-runs";
/// The S3 bucket the module writes its run reports to (versioned, as the hub template's).
pub const REPORTS_BUCKET: &str = "drs-orch-reports";
const REGIONS: &[&str] =
    &["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1", "ca-central-1", "sa-east-1"];

pub struct Spec {
    pub servers: usize,
    pub accounts: usize,
    pub regions: usize,
}

pub fn account_id(i: usize) -> String {
    format!("2{:011}", i + 1)
}

/// The ExternalId rule of the generated fleets: `<project>-<environment>-<accountId>`.
pub fn external_id(account: &str) -> String {
    format!("drsorch-demo-{account}")
}

pub fn fleet(spec: &Spec) -> anyhow::Result<Fleet> {
    anyhow::ensure!(spec.accounts >= 1, "at least one account");
    anyhow::ensure!((1..=REGIONS.len()).contains(&spec.regions), "between 1 and {} regions", REGIONS.len());
    let regions: Vec<String> = REGIONS[..spec.regions].iter().map(|r| r.to_string()).collect();
    let accounts: Vec<serde_json::Value> = (0..spec.accounts)
        .map(|a| json!({"accountId": account_id(a), "name": format!("app-account-{}", a + 1), "regions": regions}))
        .collect();
    let roles: Vec<serde_json::Value> = (0..spec.accounts)
        .map(|a| {
            json!({"accountId": account_id(a), "roleName": TARGET_ROLE,
                "trustedPrincipals": [format!("arn:aws:iam::{HUB_ACCOUNT}:role/{HUB_ROLE}")],
                "externalId": external_id(&account_id(a))})
        })
        .collect();
    let mut counters = [0usize; 3];
    let servers: Vec<serde_json::Value> = (0..spec.servers)
        .map(|i| {
            let (tier, wave, app, seconds) = match i % 5 {
                0 => (0, "1", "billing", 900),
                1 | 2 => (1, "2", "shop", 600),
                _ => (2, "3", "shop", 420),
            };
            let names = ["db", "app", "web"];
            let instance_type = ["r5.xlarge", "m5.large", "t3.medium"][tier];
            counters[tier] += 1;
            let host = if spec.servers > 999 {
                format!("{}-{:05}", names[tier], counters[tier])
            } else {
                format!("{}-{:02}", names[tier], counters[tier])
            };
            let account = account_id(i % spec.accounts);
            let r = (i / spec.accounts) % spec.regions;
            // Cross-region DR: each server replicates from the paired region into this one.
            let origin = &regions[(r + 1) % spec.regions];
            json!({
                "hostname": host,
                "fqdn": format!("{host}.corp.example.com"),
                "accountId": account,
                "region": regions[r],
                "tags": {"Tier": names[tier], "Wave": wave, "Application": app},
                "ec2": {
                    "region": origin,
                    "availabilityZone": format!("{origin}{}", (b'a' + (i % 3) as u8) as char),
                    "instanceType": instance_type,
                    "privateIp": format!("10.{}.{}.{}", 10 + r, (i / 250) % 250, 10 + i % 240),
                    "tags": {"Name": host, "Environment": "prod", "dr:tier": names[tier], "Owner": format!("team-{app}")}
                },
                "replication": {"state": "CONTINUOUS", "lagSeconds": i % 30},
                "launch": {"seconds": seconds + (i % 7) * 20}
            })
        })
        .collect();
    let value = json!({
        "hub": {"accountId": HUB_ACCOUNT, "roleName": HUB_ROLE, "region": regions[0],
                "accessKeyId": HUB_ACCESS_KEY, "secretAccessKey": HUB_SECRET},
        "accounts": accounts,
        "roles": roles,
        "servers": servers,
        "tables": [{"name": LEDGER_TABLE, "partitionKey": {"name": "pk", "type": "S"}, "sortKey": {"name": "sk", "type": "S"}}],
        "buckets": [{"name": REPORTS_BUCKET, "versioned": true}],
    });
    Fleet::from_value(value)
}

/// An estate past one account's 300 replicating servers: one target account, whose source
/// instances run in its second region, replicating into `staging_accounts` staging accounts in
/// its first region (each trusting the target), every server extended into the target but the
/// last `not_extended`.
pub struct StagingSpec {
    pub servers: usize,
    pub staging_accounts: usize,
    pub not_extended: usize,
}

/// The target account of a staging fleet.
pub const STAGING_TARGET: &str = "200000000001";

pub fn staging_account_id(i: usize) -> String {
    format!("3{:011}", i + 1)
}

pub fn staging_fleet(spec: &StagingSpec) -> anyhow::Result<Fleet> {
    anyhow::ensure!(spec.staging_accounts >= 1, "at least one staging account");
    anyhow::ensure!(spec.not_extended <= spec.servers, "no more servers left unextended than there are");
    let (recovery, source) = (REGIONS[0], REGIONS[1]);
    let mut accounts = vec![json!({"accountId": STAGING_TARGET, "name": "target", "regions": [recovery, source]})];
    accounts.extend((0..spec.staging_accounts).map(|a| {
        json!({"accountId": staging_account_id(a), "name": format!("staging-{}", a + 1), "regions": [recovery],
               "stagingFor": [STAGING_TARGET]})
    }));
    let servers: Vec<serde_json::Value> = (0..spec.servers)
        .map(|i| {
            let (tier, wave) = [("db", "1"), ("app", "2"), ("app", "2"), ("web", "3"), ("web", "3")][i % 5];
            let host = format!("{tier}-{i:05}");
            let extended = i < spec.servers - spec.not_extended;
            json!({
                "hostname": host,
                "fqdn": format!("{host}.corp.example.com"),
                "accountId": staging_account_id(i % spec.staging_accounts),
                "region": recovery,
                "tags": {"Tier": tier, "Wave": wave, "Application": "estate"},
                "ec2": {"accountId": STAGING_TARGET, "region": source, "availabilityZone": format!("{source}a"),
                        "tags": {"Name": host, "Environment": "prod", "Owner": "team-estate"}},
                "replication": {"state": "CONTINUOUS", "lagSeconds": i % 30},
                "launch": {"seconds": 300 + (i % 7) * 20},
                "extendedInto": if extended { vec![STAGING_TARGET] } else { vec![] }
            })
        })
        .collect();
    let value = json!({
        "hub": {"accountId": HUB_ACCOUNT, "roleName": HUB_ROLE, "region": recovery,
                "accessKeyId": HUB_ACCESS_KEY, "secretAccessKey": HUB_SECRET},
        "accounts": accounts,
        "roles": [{"accountId": STAGING_TARGET, "roleName": TARGET_ROLE,
                   "trustedPrincipals": [format!("arn:aws:iam::{HUB_ACCOUNT}:role/{HUB_ROLE}")],
                   "externalId": external_id(STAGING_TARGET)}],
        "servers": servers,
        "tables": [{"name": LEDGER_TABLE, "partitionKey": {"name": "pk", "type": "S"}, "sortKey": {"name": "sk", "type": "S"}}],
        "buckets": [{"name": REPORTS_BUCKET, "versioned": true}],
    });
    Fleet::from_value(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staging_fleet_extends_its_servers_into_the_target() {
        let f = staging_fleet(&StagingSpec { servers: 10, staging_accounts: 2, not_extended: 2 }).unwrap();
        let w = crate::world::World::new(f);
        let part = w.partition(STAGING_TARGET, "us-east-1");
        let target = part.lock();
        assert_eq!(target.drs.servers.len(), 8);
        let origins: std::collections::BTreeSet<&str> =
            target.drs.servers.values().filter_map(|s| s.staging.as_ref()).map(|o| o.account.as_str()).collect();
        assert_eq!(origins.into_iter().collect::<Vec<_>>(), [staging_account_id(0), staging_account_id(1)]);
        assert!(crate::iam::staging::trusts(&w, &staging_account_id(1), STAGING_TARGET, "us-east-1"));
        assert!(!crate::iam::staging::trusts(&w, &staging_account_id(1), "200000000009", "us-east-1"));
        let mut bad =
            serde_json::to_value(staging_fleet(&StagingSpec { servers: 2, staging_accounts: 1, not_extended: 0 }).unwrap())
                .unwrap();
        bad["accounts"][1]["stagingFor"] = json!([]);
        let err = format!("{:#}", Fleet::from_value(bad).unwrap_err());
        assert!(err.contains("servers[0] (db-00000).extendedInto") && err.contains("stagingFor"), "{err}");
    }

    #[test]
    fn generated_fleet_spreads_servers_over_partitions() {
        let f = fleet(&Spec { servers: 600, accounts: 4, regions: 3 }).unwrap();
        assert_eq!(f.servers.len(), 600);
        let mut seen = std::collections::HashSet::new();
        for s in &f.servers {
            seen.insert((s.account_id.clone(), s.region.clone()));
        }
        assert_eq!(seen.len(), 12);
        let hosts: std::collections::HashSet<_> = f.servers.iter().map(|s| &s.hostname).collect();
        assert_eq!(hosts.len(), 600, "hostnames are unique");
        let tables: Vec<_> = f.tables.iter().map(|t| (t.name.as_str(), t.account_in(&f.hub), t.regions_in(&f.hub))).collect();
        assert_eq!(tables, [(LEDGER_TABLE, HUB_ACCOUNT.to_owned(), vec!["us-east-1".to_owned()])]);
    }
}

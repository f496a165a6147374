//! Account validation (`drs-orch accounts check`): for every account x region, assume the
//! role, ask STS who we are, and probe each DRS and EC2 call the module makes with the least
//! harmful request, and the staging accounts it recovers through (`staging.rs`). Every
//! failure is named exactly; a partition is healthy when every probe passes. Nothing is
//! launched, terminated, tagged or created.

mod probes;
pub mod reason;
mod report;
pub mod staging;
mod trust;

pub use report::{AccountsReport, Finding, Outcome, PartitionCheck, Probe, Status};

use crate::aws::Clients;
use crate::config::Partition;
use futures::stream::{self, StreamExt};
use reason::finding;
use std::collections::{BTreeSet, HashMap};
use trust::Trust;

/// Checks the given partitions concurrently; never fails, every problem is in the report.
pub async fn check(clients: &Clients, partitions: &[Partition]) -> AccountsReport {
    // Trust is per account: judged once, shared by the account's regions.
    let accounts: BTreeSet<&str> = partitions.iter().map(|p| p.account.as_str()).collect();
    let trusts: HashMap<&str, Trust> =
        crate::aws::fanout::each(clients, accounts, |a| async move { (a, trust::check(clients, a).await) })
            .await
            .into_iter()
            .collect();
    let limit = clients.config().concurrency.overall.max(1);
    let mut rows: Vec<PartitionCheck> =
        stream::iter(partitions).map(|p| one(clients, p, &trusts[p.account.as_str()])).buffer_unordered(limit).collect().await;
    rows.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    AccountsReport { partitions: rows }
}

async fn one(clients: &Clients, p: &Partition, trust: &Trust) -> PartitionCheck {
    let mut row = PartitionCheck::new(p);
    row.warnings.extend(trust.warning.clone());
    if let Some(f) = &trust.failed {
        row.fail(f.clone());
        return row;
    }
    let (sts, drs, ec2) = match (clients.sts(p).await, clients.drs(p).await, clients.ec2(p).await) {
        (Ok(s), Ok(d), Ok(e)) => (s, d, e),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            row.fail(Finding::named(reason::CONFIG, format!("{e:#}")));
            return row;
        }
    };
    // GetCallerIdentity needs no permission: when it fails, the credentials or the region do,
    // and every probe would fail the same way.
    match sts.get_caller_identity().send().await {
        Ok(id) => {
            row.caller_arn = id.arn().map(str::to_owned);
            if id.account() != Some(p.account.as_str()) {
                row.fail(Finding::named(
                    reason::ACCOUNT_MISMATCH,
                    format!("the assumed role acts in account {}, not {}", id.account().unwrap_or("?"), p.account),
                ));
            }
        }
        Err(e) => {
            row.fail(finding("sts:GetCallerIdentity", &e));
            return row;
        }
    }
    probes::run(&drs, &ec2, &mut row).await;
    staging::run(&drs, clients.config().staging_accounts_of(&p.account), &mut row).await;
    row
}

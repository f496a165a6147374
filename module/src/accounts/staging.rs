//! The staging relationship of one target account x region (`accounts[].stagingAccounts`):
//! which staging accounts its extended source servers replicate in (ListStagingAccounts; one
//! the configuration does not name is a warning), and for each configured staging account,
//! whether the target may read its servers (ListExtensibleSourceServers, one item): DRS
//! refuses it unless the staging account's `DRSStagingAccountRole` trusts the target.

use super::reason::finding;
use super::report::{Finding, Outcome, PartitionCheck, Probe};
use crate::aws::errors::Kind;
use std::collections::BTreeSet;

/// A configured staging account the target cannot read: its staging role does not trust the
/// target, or the target role lacks the permission (AWS answers both alike).
pub fn not_trusted(staging: &str) -> String {
    format!("staging-not-trusted: {staging}")
}
/// A warning: extensions here replicate in staging accounts the configuration does not name.
pub const NOT_CONFIGURED: &str = "staging-not-configured";

const LIST_ACCOUNTS: &str = "drs:ListStagingAccounts";
const LIST_EXTENSIBLE: &str = "drs:ListExtensibleSourceServers";

/// Runs the staging probes of one partition; `configured` are its staging accounts.
pub async fn run(drs: &aws_sdk_drs::Client, configured: &[String], row: &mut PartitionCheck) {
    let listed: Result<Vec<_>, _> = drs.list_staging_accounts().max_results(50).into_paginator().items().send().collect().await;
    const ASK: &str = "ListStagingAccounts (the staging accounts of the extended servers here)";
    match listed {
        Ok(accounts) => {
            let in_use: BTreeSet<&str> = accounts.iter().filter_map(|a| a.account_id()).collect();
            let unnamed: Vec<&str> = in_use.iter().copied().filter(|a| !configured.iter().any(|c| c == a)).collect();
            push(row, LIST_ACCOUNTS, ASK, Outcome::Allowed, format!("ok: {} in use", in_use.len()));
            if !unnamed.is_empty() {
                row.warn(Finding::named(
                    NOT_CONFIGURED,
                    format!(
                        "extended source servers in {}/{} replicate in staging account(s) {} that accounts[].stagingAccounts \
                         does not name: they are recovered, but their servers not yet extended are not named",
                        row.account,
                        row.region,
                        unnamed.join(", ")
                    ),
                ));
            }
        }
        Err(e) => {
            let f = finding(LIST_ACCOUNTS, &e);
            push(row, LIST_ACCOUNTS, ASK, Outcome::Failed, f.message.clone());
            row.fail(f);
        }
    }
    const PEEK: &str = "ListExtensibleSourceServers of a configured staging account maxResults=1";
    for staging in configured {
        match drs.list_extensible_source_servers().staging_account_id(staging).max_results(1).send().await {
            Ok(_) => push(row, LIST_EXTENSIBLE, PEEK, Outcome::Allowed, format!("ok: {staging} trusts {}", row.account)),
            Err(e) => {
                let f = finding(LIST_EXTENSIBLE, &e);
                push(row, LIST_EXTENSIBLE, PEEK, Outcome::Failed, format!("{staging}: {}", f.message));
                let f = match f.kind {
                    Some(Kind::PermissionMissing) => Finding {
                        reason: not_trusted(staging),
                        message: format!(
                            "{}/{} cannot read the servers of staging account {staging}: its {} must trust account {} \
                             (DRS console, Settings, Trusted accounts, Staging role), and the target role must allow \
                             {LIST_EXTENSIBLE}. {}",
                            row.account, row.region, "DRSStagingAccountRole", row.account, f.message
                        ),
                        kind: f.kind,
                    },
                    _ => f,
                };
                row.fail(f);
            }
        }
    }
}

fn push(row: &mut PartitionCheck, action: &'static str, request: &'static str, outcome: Outcome, detail: String) {
    row.probes.push(Probe { action, request, outcome, detail });
}

//! The fleet's references, checked once it is parsed: what the schema cannot say (servers,
//! roles, tables and buckets in accounts of the fleet; staging trust; subnet blocks).

use super::{network, Fleet};
use anyhow::bail;

impl Fleet {
    pub(super) fn check_references(&self) -> anyhow::Result<()> {
        let known = |acct: &str| acct == self.hub.account_id || self.accounts.iter().any(|a| a.account_id == acct);
        for (i, s) in self.servers.iter().enumerate() {
            if !known(&s.account_id) {
                bail!("servers[{i}] ({}): accountId {} is not in accounts", s.hostname, s.account_id);
            }
            let acct = self.accounts.iter().find(|a| a.account_id == s.account_id);
            if let Some(a) = acct {
                if !a.regions.contains(&s.region) {
                    bail!(
                        "servers[{i}] ({}): region {} is not an initialized DRS region of account {}",
                        s.hostname,
                        s.region,
                        s.account_id
                    );
                }
            }
        }
        self.accounts.iter().try_for_each(network::check_subnets)?;
        for (i, r) in self.roles.iter().enumerate() {
            if !known(&r.account_id) {
                bail!("roles[{i}] ({}): accountId {} is not in accounts", r.role_name, r.account_id);
            }
        }
        self.check_staging(known)?;
        self.check_tables(known)
    }

    /// A staging account trusts configured accounts other than itself, and a server is
    /// extended only into a target account initialized in its region that its account trusts.
    fn check_staging(&self, known: impl Fn(&str) -> bool) -> anyhow::Result<()> {
        for (i, a) in self.accounts.iter().enumerate() {
            if let Some(t) = a.staging_for.iter().find(|t| !known(t) || **t == a.account_id) {
                bail!("accounts[{i}].stagingFor: {t} is not another account of the fleet");
            }
        }
        for (i, s) in self.servers.iter().enumerate() {
            let trusted = self.accounts.iter().find(|a| a.account_id == s.account_id).map(|a| &a.staging_for);
            for t in &s.extended_into {
                if !trusted.is_some_and(|ts| ts.contains(t)) {
                    bail!("servers[{i}] ({}).extendedInto: account {} does not list {t} in stagingFor", s.hostname, s.account_id);
                }
                if !self.accounts.iter().any(|a| a.account_id == *t && a.regions.contains(&s.region)) {
                    bail!("servers[{i}] ({}).extendedInto: {t} has no initialized DRS region {}", s.hostname, s.region);
                }
            }
        }
        Ok(())
    }

    fn check_tables(&self, known: impl Fn(&str) -> bool) -> anyhow::Result<()> {
        let mut seen = std::collections::HashSet::new();
        for (i, t) in self.tables.iter().enumerate() {
            let account = t.account_in(&self.hub);
            if !known(&account) {
                bail!("tables[{i}] ({}): account {account} is not in accounts", t.name);
            }
            if t.sort_key.as_ref().is_some_and(|s| s.name == t.partition_key.name) {
                bail!("tables[{i}] ({}): sortKey and partitionKey are both named {}", t.name, t.partition_key.name);
            }
            for region in t.regions_in(&self.hub) {
                if !seen.insert((account.clone(), region.clone(), t.name.clone())) {
                    bail!("tables[{i}] ({}): a table of that name is already in account {account} region {region}", t.name);
                }
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, b) in self.buckets.iter().enumerate() {
            let account = b.account_in(&self.hub);
            if !known(&account) {
                bail!("buckets[{i}] ({}): account {account} is not in accounts", b.name);
            }
            if !names.insert(&b.name) {
                bail!("buckets[{i}] ({}): bucket names are global and this one is taken", b.name);
            }
        }
        Ok(())
    }
}

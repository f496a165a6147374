//! `accounts[].stagingAccounts`: the staging accounts whose source servers a target account
//! recovers. DRS holds 300 replicating servers per account and region; a larger estate
//! replicates into staging accounts, and the target account recovers each server through an
//! extended source server (CreateExtendedSourceServer) that stands for it. The module finds
//! extensions and the servers not yet extended; it creates none (README: staging accounts).

use super::{ModuleConfig, Partition, TargetAccount};
use anyhow::bail;

/// A target account names other accounts, each once (the schema checks the digits).
pub fn check(index: usize, a: &TargetAccount) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for s in &a.staging_accounts {
        if *s == a.account_id {
            bail!("accounts[{index}].stagingAccounts: {s} is the account itself; a staging account is another account");
        }
        if !seen.insert(s) {
            bail!("accounts[{index}].stagingAccounts: {s} is listed twice");
        }
    }
    Ok(())
}

impl ModuleConfig {
    /// The staging accounts a target account recovers through (none when it names none).
    pub fn staging_accounts_of(&self, account: &str) -> &[String] {
        self.account(account).map(|a| a.staging_accounts.as_slice()).unwrap_or_default()
    }

    /// Whether an account x region is one the module works in itself: a staging account that
    /// is also configured there recovers its servers not yet extended in its own right.
    pub fn is_configured(&self, p: &Partition) -> bool {
        self.account(&p.account).is_some_and(|a| a.regions.as_ref().unwrap_or(&self.regions).contains(&p.region))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::ModuleConfig;
    use serde_json::json;

    fn with_staging(staging: serde_json::Value) -> anyhow::Result<ModuleConfig> {
        ModuleConfig::from_value(json!({
            "project": "drsorch", "environment": "demo", "hub": {"region": "us-east-1"},
            "roleName": "drs-orchestrator-target", "externalId": {"rule": "{project}-{environment}-{accountId}"},
            "regions": ["us-east-1"],
            "accounts": [{"accountId": "200000000001", "stagingAccounts": staging}]
        }))
    }

    #[test]
    fn staging_accounts_are_other_accounts_named_once() {
        let c = with_staging(json!(["300000000001", "300000000002"])).unwrap();
        assert_eq!(c.staging_accounts_of("200000000001"), ["300000000001", "300000000002"]);
        assert!(c.staging_accounts_of("300000000001").is_empty());
        let e = format!("{:#}", with_staging(json!(["200000000001"])).unwrap_err());
        assert!(e.contains("accounts[0].stagingAccounts") && e.contains("the account itself"), "{e}");
        let e = format!("{:#}", with_staging(json!(["3000"])).unwrap_err());
        assert!(e.contains("/accounts/0/stagingAccounts/0"), "{e}");
        let e = format!("{:#}", with_staging(json!(["300000000001", "300000000001"])).unwrap_err());
        assert!(e.contains("/accounts/0/stagingAccounts"), "{e}");
    }
}

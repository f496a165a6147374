//! The parameters and secrets of every account and region, as the control endpoint seeded
//! them.

use chrono::{DateTime, Utc};
use parking_lot::RwLock;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ParameterType {
    String,
    StringList,
    SecureString,
}

impl ParameterType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterType::String => "String",
            ParameterType::StringList => "StringList",
            ParameterType::SecureString => "SecureString",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub kind: ParameterType,
    pub value: String,
    pub version: i64,
    pub modified: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StoredSecret {
    pub name: String,
    pub arn: String,
    pub value: String,
    pub version_id: String,
    pub created: DateTime<Utc>,
}

/// (account, region, name) keys: a parameter or secret exists in one account and region.
type Key = (String, String, String);

#[derive(Default)]
pub struct SecretStore {
    parameters: RwLock<BTreeMap<Key, Parameter>>,
    secrets: RwLock<BTreeMap<Key, StoredSecret>>,
}

impl SecretStore {
    /// Puts a parameter (a new version when it exists) and returns it.
    pub fn put_parameter(
        &self,
        account: &str,
        region: &str,
        name: &str,
        kind: ParameterType,
        value: &str,
        now: DateTime<Utc>,
    ) -> Parameter {
        let mut map = self.parameters.write();
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        let version = map.get(&key).map_or(1, |p| p.version + 1);
        let p = Parameter { name: name.to_owned(), kind, value: value.to_owned(), version, modified: now };
        map.insert(key, p.clone());
        p
    }

    pub fn parameter(&self, account: &str, region: &str, name: &str) -> Option<Parameter> {
        self.parameters.read().get(&(account.to_owned(), region.to_owned(), name.to_owned())).cloned()
    }

    /// Creates or replaces a secret; its ARN ends in six random characters, as AWS's do.
    pub fn put_secret(&self, account: &str, region: &str, name: &str, value: &str, now: DateTime<Utc>) -> StoredSecret {
        let mut map = self.secrets.write();
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        let arn = map
            .get(&key)
            .map(|s| s.arn.clone())
            .unwrap_or_else(|| format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-{}", crate::ids::alnum(6)));
        let s = StoredSecret {
            name: name.to_owned(),
            arn,
            value: value.to_owned(),
            version_id: crate::ids::request_id(),
            created: now,
        };
        map.insert(key, s.clone());
        s
    }

    /// A secret by name or by ARN (the full one, or without its random suffix).
    pub fn secret(&self, account: &str, region: &str, id: &str) -> Option<StoredSecret> {
        let map = self.secrets.read();
        map.iter()
            .filter(|((a, r, _), _)| a == account && r == region)
            .map(|(_, s)| s)
            .find(|s| s.name == id || s.arn == id || s.arn.rsplit_once('-').is_some_and(|(prefix, _)| prefix == id))
            .cloned()
    }
}

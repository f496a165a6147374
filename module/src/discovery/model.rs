//! What discovery finds: source servers with their source instance, and a report per
//! account x region.

use crate::config::Partition;
use serde::Serialize;
use std::collections::BTreeMap;

pub type Tags = BTreeMap<String, String>;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredServer {
    /// The DRS account and region that protect the server.
    pub account: String,
    pub region: String,
    pub source_server_id: String,
    pub arn: String,
    pub hostname: String,
    pub fqdn: Option<String>,
    /// DRS source-server tags.
    pub tags: Tags,
    pub replication_state: Option<String>,
    pub lag_seconds: Option<u64>,
    pub direction: Option<String>,
    pub recovery_instance_id: Option<String>,
    pub origin_account: Option<String>,
    pub origin_region: Option<String>,
    pub instance_id: Option<String>,
    /// The source EC2 instance, when it was found in its origin account and region.
    pub instance: Option<SourceInstance>,
    /// Why the source instance could not be read (its origin account x region failed):
    /// its EC2 tags are unknown, not absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_unread: Option<String>,
    /// Set on an extended source server: the staging account's server it stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staging: Option<StagingOrigin>,
}

/// Where an extended source server replicates: a staging account's source server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StagingOrigin {
    pub account: String,
    pub source_server_arn: String,
    /// DRS's message when its status is EXTENSION_ERROR (it cannot read the staging server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A staging account's server that a target account could extend but has not: it cannot be
/// recovered there until it is (ListExtensibleSourceServers).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingExtension {
    /// The target account and region it would be extended into.
    pub account: String,
    pub region: String,
    pub staging_account: String,
    pub source_server_arn: String,
    pub hostname: String,
    pub tags: Tags,
}

/// A staging server that is also discovered in its own (configured) account, left out
/// because its extension in a target account recovers it: one server is launched once.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedElsewhere {
    pub account: String,
    pub region: String,
    pub hostname: String,
    pub source_server_id: String,
    /// The extended source server that recovers it.
    pub extension_arn: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInstance {
    pub state: String,
    pub instance_type: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionError {
    /// The reason, named as `accounts::reason` names it (throttled, drs-not-initialized, ...).
    pub reason: String,
    pub message: String,
    /// The failed call's kind (none for a configuration or internal failure): what decisions
    /// read (a throttled partition is read again; one without DRS holds nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::aws::errors::Kind>,
}

impl PartitionError {
    /// A failure that is not a call's: the configuration, or discovery itself.
    pub fn named(reason: &str, message: String) -> PartitionError {
        PartitionError { reason: reason.to_owned(), message, kind: None }
    }

    /// A failure that may pass by itself: throttled, or no answer.
    pub fn may_pass(&self) -> bool {
        matches!(self.kind, Some(crate::aws::errors::Kind::Throttled | crate::aws::errors::Kind::Unreachable))
    }

    pub fn drs_not_initialized(&self) -> bool {
        self.kind == Some(crate::aws::errors::Kind::DrsNotInitialized)
    }
}

impl From<crate::accounts::Finding> for PartitionError {
    fn from(f: crate::accounts::Finding) -> Self {
        PartitionError { reason: f.reason, message: f.message, kind: f.kind }
    }
}

impl std::fmt::Display for PartitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionReport {
    #[serde(serialize_with = "partition_str")]
    pub partition: Partition,
    pub servers: usize,
    pub pages: usize,
    pub millis: u64,
    pub error: Option<PartitionError>,
    /// Source instances that could not be read (their origin is unreachable, say).
    pub enrichment_errors: Vec<String>,
}

impl Default for PartitionReport {
    fn default() -> Self {
        Self {
            partition: Partition { account: String::new(), region: String::new() },
            servers: 0,
            pages: 0,
            millis: 0,
            error: None,
            enrichment_errors: vec![],
        }
    }
}

fn partition_str<S: serde::Serializer>(p: &Partition, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    pub servers: Vec<DiscoveredServer>,
    pub partitions: Vec<PartitionReport>,
    /// Staging servers not yet extended into the target accounts that name their staging
    /// account (`staging.rs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_extension: Vec<PendingExtension>,
    /// Staging servers left out because an extension recovers them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extended_elsewhere: Vec<ExtendedElsewhere>,
    /// Staging accounts whose servers not yet extended could not be listed, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub staging_errors: Vec<StagingError>,
}

/// ListExtensibleSourceServers failed for a target account x region and a staging account
/// (the staging account does not trust the target, say).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StagingError {
    pub account: String,
    pub region: String,
    pub staging_account: String,
    pub failure: StagingFailure,
    /// As `accounts::reason` names it, with what AWS answered.
    pub reason: String,
}

/// What could not be read of a staging account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StagingFailure {
    /// ListExtensibleSourceServers in the target account failed.
    Listing,
    /// The staging account is configured in the region itself, and discovery could not read
    /// it there: its servers not yet extended are named neither there nor as pending.
    OwnPartitionUnread,
}

impl std::fmt::Display for StagingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} <- staging account {}: {}", self.account, self.region, self.staging_account, self.reason)
    }
}

impl Discovery {
    pub fn failed(&self) -> impl Iterator<Item = &PartitionReport> {
        self.partitions.iter().filter(|p| p.error.is_some())
    }
}

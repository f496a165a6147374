//! What tag sync plans: the rules it follows and, per source server, what it would set,
//! the conflicts it leaves and the keys it skips.

use crate::discovery::Tags;
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Copy only these keys (all when empty).
    pub keys: Vec<String>,
    /// Replace a DRS value that differs from the instance's.
    pub overwrite: bool,
}

/// What sync would do to one source server.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerChange {
    pub account: String,
    pub region: String,
    pub hostname: String,
    pub source_server_id: String,
    pub arn: String,
    /// Tags to add or update (one TagResource call).
    pub set: Tags,
    /// Keys whose DRS value differs from EC2's, left as they are (no `overwrite`).
    pub conflicts: Vec<String>,
    /// Keys left out, each with why (reserved, too long, or past the 50-tag limit).
    pub skipped: Vec<String>,
}

/// The plan over every discovered server: those with something to set, conflict or skip.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub changes: Vec<ServerChange>,
    /// Servers whose source instance was not read (no origin, or its partition failed).
    pub without_instance: Vec<String>,
    pub in_sync: usize,
}

impl Plan {
    pub fn tags_to_set(&self) -> usize {
        self.changes.iter().map(|c| c.set.len()).sum()
    }
}

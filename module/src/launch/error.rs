//! Why a server's launch settings could not be read or brought in line: an AWS call's typed
//! failure, or what the server lacks. `start.rs` waits on a conflict (the server is in
//! another active job) and fails the run on anything else, so the kind must be typed.

use crate::aws::errors::{AwsError, Kind};
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum LaunchError {
    /// An AWS call failed (the action, kind and code inside).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// DRS has no EC2 launch template for the server.
    #[error("no EC2 launch template: DRS has nothing to launch from")]
    NoTemplate,
    /// No template to make a new version of.
    #[error("no EC2 launch template to version")]
    NoTemplateToVersion,
    /// CreateLaunchTemplateVersion answered without a version number.
    #[error("CreateLaunchTemplateVersion returned no version number")]
    NoVersionNumber,
    /// No client for the server's partition (configuration, credentials).
    #[error("{0}")]
    Client(String),
}

impl LaunchError {
    /// The server is in another active job: it takes its settings when free.
    pub fn is_conflict(&self) -> bool {
        matches!(self, LaunchError::Aws(e) if e.kind == Kind::Conflict)
    }

    /// The call failed after the SDK's retries in a way that may pass (5xx, no answer,
    /// throttled): the server waits for a later check rather than failing the run.
    pub fn is_transient(&self) -> bool {
        matches!(self, LaunchError::Aws(e) if e.is_transient())
    }

    pub(super) fn client(e: anyhow::Error) -> LaunchError {
        LaunchError::Client(format!("{e:#}"))
    }
}

impl Serialize for LaunchError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

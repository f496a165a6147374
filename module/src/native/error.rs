//! Why a native plan could not be read or brought in line: an AWS call's typed failure, a
//! client that could not be made, or an answer that lacks what the model says it holds.

use crate::aws::errors::AwsError;
use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum NativeError {
    /// An AWS call failed (the action, kind and code inside).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// No client for the partition (configuration, credentials).
    #[error("{0}")]
    Client(String),
    /// An answer without a member the model requires.
    #[error("{0}")]
    Answer(&'static str),
}

impl NativeError {
    pub(super) fn client(e: anyhow::Error) -> NativeError {
        NativeError::Client(format!("{e:#}"))
    }
}

impl Serialize for NativeError {
    /// As its message (reports show what a reader needs).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

//! The module's error codes: the Lambda error type the platform sees, the SendTaskFailure
//! `error`, a failed status's `code`, the report's outcome and the EMF `error` field. One enum,
//! so that a code is spelled once and callers match on the variant.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The event does not match `schemas/module-event.schema.json`, or names another module.
    #[error("InvalidEvent")]
    InvalidEvent,
    /// The resource's parameters do not match `schemas/drs-resource.schema.json`.
    #[error("InvalidParameters")]
    InvalidParameters,
    /// Preflight (instantiate) found what would stop a recovery.
    #[error("PreflightBlocked")]
    PreflightBlocked,
    /// Activate could not plan or start the run (discovery, plan, quotas, hooks).
    #[error("ActivationFailed")]
    ActivationFailed,
    /// The lifecycle payload would not fit Step Functions' 256 KiB.
    #[error("PayloadTooLarge")]
    PayloadTooLarge,
    /// A status check could not read or move the run.
    #[error("StatusCheckFailed")]
    StatusCheckFailed,
    /// A wave's failed servers broke its FailurePolicy.
    #[error("WaveFailed")]
    WaveFailed,
    /// An approver rejected a paused wave.
    #[error("ApprovalRejected")]
    ApprovalRejected,
    /// The run passed its TimeoutMinutes.
    #[error("Timeout")]
    Timeout,
    /// A hook failed (trap, time, refused component) under a fail-closed tenant.
    #[error("HookFailed")]
    HookFailed,
    /// A hook answered abort.
    #[error("HookAborted")]
    HookAborted,
    /// Cleanup could not terminate what it found.
    #[error("CleanupFailed")]
    CleanupFailed,
    /// Replicate could not reverse replication.
    #[error("ReplicateFailed")]
    ReplicateFailed,
    /// Reverse replication stalled or disconnected.
    #[error("ReplicationStuck")]
    ReplicationStuck,
    /// The phase does not apply (replicate after a drill).
    #[error("PhaseNotApplicable")]
    PhaseNotApplicable,
    /// The parent's task is gone (TaskTimedOut, TaskDoesNotExist, InvalidToken): the run stops.
    #[error("ParentGone")]
    ParentGone,
    /// A task-token callback failed for another reason.
    #[error("CallbackFailed")]
    CallbackFailed,
    /// A local driver stopped a phase that never ended.
    #[error("DriverGaveUp")]
    DriverGaveUp,
    /// A bug: the module could not write its own answer.
    #[error("InternalError")]
    InternalError,
}

impl ErrorCode {
    /// The code as the platform and Step Functions see it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidEvent => "InvalidEvent",
            ErrorCode::InvalidParameters => "InvalidParameters",
            ErrorCode::PreflightBlocked => "PreflightBlocked",
            ErrorCode::ActivationFailed => "ActivationFailed",
            ErrorCode::PayloadTooLarge => "PayloadTooLarge",
            ErrorCode::StatusCheckFailed => "StatusCheckFailed",
            ErrorCode::WaveFailed => "WaveFailed",
            ErrorCode::ApprovalRejected => "ApprovalRejected",
            ErrorCode::Timeout => "Timeout",
            ErrorCode::HookFailed => "HookFailed",
            ErrorCode::HookAborted => "HookAborted",
            ErrorCode::CleanupFailed => "CleanupFailed",
            ErrorCode::ReplicateFailed => "ReplicateFailed",
            ErrorCode::ReplicationStuck => "ReplicationStuck",
            ErrorCode::PhaseNotApplicable => "PhaseNotApplicable",
            ErrorCode::ParentGone => "ParentGone",
            ErrorCode::CallbackFailed => "CallbackFailed",
            ErrorCode::DriverGaveUp => "DriverGaveUp",
            ErrorCode::InternalError => "InternalError",
        }
    }
}

/// Tests and callers compare a code with its name as the platform sees it.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn serialized_display_and_name_agree() {
        for c in [ErrorCode::WaveFailed, ErrorCode::InvalidParameters, ErrorCode::ParentGone, ErrorCode::InternalError] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(c.to_string(), c.as_str());
            assert_eq!(serde_json::from_value::<ErrorCode>(c.as_str().into()).unwrap(), c);
        }
    }
}

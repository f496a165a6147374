//! The module's error codes: the Lambda error type the platform sees, the SendTaskFailure
//! `error`, a failed status's `code`, the report's outcome and the EMF `error` field. One enum,
//! so that callers match on the variant. A code is a name, not an error: `LifecycleError` is
//! the error that carries one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The event does not match `schemas/module-event.schema.json`, or names another module.
    InvalidEvent,
    /// The resource's parameters do not match `schemas/drs-resource.schema.json`.
    InvalidParameters,
    /// Preflight (instantiate) found what would stop a recovery.
    PreflightBlocked,
    /// Activate could not plan or start the run (discovery, plan, quotas, hooks).
    ActivationFailed,
    /// The lifecycle payload would not fit Step Functions' 256 KiB.
    PayloadTooLarge,
    /// A status check could not read or move the run.
    StatusCheckFailed,
    /// A wave's failed servers broke its FailurePolicy.
    WaveFailed,
    /// An approver rejected a paused wave.
    ApprovalRejected,
    /// The run passed its TimeoutMinutes.
    Timeout,
    /// A hook failed (trap, time, refused component) under a fail-closed tenant.
    HookFailed,
    /// A hook answered abort.
    HookAborted,
    /// Cleanup could not terminate what it found.
    CleanupFailed,
    /// Replicate could not reverse replication.
    ReplicateFailed,
    /// Reverse replication stalled or disconnected.
    ReplicationStuck,
    /// The phase does not apply (replicate after a drill).
    PhaseNotApplicable,
    /// The parent's task is gone (TaskTimedOut, TaskDoesNotExist, InvalidToken): the run stops.
    ParentGone,
    /// A task-token callback failed for another reason.
    CallbackFailed,
    /// A local driver stopped a phase that never ended.
    DriverGaveUp,
    /// An ARC Region switch step's run has not ended yet: the function fails so that ARC
    /// calls it again after the block's retry interval.
    InProgress,
    /// A bug: the module could not write its own answer.
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
            ErrorCode::InProgress => "InProgress",
            ErrorCode::InternalError => "InternalError",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

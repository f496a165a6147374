//! Why a call failed, as one exact reason name; the AWS code and message stay in the detail.

use super::report::Finding;
use crate::aws::errors::{AwsError, Kind};
use aws_sdk_drs::config::http::HttpResponse;
use aws_sdk_drs::error::{ProvideErrorMetadata, SdkError};

/// AWS refuses AssumeRole alike for a missing role, an untrusted caller and a wrong ExternalId.
pub const TRUST_REFUSED: &str = "trust-refused-or-external-id-mismatch";
/// Refused with the configured ExternalId yet accepted without one: the value itself is refused.
pub const EXTERNAL_ID_MISMATCH: &str = "external-id-mismatch";
/// A warning: anyone the role trusts may assume it without knowing the ExternalId.
pub const EXTERNAL_ID_NOT_REQUIRED: &str = "external-id-not-required";
pub const DRS_NOT_INITIALIZED: &str = "drs-not-initialized";
pub const REGION_UNREACHABLE: &str = "region-unreachable";
pub const THROTTLED: &str = "throttled";
pub const ACCOUNT_MISMATCH: &str = "account-mismatch";
pub const CONFIG: &str = "config";

pub fn permission_missing(action: &str) -> String {
    format!("permission-missing: {action}")
}

/// A warning: a probe that had nothing harmless to run against (no server, no instance).
pub fn not_probed(action: &str) -> String {
    format!("not-probed: {action}")
}

/// The error code of a service answer, if the call got one.
pub fn code<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> Option<&str> {
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

/// The reason name of a classified failure of a call to `action`.
pub fn name(action: &str, kind: Kind) -> String {
    match kind {
        Kind::PermissionMissing => permission_missing(action),
        Kind::DrsNotInitialized => DRS_NOT_INITIALIZED.into(),
        Kind::Throttled => THROTTLED.into(),
        Kind::Unreachable => REGION_UNREACHABLE.into(),
        Kind::TrustRefused => TRUST_REFUSED.into(),
        Kind::Credentials => "credentials-error".into(),
        Kind::Conflict | Kind::QuotaExceeded | Kind::NotFound | Kind::Other => format!("failed: {action}"),
    }
}

impl From<&AwsError> for Finding {
    fn from(e: &AwsError) -> Finding {
        Finding { reason: name(&e.action, e.kind), message: e.to_string(), kind: Some(e.kind) }
    }
}

/// The reason a call to `action` failed.
pub fn finding<E>(action: &str, e: &SdkError<E, HttpResponse>) -> Finding
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Finding::from(&AwsError::from_sdk(action, e))
}

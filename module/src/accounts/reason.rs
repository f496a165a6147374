//! Why a call failed, as one exact reason name; the AWS code and message stay in the detail.

use super::report::Finding;
use crate::aws::errors::display_chain;
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

/// The reason a call to `action` failed.
pub fn finding<E>(action: &str, e: &SdkError<E, HttpResponse>) -> Finding
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let chain = display_chain(e);
    let reason = match e {
        SdkError::ServiceError(s) => match s.err().code().unwrap_or_default() {
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => permission_missing(action),
            "UninitializedAccountException" => DRS_NOT_INITIALIZED.into(),
            "ThrottlingException" | "Throttling" | "RequestLimitExceeded" | "TooManyRequestsException" => THROTTLED.into(),
            // An outage answers 5xx once the SDK's retries are spent.
            _ if s.raw().status().is_server_error() => REGION_UNREACHABLE.into(),
            _ => format!("failed: {action}"),
        },
        // AssumeRole runs while the SDK loads credentials; its refusal surfaces here.
        _ if chain.contains("loading credentials") && chain.contains("AccessDenied") => TRUST_REFUSED.into(),
        _ if chain.contains("loading credentials") && chain.contains("Throttl") => THROTTLED.into(),
        _ if chain.contains("loading credentials") => "credentials-error".into(),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => REGION_UNREACHABLE.into(),
        _ => format!("failed: {action}"),
    };
    let message = match e {
        SdkError::ServiceError(s) => {
            format!("{action}: {}: {}", s.err().code().unwrap_or("Unknown"), s.err().message().unwrap_or_default())
        }
        _ => format!("{action}: {chain}"),
    };
    Finding { reason, message }
}

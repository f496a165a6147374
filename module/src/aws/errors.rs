//! Turning SDK errors into a short class and a message that names the cause.

use crate::discovery::PartitionError;
use aws_sdk_drs::error::{ProvideErrorMetadata, SdkError};

/// Classifies an SDK error of any operation.
pub fn classify<E, R>(e: &SdkError<E, R>) -> PartitionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let (kind, message) = match e {
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("Unknown").to_owned();
            let msg = s.err().message().unwrap_or_default().to_owned();
            let kind = match code.as_str() {
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => "permission-missing",
                "UninitializedAccountException" => "drs-not-initialized",
                "ThrottlingException" | "Throttling" | "RequestLimitExceeded" => "throttled",
                "ExpiredToken" | "ExpiredTokenException" => "credentials-expired",
                c if c.starts_with("InternalServer") || c.contains("Unavailable") || c == "InternalFailure" => "service-error",
                _ => "error",
            };
            (kind, format!("{code}: {msg}"))
        }
        // AssumeRole runs while the credentials load: a refusal (trust, ExternalId, no such
        // role: AWS does not say which) surfaces as a dispatch failure naming it.
        _ if display_chain(e).contains("loading credentials") => {
            let chain = display_chain(e);
            (if chain.contains("AccessDenied") { "assume-role-refused" } else { "credentials-error" }, chain)
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => ("region-unreachable", display_chain(e)),
        _ => ("error", display_chain(e)),
    };
    PartitionError { kind: kind.into(), message }
}

/// An error of the credential chain (AssumeRole refused) shows up as a dispatch-free
/// construction failure whose source chain names the STS error.
pub fn display_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

//! AWS call failures, classified once by type: the SDK's error variant, the service's error
//! code from its metadata, and (for credentials) the typed errors in the source chain: an
//! AssumeRole refusal surfaces several levels deep while the SDK loads credentials. Callers
//! decide on `Kind`, never on the text of a message. `accounts::reason` names the kinds.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_drs::config::http::HttpResponse;
use aws_sdk_drs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use serde::Serialize;
use std::error::Error;

/// What a failed call met, as far as the caller's next step is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The caller's role lacks the action (AccessDenied, UnauthorizedOperation).
    PermissionMissing,
    /// DRS is not initialized in this account and region.
    DrsNotInitialized,
    /// Throttled after the SDK's retries.
    Throttled,
    /// The resource is busy (a server in another active job, say).
    Conflict,
    /// A DRS quota is taken.
    QuotaExceeded,
    /// The named resource does not exist.
    NotFound,
    /// No answer, a timeout, or 5xx after the SDK's retries.
    Unreachable,
    /// AssumeRole refused: a missing role, an untrusted caller and a wrong ExternalId look alike.
    TrustRefused,
    /// Credentials could not be loaded for another reason.
    Credentials,
    /// Any other refusal (validation, say): see the code.
    Other,
}

/// One failed AWS call: the action, what kind of failure, the service's code if it answered,
/// and the detail (code and message, or the error chain).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{action}: {detail}")]
pub struct AwsError {
    pub action: String,
    pub kind: Kind,
    pub code: Option<String>,
    pub detail: String,
}

impl Serialize for AwsError {
    /// As its message: reports and JSON output show what a reader needs, not the parts.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl AwsError {
    /// A failure that may pass by itself (the service erring, no answer, throttling): the
    /// caller retries on a later check instead of failing the run.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, Kind::Unreachable | Kind::Throttled)
    }

    pub fn from_sdk<E>(action: &str, e: &SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + Error + 'static,
    {
        let (kind, code, detail) = match e {
            SdkError::ServiceError(s) => {
                let code = s.err().code().map(str::to_owned);
                let kind = service_kind(code.as_deref().unwrap_or_default(), s.raw().status().is_server_error());
                let detail = format!("{}: {}", code.as_deref().unwrap_or("Unknown"), s.err().message().unwrap_or_default());
                (kind, code, detail)
            }
            other => {
                let kind = match credentials_failure(other) {
                    Some(k) => k,
                    None if matches!(other, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => Kind::Unreachable,
                    None => Kind::Other,
                };
                (kind, None, display_chain(other))
            }
        };
        AwsError { action: action.to_owned(), kind, code, detail }
    }
}

/// The kind a service's error code means.
fn service_kind(code: &str, server_error: bool) -> Kind {
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => Kind::PermissionMissing,
        "UninitializedAccountException" => Kind::DrsNotInitialized,
        "ThrottlingException" | "Throttling" | "RequestLimitExceeded" | "TooManyRequestsException" => Kind::Throttled,
        "ConflictException" => Kind::Conflict,
        "ServiceQuotaExceededException" => Kind::QuotaExceeded,
        "ResourceNotFoundException" => Kind::NotFound,
        // The assumed role's session ended (expired or revoked): assume it again.
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "InvalidClientTokenId" | "UnrecognizedClientException" => {
            Kind::Credentials
        }
        // An outage answers 5xx once the SDK's retries are spent.
        _ if server_error => Kind::Unreachable,
        _ => Kind::Other,
    }
}

/// A failure while the SDK loaded credentials: AssumeRole's own answer decides the kind.
fn credentials_failure(e: &(dyn Error + 'static)) -> Option<Kind> {
    chain(e).find_map(|x| x.downcast_ref::<CredentialsError>())?;
    let assume = chain(e).find_map(|x| x.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>());
    Some(match assume {
        Some(SdkError::ServiceError(s)) => {
            match service_kind(s.err().code().unwrap_or_default(), s.raw().status().is_server_error()) {
                Kind::PermissionMissing => Kind::TrustRefused,
                Kind::Throttled => Kind::Throttled,
                Kind::Unreachable => Kind::Unreachable,
                _ => Kind::Credentials,
            }
        }
        Some(SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => Kind::Unreachable,
        _ => Kind::Credentials,
    })
}

/// The error and its sources, outermost first.
pub fn chain<'a>(e: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(e), |&x: &&'a (dyn Error + 'static)| x.source())
}

/// The text of an error with every source in its chain.
pub fn display_chain(e: &(dyn Error + 'static)) -> String {
    chain(e).map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

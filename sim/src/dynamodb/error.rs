//! DynamoDB's errors, each rendered as the service writes it: status 400 and a `__type`
//! qualified by the namespace that raises it (`com.amazonaws.dynamodb.v20120810#...` for the
//! service's own, `com.amazon.coral.validate#ValidationException` for malformed requests).

use super::value::{Item, ValueError};
use crate::protocol::ApiError;
use serde::Serialize;

const SERVICE: &str = "com.amazonaws.dynamodb.v20120810";
const VALIDATE: &str = "com.amazon.coral.validate";
const CORAL: &str = "com.amazon.coral.service";

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DdbError {
    /// A request DynamoDB refuses as invalid: its message says why.
    #[error("{0}")]
    Validation(String),
    /// A body that is not JSON of the operation's shape.
    #[error("{0}")]
    Serialization(String),
    /// The table does not exist in the caller's account and region.
    #[error("{0}")]
    ResourceNotFound(String),
    /// CreateTable of a table that exists (or DeleteTable of one being created).
    #[error("{0}")]
    ResourceInUse(String),
    /// The condition of a write was false; `item` is the item as it was when the caller asked
    /// for it (ReturnValuesOnConditionCheckFailure ALL_OLD) and it existed.
    #[error("The conditional request failed")]
    ConditionalCheckFailed { item: Option<Item> },
    /// A TransactWriteItems that applied nothing; one reason per action, in request order.
    #[error("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes(.reasons))]
    TransactionCanceled { reasons: Vec<CancellationReason> },
    /// A ClientRequestToken used again within its window for a different request.
    #[error("Request with the same client token has different parameters")]
    IdempotentParameterMismatch,
    /// An X-Amz-Target naming an operation the simulator does not serve.
    #[error("{0}")]
    UnknownOperation(String),
}

/// Why one action of a transaction would not apply (`Code` `None` when it would).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancellationReason {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

impl CancellationReason {
    pub fn none() -> CancellationReason {
        CancellationReason { code: "None".into(), message: None, item: None }
    }

    /// The reason an action's own failure gives: a false condition or a refused write.
    pub fn from_error(error: DdbError) -> CancellationReason {
        match error {
            DdbError::ConditionalCheckFailed { item } => CancellationReason {
                code: "ConditionalCheckFailed".into(),
                message: Some("The conditional request failed".into()),
                item,
            },
            other => CancellationReason { code: "ValidationError".into(), message: Some(other.to_string()), item: None },
        }
    }
}

fn codes(reasons: &[CancellationReason]) -> String {
    reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", ")
}

impl DdbError {
    /// `Invalid <expression kind>: <detail>`.
    pub fn invalid(kind: &str, detail: impl std::fmt::Display) -> DdbError {
        DdbError::Validation(format!("Invalid {kind}: {detail}"))
    }

    pub fn table_not_found(name: &str) -> DdbError {
        DdbError::ResourceNotFound(format!("Requested resource not found: Table: {name} not found"))
    }

    /// `1 validation error detected: Value null at 'member' failed ...`, for a missing member.
    pub fn missing(member: &str) -> DdbError {
        DdbError::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    fn code(&self) -> (&'static str, &'static str) {
        match self {
            DdbError::Validation(_) => (VALIDATE, "ValidationException"),
            DdbError::Serialization(_) => (CORAL, "SerializationException"),
            DdbError::UnknownOperation(_) => (CORAL, "UnknownOperationException"),
            DdbError::ResourceNotFound(_) => (SERVICE, "ResourceNotFoundException"),
            DdbError::ResourceInUse(_) => (SERVICE, "ResourceInUseException"),
            DdbError::ConditionalCheckFailed { .. } => (SERVICE, "ConditionalCheckFailedException"),
            DdbError::TransactionCanceled { .. } => (SERVICE, "TransactionCanceledException"),
            DdbError::IdempotentParameterMismatch => (SERVICE, "IdempotentParameterMismatchException"),
        }
    }
}

impl From<ValueError> for DdbError {
    fn from(e: ValueError) -> DdbError {
        match e {
            ValueError::Invalid(m) => DdbError::Validation(m),
            ValueError::NotBase64(m) => DdbError::Serialization(m),
        }
    }
}

impl From<DdbError> for ApiError {
    fn from(e: DdbError) -> ApiError {
        let (namespace, code) = e.code();
        let mut error = ApiError::new(400, code, e.to_string());
        error.type_namespace = Some(namespace);
        match e {
            DdbError::ConditionalCheckFailed { item: Some(item) } => {
                error.with("Item", serde_json::to_value(item).unwrap_or_default())
            }
            // Its shape spells the message `Message`.
            DdbError::TransactionCanceled { ref reasons } => {
                let reasons = serde_json::to_value(reasons).unwrap_or_default();
                let message = error.message.clone();
                error.with("Message", message).with("CancellationReasons", reasons)
            }
            _ => error,
        }
    }
}

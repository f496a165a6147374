//! An AWS call that failed in one account x region: the partition, the action and the
//! classified error (`AwsError`), kept as a type so that callers decide on `error.kind`.

use super::errors::AwsError;
use crate::config::Partition;
use aws_sdk_drs::config::http::HttpResponse;
use aws_sdk_drs::error::{ProvideErrorMetadata, SdkError};

/// An AWS call that failed in one account x region, classified (`error.kind`), so callers
/// can tell a partition that cannot be reached from a refusal.
#[derive(Debug, thiserror::Error)]
#[error("{partition}: {}: {}: {error}", error.action, crate::accounts::reason::name(&error.action, error.kind))]
pub struct CallFailed {
    pub partition: Partition,
    pub error: AwsError,
}

/// An AWS call that failed, with the partition, the action and the reason named.
pub fn failed<E>(p: &Partition, action: &str, e: &SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    CallFailed { partition: p.clone(), error: AwsError::from_sdk(action, e) }.into()
}

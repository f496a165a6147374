//! Recovery in waves: `activate` plans a resource's group into the lifecycle payload and
//! starts the first wave; `status` (each `activate_status_check`) reads the execution's
//! tagged jobs back from DRS, judges waves by their failure policy and starts the next;
//! `gate` holds paused waves until an approval; `cleanup` terminates what drills launched;
//! `replicate` reverses replication after a real recovery.

pub mod activate;
pub mod boundary;
pub mod cleanup;
pub mod gate;
pub mod launches;
pub mod observe;
pub mod outage;
pub mod payload;
pub mod progress;
pub mod recovered;
pub mod reference;
pub mod replicate;
pub mod run;
pub mod start;
pub mod status;
pub mod tags;
pub mod wave;

use crate::aws::errors::AwsError;
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

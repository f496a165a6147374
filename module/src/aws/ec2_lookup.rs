//! EC2 Describe* calls filtered by a set of ids or values: EC2 takes at most 200 values per
//! filter, so the set is asked in chunks, each read to its last page. One failed page fails
//! the lookup, named by its action: a partial answer would pass a missing id as absent.

use super::errors::AwsError;
use aws_sdk_drs::config::http::HttpResponse;
use aws_sdk_drs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::Filter;
use std::collections::BTreeSet;
use std::error::Error;
use std::future::Future;

/// EC2 takes at most 200 values per filter.
pub const FILTER_VALUES: usize = 200;

/// Every item `describe` returns for `values` under the filter `name`, one call per chunk of
/// values; `describe` reads all of one call's pages (the SDK's paginator, `.items()`).
pub async fn by_filter<T, E, Fut>(
    action: &str,
    name: &str,
    values: &BTreeSet<String>,
    describe: impl Fn(Filter) -> Fut,
) -> Result<Vec<T>, AwsError>
where
    Fut: Future<Output = Result<Vec<T>, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + Error + 'static,
{
    let values: Vec<&String> = values.iter().collect();
    let mut out = vec![];
    for chunk in values.chunks(FILTER_VALUES) {
        let filter = Filter::builder().name(name).set_values(Some(chunk.iter().map(|v| (*v).clone()).collect())).build();
        out.extend(describe(filter).await.map_err(|e| AwsError::from_sdk(action, &e))?);
    }
    Ok(out)
}

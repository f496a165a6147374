//! DescribeSourceServers: filters and maxResults/nextToken pagination.

use super::input::{self, invalid};
use super::page::page;
use super::partition::with_partition;
use crate::ctx::Ctx;
use crate::protocol::{ApiError, Reply};
use serde_json::Value;

pub fn describe(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let filters = body.get("filters").cloned().unwrap_or(Value::Null);
    if !(filters.is_null() || filters.is_object()) {
        return Err(invalid("filters", "must be an object"));
    }
    let ids = input::str_list(&filters, "sourceServerIDs", 200, input::is_source_server_id)?;
    let hardware = input::opt_str(&filters, "hardwareId")?.map(str::to_owned);
    let staging = input::str_list(&filters, "stagingAccountIDs", 200, |s| s.len() == 12)?;
    with_partition(ctx, |p| {
        let matching: Vec<_> = p
            .drs
            .servers
            .values()
            .filter(|s| ids.is_empty() || ids.contains(&s.id))
            .filter(|s| hardware.as_deref().is_none_or(|h| s.origin_instance_id.as_deref() == Some(h)))
            .filter(|s| staging.is_empty() || s.staging.as_ref().is_some_and(|o| staging.contains(&o.account)))
            .collect();
        page(&matching, body, |s| s.view())
    })
}

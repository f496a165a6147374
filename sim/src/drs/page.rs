//! One page of a DRS list (`{"items": [...], "nextToken": ...}`), rendered straight to bytes.

use super::input;
use crate::protocol::{bytes_reply, ApiError, Reply};
use serde_json::Value;

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<S> {
    items: Vec<S>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The reply `{"items": [...], "nextToken": ...}` for one page of `all`, rendering only
/// that page, straight to bytes.
pub fn page<T, S: serde::Serialize>(all: &[T], body: &Value, render: impl Fn(&T) -> S) -> Result<Reply, ApiError> {
    let (start, size) = input::page_window(body, all.len())?;
    let end = (start + size).min(all.len());
    let page = Page {
        items: all[start..end].iter().map(render).collect(),
        next_token: (end < all.len()).then(|| input::token_for(end)),
    };
    let bytes = serde_json::to_vec(&page).map_err(|e| ApiError::new(500, "InternalServerException", e.to_string()))?;
    Ok(bytes_reply(200, bytes))
}

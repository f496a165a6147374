//! Amazon DynamoDB (awsJson1_0, `X-Amz-Target: DynamoDB_20120810.<Operation>`): tables per
//! account and region, global tables shared by several regions (`tables.rs`), items of typed
//! values (`value.rs`, `number.rs`) under a key schema (`key.rs`), expressions (`expr/`),
//! updates (`update.rs`), projections, DynamoDB's size limits (`size.rs`), its errors
//! (`error.rs`) and the IAM actions a call is authorized as (`iam.rs`). The operations are in
//! `ops/`; `control.rs` shows a table's items to tests.

pub mod control;
pub mod document;
pub mod error;
pub mod expr;
pub mod iam;
pub mod input;
pub mod key;
pub mod number;
pub mod ops;
pub mod projection;
pub mod size;
pub mod table;
pub mod tables;
pub mod update;
pub mod value;

use crate::ctx::Ctx;
use crate::protocol::{json_reply, ApiError, Reply};
use error::DdbError;
use http::HeaderValue;
use ops::{batch_get, items, query, table_ops, transact};
use serde::de::DeserializeOwned;

/// The `X-Amz-Target` prefix of DynamoDB's operations.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";

pub fn handle(ctx: &Ctx, op: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let answer = answer(ctx, op, body).map_err(ApiError::from)?;
    let mut reply = json_reply(200, &answer);
    reply.headers_mut().insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
    Ok(reply)
}

/// The body as the operation's input, read in one pass from its bytes (no intermediate JSON
/// value: a megabyte of nested maps is read once, not built, cloned and read again). A member
/// of the wrong shape is refused naming its path (`TransactItems[0].Put.Item.pk.S: invalid
/// type: ...`), the whole body as `request body`; text that is not JSON as such.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, DdbError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Not an object: say what it is (or that it is not JSON); such a body is read whole
        // only here, to name its kind.
        let value: serde_json::Value = serde_json::from_slice(body).map_err(not_json)?;
        return Err(DdbError::Serialization(format!("request body: a JSON object was expected, not {}", kind(&value))));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let input = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if e.inner().is_syntax() || e.inner().is_eof() {
            return not_json(e.into_inner());
        }
        let at = e.path().to_string();
        let at = if at == "." { "request body".to_owned() } else { at };
        DdbError::Serialization(format!("{at}: {}", e.inner()))
    })?;
    de.end().map_err(not_json)?;
    Ok(input)
}

fn not_json(e: serde_json::Error) -> DdbError {
    DdbError::Serialization(format!("the request body is not JSON: {e}"))
}

fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn answer(ctx: &Ctx, op: &str, body: &[u8]) -> Result<serde_json::Value, DdbError> {
    match op {
        "CreateTable" => table_ops::create_table(ctx, parse(body)?),
        "DescribeTable" => table_ops::describe_table(ctx, parse(body)?),
        "DeleteTable" => table_ops::delete_table(ctx, parse(body)?),
        "PutItem" => items::put_item(ctx, parse(body)?),
        "GetItem" => items::get_item(ctx, parse(body)?),
        "UpdateItem" => items::update_item(ctx, parse(body)?),
        "DeleteItem" => items::delete_item(ctx, parse(body)?),
        "Query" => query::query(ctx, parse(body)?),
        "TransactWriteItems" => transact::transact_write_items(ctx, parse(body)?, body),
        "BatchGetItem" => batch_get::batch_get_item(ctx, parse(body)?),
        other => Err(DdbError::UnknownOperation(format!("X-Amz-Target: operation {other} is not served by this endpoint"))),
    }
}

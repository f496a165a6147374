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
    // Not an object: said from its first character, unread (a megabyte of nested lists is
    // not built to be refused).
    let kind = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => None,
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        Some(b'-' | b'0'..=b'9') => Some("a number"),
        _ => {
            return Err(serde_json::from_slice::<serde::de::IgnoredAny>(body)
                .err()
                .map_or_else(|| DdbError::Serialization("request body: a JSON object was expected".into()), not_json))
        }
    };
    if let Some(kind) = kind {
        return Err(DdbError::Serialization(format!("request body: a JSON object was expected, not {kind}")));
    }
    if let Some(deep) = crate::protocol::depth::past(body, crate::protocol::depth::DYNAMODB) {
        // What DynamoDB says of values nested past its 32 levels (value.rs says it of those
        // within this depth, naming the attribute).
        return Err(DdbError::Validation(format!("Nesting Levels have exceeded supported limits{}", deep.within())));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let input = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        let at = if at == "." { "request body".to_owned() } else { at };
        if e.inner().is_syntax() || e.inner().is_eof() {
            // Is the body JSON at all (checked without building it)? serde reports a list
            // read as an object (a list longer than the object's members) as trailing
            // characters too: that one is the member's shape, named by its path.
            if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
                return not_json(e.into_inner());
            }
            return DdbError::Serialization(format!("{at}: not of the shape expected here ({})", e.inner()));
        }
        DdbError::Serialization(format!("{at}: {}", e.inner()))
    })?;
    de.end().map_err(not_json)?;
    Ok(input)
}

fn not_json(e: serde_json::Error) -> DdbError {
    DdbError::Serialization(format!("the request body is not JSON: {e}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)] // read to be refused
    struct Item {
        a: Option<String>,
        b: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    #[allow(dead_code)]
    struct Input {
        items: Option<Vec<Item>>,
    }

    fn refusal(body: &str) -> String {
        match parse::<Input>(body.as_bytes()) {
            Err(DdbError::Serialization(m)) => m,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn a_body_is_refused_as_not_json_only_when_it_is_not() {
        assert!(refusal(r#"{"Items": [{"a": "x"}"#).starts_with("the request body is not JSON"));
        assert!(refusal(r#"{"Items": []} x"#).starts_with("the request body is not JSON"));
        assert_eq!(refusal("[1]"), "request body: a JSON object was expected, not an array");
        // A list read as an object, longer than the object's members: serde calls it trailing
        // characters; it is the member's shape, named.
        let m = refusal(r#"{"Items": [["x", "y", "z"]]}"#);
        assert!(m.starts_with("Items[0]: not of the shape expected here"), "{m}");
        assert!(refusal(r#"{"Items": [{"a": 1}]}"#).starts_with("Items[0].a: invalid type"));
        assert!(parse::<Input>(br#" {"Items": [{"a": "x"}]} "#).is_ok());
    }
}

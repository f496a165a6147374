//! Reading and validating DRS request bodies; errors name the field, as the service does.

use crate::protocol::ApiError;
use serde_json::Value;

pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;

pub fn body(raw: &[u8]) -> Result<Value, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    if let Some(deep) = crate::protocol::depth::past(raw, crate::protocol::depth::DRS) {
        return Err(ApiError::validation(format!(
            "the request body nests {} levels deep or more{}; no DRS request nests more than {}",
            deep.depth,
            deep.within(),
            crate::protocol::depth::DRS
        ))
        .with("reason", "cannotParse"));
    }
    match serde_json::from_slice::<Value>(raw) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(ApiError::validation("the request body is not a JSON object").with("reason", "cannotParse")),
    }
}

pub fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::validation(format!("Invalid field {field}: {message}"))
        .with("fieldList", serde_json::json!([{"name": field, "message": message}]))
}

pub fn opt_str<'a>(v: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

pub fn req_str<'a>(v: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    opt_str(v, field)?.ok_or_else(|| invalid(field, "is required"))
}

pub fn opt_bool(v: &Value, field: &str) -> Result<Option<bool>, ApiError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(field, "must be a boolean")),
    }
}

/// A list of strings, each checked by `check`, with at most `max` members.
pub fn str_list(v: &Value, field: &str, max: usize, check: fn(&str) -> bool) -> Result<Vec<String>, ApiError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => {
            if a.len() > max {
                return Err(invalid(field, &format!("must have at most {max} members")));
            }
            a.iter()
                .map(|x| match x.as_str() {
                    Some(s) if check(s) => Ok(s.to_owned()),
                    _ => Err(invalid(field, &format!("member {x} is not valid"))),
                })
                .collect()
        }
        Some(_) => Err(invalid(field, "must be a list")),
    }
}

pub fn tags(v: &Value, field: &str) -> Result<crate::fleet::Tags, ApiError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(Default::default()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, x)| match x.as_str() {
                Some(s) if !k.is_empty() && k.len() <= 256 && s.len() <= 256 => Ok((k.clone(), s.to_owned())),
                _ => Err(invalid(field, &format!("tag {k} must be a string key and value of at most 256 characters"))),
            })
            .collect(),
        Some(_) => Err(invalid(field, "must be a map of strings")),
    }
}

pub fn is_source_server_id(s: &str) -> bool {
    s.len() == 19 && s.starts_with("s-") && s[2..].chars().all(|c| c.is_ascii_alphanumeric())
}

pub fn is_job_id(s: &str) -> bool {
    s.len() == 24 && s.starts_with("drsjob-") && s[7..].chars().all(|c| c.is_ascii_alphanumeric())
}

pub fn is_instance_id(s: &str) -> bool {
    (10..=19).contains(&s.len()) && s.starts_with("i-") && s[2..].chars().all(|c| c.is_ascii_hexdigit())
}

pub fn token_for(offset: usize) -> String {
    format!("p{offset:x}")
}

/// The page that `maxResults` and `nextToken` ask for: (start offset, size).
pub fn page_window(v: &Value, total: usize) -> Result<(usize, usize), ApiError> {
    page_window_upto(v, total, MAX_PAGE)
}

/// The same, for an operation whose model caps `maxResults` at `max` (its default page too).
pub fn page_window_upto(v: &Value, total: usize, max: usize) -> Result<(usize, usize), ApiError> {
    let size = match v.get("maxResults") {
        None | Some(Value::Null) => DEFAULT_PAGE.min(max),
        Some(x) => match x.as_u64() {
            Some(n) if n >= 1 && n as usize <= max => n as usize,
            _ => return Err(invalid("maxResults", &format!("must be between 1 and {max}"))),
        },
    };
    let start = match opt_str(v, "nextToken")? {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix('p')
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .filter(|o| *o <= total)
            .ok_or_else(|| invalid("nextToken", "is not a token this operation returned"))?,
    };
    Ok((start, size))
}

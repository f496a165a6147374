//! What every EC2 operation's answer shares in ec2Query: the reply envelope,
//! InvalidParameterValue, and MaxResults and NextToken paging.

use crate::ctx::Ctx;
use crate::protocol::form::Form;
use crate::protocol::{xml_reply, ApiError, Reply};

pub const NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

/// `<{op}Response xmlns=...><requestId>..</requestId>{inner}</{op}Response>`.
pub fn reply(ctx: &Ctx, op: &str, inner: &str) -> Reply {
    xml_reply(
        200,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"{NS}\"><requestId>{}</requestId>{inner}</{op}Response>",
            ctx.request_id
        ),
    )
}

pub fn invalid_param(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidParameterValue", message)
}

/// MaxResults within `[min, max]`, or None when absent.
pub fn max_results(form: &Form, min: usize, max: usize) -> Result<Option<usize>, ApiError> {
    match form.get("MaxResults") {
        None => Ok(None),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(invalid_param(format!(
                "Value ( {v} ) for parameter maxResults is invalid. Expecting a value between {min} and {max}."
            ))),
        },
    }
}

/// The offset a NextToken we issued stands for.
pub fn next_token(form: &Form, total: usize) -> Result<usize, ApiError> {
    match form.get("NextToken") {
        None | Some("") => Ok(0),
        Some(t) => t
            .strip_prefix("ec2p")
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .filter(|o| *o <= total)
            .ok_or_else(|| invalid_param(format!("The NextToken '{t}' is invalid"))),
    }
}

pub fn token_for(offset: usize) -> String {
    format!("ec2p{offset:x}")
}

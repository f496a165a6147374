//! The five wire protocols: how requests are read and how replies and errors are written.

pub mod depth;
pub mod form;
pub mod xml;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Map, Value};

pub type Reply = Response<Full<Bytes>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// DRS.
    RestJson1,
    /// Step Functions and DynamoDB.
    AwsJson10,
    /// SSM and Secrets Manager.
    AwsJson11,
    /// STS.
    AwsQuery,
    /// EC2.
    Ec2Query,
    /// S3.
    RestXml,
}

/// An error as the service model names it; rendered in the caller's protocol.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
    /// Extra members of the error shape (restJson1 and awsJson only), e.g. `resourceId`.
    pub fields: Map<String, Value>,
    /// The namespace that qualifies `__type` (awsJson only): DynamoDB writes
    /// `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`; SDKs read the part
    /// after `#`, and the call log keeps `code` alone.
    pub type_namespace: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into(), retry_after: None, fields: Map::new(), type_namespace: None }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationException", message).with("reason", "fieldValidationFailed")
    }

    pub fn render(&self, protocol: Protocol, request_id: &str) -> Reply {
        let mut reply = match protocol {
            Protocol::RestJson1 => {
                let mut body = self.fields.clone();
                body.insert("message".into(), self.message.clone().into());
                let mut r = json_reply(self.status, &Value::Object(body));
                r.headers_mut().insert("x-amzn-errortype", hv(&self.code));
                r
            }
            Protocol::AwsJson10 | Protocol::AwsJson11 => {
                let mut body = self.fields.clone();
                let qualified = self.type_namespace.map(|ns| format!("{ns}#{}", self.code));
                body.insert("__type".into(), qualified.unwrap_or_else(|| self.code.clone()).into());
                // Secrets Manager's error shapes spell it `Message`; the others `message`.
                if !body.contains_key("Message") {
                    body.insert("message".into(), self.message.clone().into());
                }
                let mut r = json_reply(self.status, &Value::Object(body));
                let content_type = if protocol == Protocol::AwsJson10 { "application/x-amz-json-1.0" } else { "application/x-amz-json-1.1" };
                r.headers_mut().insert("content-type", HeaderValue::from_static(content_type));
                r
            }
            Protocol::AwsQuery => {
                let kind = if self.status >= 500 { "Receiver" } else { "Sender" };
                xml_reply(
                    self.status,
                    format!(
                        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                        xml::escape(&self.code),
                        xml::escape(&self.message)
                    ),
                )
            }
            // S3's error document (a HEAD answer drops it: `server.rs`).
            Protocol::RestXml => {
                let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
                xml::push_el(&mut body, "Code", &self.code);
                xml::push_el(&mut body, "Message", &self.message);
                for (k, v) in &self.fields {
                    xml::push_el(&mut body, k, &v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
                }
                xml::push_el(&mut body, "RequestId", request_id);
                body.push_str("</Error>");
                let mut r = xml_reply(self.status, body);
                r.headers_mut().insert("content-type", HeaderValue::from_static("application/xml"));
                r
            }
            Protocol::Ec2Query => xml_reply(
                self.status,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
                    xml::escape(&self.code),
                    xml::escape(&self.message)
                ),
            ),
        };
        if let Some(secs) = self.retry_after {
            reply.headers_mut().insert("retry-after", hv(&secs.to_string()));
            reply.headers_mut().insert("x-amz-retry-after", hv(&(secs * 1000).to_string()));
        }
        reply
    }
}

pub fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

pub fn json_reply(status: u16, body: &Value) -> Reply {
    bytes_reply(status, serde_json::to_vec(body).unwrap_or_default())
}

pub fn bytes_reply(status: u16, body: Vec<u8>) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    r
}

pub fn xml_reply(status: u16, body: String) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert("content-type", HeaderValue::from_static("text/xml"));
    r
}

pub fn empty_json() -> Value {
    json!({})
}

/// The protocol and the names of the auth errors of a service (by SigV4 signing name).
pub fn protocol_of(service: &str) -> Option<Protocol> {
    match service {
        "drs" => Some(Protocol::RestJson1),
        "states" | "dynamodb" => Some(Protocol::AwsJson10),
        "ssm" | "secretsmanager" => Some(Protocol::AwsJson11),
        "sts" => Some(Protocol::AwsQuery),
        "ec2" => Some(Protocol::Ec2Query),
        "s3" => Some(Protocol::RestXml),
        _ => None,
    }
}

const SKEWED: &str = "Signature expired: the request time is more than 15 minutes from the server time";

/// Authentication failures, spelled per protocol family as AWS spells them.
pub enum AuthFailure {
    Missing,
    UnknownKey,
    BadSignature,
    Expired,
    Skewed,
}

impl AuthFailure {
    pub fn error(&self, protocol: Protocol) -> ApiError {
        let json = matches!(protocol, Protocol::RestJson1 | Protocol::AwsJson10 | Protocol::AwsJson11);
        if protocol == Protocol::RestXml {
            return self.s3_error();
        }
        let (code, status, message) = match self {
            AuthFailure::Missing => (
                if json { "MissingAuthenticationTokenException" } else { "MissingAuthenticationToken" },
                403,
                "Request is missing Authentication Token",
            ),
            AuthFailure::UnknownKey => match protocol {
                Protocol::Ec2Query => ("AuthFailure", 401, "AWS was not able to validate the provided access credentials"),
                Protocol::AwsQuery => ("InvalidClientTokenId", 403, "The security token included in the request is invalid."),
                _ => ("UnrecognizedClientException", 403, "The security token included in the request is invalid."),
            },
            AuthFailure::BadSignature => (
                if json { "InvalidSignatureException" } else { "SignatureDoesNotMatch" },
                403,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
            ),
            // 403 in every protocol (STS and SQS answer `403 ExpiredToken`).
            AuthFailure::Expired => (
                if json { "ExpiredTokenException" } else { "ExpiredToken" },
                403,
                "The security token included in the request is expired",
            ),
            // EC2 alone has RequestExpired; awsQuery services answer a signature mismatch.
            AuthFailure::Skewed => match protocol {
                Protocol::Ec2Query => ("RequestExpired", 400, "Request has expired."),
                Protocol::AwsQuery => ("SignatureDoesNotMatch", 403, SKEWED),
                _ => ("InvalidSignatureException", 403, SKEWED),
            },
        };
        ApiError::new(status, code, message)
    }
}

impl AuthFailure {
    /// S3 spells its authentication failures its own way.
    fn s3_error(&self) -> ApiError {
        let (status, code, message) = match self {
            AuthFailure::Missing => (403, "AccessDenied", "Access Denied"),
            AuthFailure::UnknownKey => (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
            AuthFailure::BadSignature => (
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            ),
            AuthFailure::Expired => (400, "ExpiredToken", "The provided token has expired."),
            AuthFailure::Skewed => (403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."),
        };
        ApiError::new(status, code, message)
    }
}

/// A refused signature in the protocol's own spelling, with AWS's message for each reason
/// (none of which repeats a secret: a scope's date, region or service at most).
pub fn signature_refused(protocol: Protocol, e: crate::sigv4::SigError) -> ApiError {
    use crate::sigv4::SigError;
    let mismatch = |message: String| ApiError { message, ..AuthFailure::BadSignature.error(protocol) };
    match e {
        SigError::Missing => AuthFailure::Missing.error(protocol),
        SigError::TooSkewed => AuthFailure::Skewed.error(protocol),
        SigError::Mismatch => AuthFailure::BadSignature.error(protocol),
        SigError::Malformed(m) => ApiError::new(400, "IncompleteSignature", m),
        SigError::HostNotSigned => {
            ApiError::new(400, "IncompleteSignature", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        }
        SigError::PayloadHash if protocol == Protocol::RestXml => ApiError::new(
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
        SigError::PayloadHash => mismatch("The provided 'x-amz-content-sha256' header does not match what was computed.".into()),
        SigError::ScopeDate { scope, request } => mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope}' != '{request}'"
        )),
        SigError::ScopeRegion { scope } => mismatch(format!("Credential should be scoped to a valid region, not '{scope}'.")),
        SigError::ScopeService { request, .. } => {
            mismatch(format!("Credential should be scoped to correct service: '{request}'."))
        }
    }
}

/// A throttling error in the protocol's own spelling.
pub fn throttled(protocol: Protocol, retry_after: u64) -> ApiError {
    let mut e = match protocol {
        Protocol::RestJson1 => ApiError::new(429, "ThrottlingException", "Rate exceeded"),
        Protocol::AwsJson10 | Protocol::AwsJson11 => ApiError::new(400, "ThrottlingException", "Rate exceeded"),
        Protocol::AwsQuery => ApiError::new(400, "Throttling", "Rate exceeded"),
        Protocol::Ec2Query => ApiError::new(503, "RequestLimitExceeded", "Request limit exceeded."),
        Protocol::RestXml => ApiError::new(503, "SlowDown", "Please reduce your request rate."),
    };
    e.retry_after = Some(retry_after);
    e
}

pub fn outage(protocol: Protocol, status: u16) -> ApiError {
    let code = match (protocol, status) {
        (Protocol::RestJson1, _) => "InternalServerException",
        (Protocol::RestXml, 503) => "ServiceUnavailable",
        (Protocol::RestXml, _) => "InternalError",
        (Protocol::Ec2Query, 503) => "Unavailable",
        (Protocol::Ec2Query, _) => "InternalError",
        (_, 503) => "ServiceUnavailable",
        _ => "InternalFailure",
    };
    ApiError::new(status, code, "The service is unavailable (injected outage)")
}

/// The internal error (500) of a call an injected crash refuses before applying it: the
/// outage's error in each protocol, so SDKs classify it as they classify a real one.
pub fn refused(protocol: Protocol) -> ApiError {
    ApiError { message: "An internal error occurred (injected: the request was not applied)".into(), ..outage(protocol, 500) }
}

pub fn access_denied(protocol: Protocol, message: String) -> ApiError {
    match protocol {
        Protocol::RestJson1 | Protocol::AwsJson10 | Protocol::AwsJson11 => ApiError::new(403, "AccessDeniedException", message),
        Protocol::AwsQuery | Protocol::RestXml => ApiError::new(403, "AccessDenied", message),
        Protocol::Ec2Query => {
            ApiError::new(403, "UnauthorizedOperation", format!("You are not authorized to perform this operation. {message}"))
        }
    }
}

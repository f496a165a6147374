//! Which S3 operation a path-style request is, and the bucket and key it names.

use crate::ctx::Request;
use crate::protocol::ApiError;
use http::Method;
use percent_encoding::percent_decode_str;

/// A path-style request's bucket and (decoded) key.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub bucket: String,
    pub key: Option<String>,
}

/// `/bucket` or `/bucket/key...`; the key percent-decoded, `/` kept.
pub fn target(path: &str) -> Result<Target, ApiError> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (rest, None),
    };
    if bucket.is_empty() {
        return Err(not_implemented("ListBuckets (the path /)"));
    }
    let decode = |s: &str| percent_decode_str(s).decode_utf8().map(|c| c.into_owned());
    let bucket = decode(bucket).map_err(|_| ApiError::new(400, "InvalidBucketName", "The specified bucket is not valid."))?;
    let key = match key.filter(|k| !k.is_empty()) {
        Some(k) => Some(decode(k).map_err(|_| ApiError::new(400, "InvalidURI", "Couldn't parse the specified URI."))?),
        None => None,
    };
    Ok(Target { bucket, key })
}

/// The operation: PUT, GET and HEAD of an object; GET of a bucket with `list-type=2`.
pub fn operation(req: &Request) -> Result<String, ApiError> {
    let t = target(&req.path)?;
    let listing = req.query.split('&').any(|p| p == "list-type=2");
    let op = match (&req.method, t.key.is_some()) {
        (&Method::PUT, true) => "PutObject",
        (&Method::GET, true) => "GetObject",
        (&Method::HEAD, true) => "HeadObject",
        (&Method::GET, false) if listing => "ListObjectsV2",
        (m, true) => return Err(not_implemented(&format!("the method {m} of an object"))),
        (m, false) => return Err(not_implemented(&format!("the method {m} of a bucket"))),
    };
    Ok(op.to_owned())
}

/// A request for an operation not simulated: refused as S3 refuses a method a resource does
/// not take (a 4xx: the simulator is not failing, the request is outside what it serves).
pub fn not_implemented(what: &str) -> ApiError {
    ApiError::new(
        405,
        "MethodNotAllowed",
        format!("{what} is not simulated: PutObject, GetObject, HeadObject and ListObjectsV2 are"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_names_the_bucket_and_the_decoded_key() {
        let t = target("/reports/runs/Shop%20Stack/run-1/report.json").unwrap();
        assert_eq!((t.bucket.as_str(), t.key.as_deref()), ("reports", Some("runs/Shop Stack/run-1/report.json")));
        assert_eq!(target("/reports").unwrap().key, None);
        assert_eq!(target("/reports/").unwrap().key, None);
        assert_eq!(target("/").unwrap_err().code, "MethodNotAllowed");
    }
}

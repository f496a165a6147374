//! SigV4 verification as AWS does it: rebuild the canonical request from what arrived,
//! derive the signing key from the caller's secret and compare signatures. The key
//! derivation and HMAC come from `aws-sigv4`, the crate the SDK signs with.

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use chrono::{NaiveDateTime, TimeZone, Utc};
use http::HeaderMap;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use std::time::SystemTime;

/// Everything but the unreserved characters of RFC 3986 is encoded, as SigV4 requires.
const SIGV4: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
const SIGV4_PATH: &AsciiSet = &SIGV4.remove(b'/');

#[derive(Debug, Clone)]
pub struct Authorization {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

#[derive(Debug, PartialEq)]
pub enum SigError {
    Missing,
    Malformed(String),
    TooSkewed,
    Mismatch,
}

pub fn parse_authorization(headers: &HeaderMap) -> Result<Authorization, SigError> {
    let value = headers.get(http::header::AUTHORIZATION).ok_or(SigError::Missing)?;
    let value = value.to_str().map_err(|_| SigError::Malformed("Authorization is not ASCII".into()))?;
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| SigError::Malformed("Authorization: only AWS4-HMAC-SHA256 is supported".into()))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let missing = |what: &str| SigError::Malformed(format!("Authorization header requires '{what}' parameter"));
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(SigError::Malformed("Credential should be scoped to a valid region and service".into()));
    }
    Ok(Authorization {
        access_key: scope[0].into(),
        date: scope[1].into(),
        region: scope[2].into(),
        service: scope[3].into(),
        signed_headers: signed.ok_or_else(|| missing("SignedHeaders"))?.split(';').map(str::to_owned).collect(),
        signature: signature.ok_or_else(|| missing("Signature"))?.to_owned(),
    })
}

/// Checks the signature of a request whose Authorization was already parsed.
pub fn verify(
    auth: &Authorization,
    secret: &str,
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), SigError> {
    let amz_date = header(headers, "x-amz-date").ok_or(SigError::Malformed("missing X-Amz-Date".into()))?;
    let signed_at = NaiveDateTime::parse_from_str(&amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| SigError::Malformed("X-Amz-Date is not yyyyMMddTHHmmssZ".into()))?;
    let signed_at = Utc.from_utc_datetime(&signed_at);
    if (Utc::now() - signed_at).num_seconds().abs() > 15 * 60 {
        return Err(SigError::TooSkewed);
    }
    if !amz_date.starts_with(&auth.date) {
        return Err(SigError::Mismatch);
    }
    let payload_hash = match header(headers, "x-amz-content-sha256") {
        Some(h) if h != "UNSIGNED-PAYLOAD" => h,
        _ => hex::encode(Sha256::digest(body)),
    };
    let canonical = canonical_request(method, raw_path, raw_query, headers, &auth.signed_headers, &payload_hash);
    let scope = format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    let string_to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let key = generate_signing_key(secret, SystemTime::from(signed_at), &auth.region, &auth.service);
    let expected = calculate_signature(key, string_to_sign.as_bytes());
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(SigError::Mismatch)
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn canonical_request(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    signed: &[String],
    payload_hash: &str,
) -> String {
    // Non-S3 services encode the (already encoded) path a second time.
    let path = if raw_path.is_empty() { "/".to_string() } else { utf8_percent_encode(raw_path, SIGV4_PATH).to_string() };
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode_component(k), encode_component(v))
        })
        .collect();
    pairs.sort();
    let query = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut canon_headers = String::new();
    for name in signed {
        let values: Vec<String> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canon_headers += &format!("{name}:{}\n", values.join(","));
    }
    format!("{method}\n{path}\n{query}\n{canon_headers}\n{}\n{payload_hash}", signed.join(";"))
}

fn encode_component(raw: &str) -> String {
    let decoded = percent_decode_str(&raw.replace('+', "%20")).decode_utf8_lossy().to_string();
    utf8_percent_encode(&decoded, SIGV4).to_string()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_is_parsed() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/drs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
                .parse()
                .unwrap(),
        );
        let a = parse_authorization(&h).unwrap();
        assert_eq!((a.access_key.as_str(), a.region.as_str(), a.service.as_str()), ("AKIDEXAMPLE", "us-east-1", "drs"));
        assert_eq!(a.signed_headers, vec!["host", "x-amz-date"]);
    }

    #[test]
    fn missing_header_and_wrong_scheme_are_refused() {
        assert_eq!(parse_authorization(&HeaderMap::new()).unwrap_err(), SigError::Missing);
        let mut h = HeaderMap::new();
        h.insert("authorization", "Basic Zm9v".parse().unwrap());
        assert!(matches!(parse_authorization(&h), Err(SigError::Malformed(_))));
    }
}

//! SigV4 verification as AWS does it: rebuild the canonical request from what arrived,
//! derive the signing key from the caller's secret and compare signatures. The key
//! derivation and HMAC come from `aws-sigv4`, the crate the SDK signs with.

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
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

/// Why a request's signature is refused. None carries a secret: a scope or a service name at
/// most, which the caller sent in the clear.
#[derive(Debug, PartialEq)]
pub enum SigError {
    /// No Authorization header.
    Missing,
    /// The Authorization header or X-Amz-Date does not parse.
    Malformed(String),
    /// X-Amz-Date is more than 15 minutes from the server's clock.
    TooSkewed,
    /// The signature is not the one the caller's secret makes of this request.
    Mismatch,
    /// `x-amz-content-sha256` is not the SHA-256 of the body that arrived.
    PayloadHash,
    /// `host` is not among the signed headers.
    HostNotSigned,
    /// The credential scope's date is not a yyyymmdd date, or not X-Amz-Date's day.
    ScopeDate { scope: String, request: String },
    /// The credential scope's region is not a region, or not the one the request's host names.
    ScopeRegion { scope: String },
    /// The credential scope's service is not the one the request speaks.
    ScopeService { scope: String, request: String },
}

/// A request as the signature covers it: what arrived, unparsed.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
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

/// Checks the signature of a request whose Authorization was already parsed, as AWS does:
/// X-Amz-Date within 15 minutes, `host` signed, the scope's date that of X-Amz-Date, and the
/// canonical request built over the body's own hash (a client's `x-amz-content-sha256` that
/// differs from it refuses the request: the body was swapped after signing).
pub fn verify(auth: &Authorization, secret: &str, req: &SignedRequest) -> Result<(), SigError> {
    let amz_date = header(req.headers, "x-amz-date").ok_or(SigError::Malformed("missing X-Amz-Date".into()))?;
    let signed_at = NaiveDateTime::parse_from_str(&amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| SigError::Malformed("X-Amz-Date is not yyyyMMddTHHmmssZ".into()))?;
    let signed_at = Utc.from_utc_datetime(&signed_at);
    if (Utc::now() - signed_at).num_seconds().abs() > 15 * 60 {
        return Err(SigError::TooSkewed);
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SigError::HostNotSigned);
    }
    check_scope_date(&auth.date, &amz_date)?;
    let s3 = auth.service == "s3";
    let payload_hash = payload_hash(req, s3)?;
    let canonical = canonical_request(req, &auth.signed_headers, &payload_hash, s3);
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

/// The scope's date must be a real yyyymmdd date and the day of X-Amz-Date (an empty or
/// shortened date is no prefix AWS accepts).
fn check_scope_date(scope: &str, amz_date: &str) -> Result<(), SigError> {
    let refused = || SigError::ScopeDate { scope: scope.to_owned(), request: amz_date.chars().take(8).collect() };
    if scope.len() != 8 || !scope.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    NaiveDate::parse_from_str(scope, "%Y%m%d").map_err(|_| refused())?;
    if !amz_date.starts_with(scope) {
        return Err(refused());
    }
    Ok(())
}

/// The scope's region and service against the request: the region must be a region's name
/// (and the one a regional host such as `ec2.us-west-2.amazonaws.com` names), the service the
/// one the request speaks (`requested`: its X-Amz-Target, its query Version, or its host).
pub fn check_scope(auth: &Authorization, requested: Option<&str>, host: Option<&str>) -> Result<(), SigError> {
    let bad_region = || SigError::ScopeRegion { scope: auth.region.clone() };
    if !is_region(&auth.region) {
        return Err(bad_region());
    }
    let named = host.and_then(host_names);
    if named.as_ref().and_then(|(_, r)| r.as_deref()).is_some_and(|r| r != auth.region) {
        return Err(bad_region());
    }
    let services = requested.into_iter().chain(named.as_ref().map(|(s, _)| s.as_str()));
    for service in services {
        if service != auth.service {
            return Err(SigError::ScopeService { scope: auth.service.clone(), request: service.to_owned() });
        }
    }
    Ok(())
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`: two letters, words, a number.
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts.last().is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The service and region an AWS host names: `drs.us-east-1.amazonaws.com` gives both,
/// `sts.amazonaws.com` the service alone; any other host (the simulator's own address) none.
fn host_names(host: &str) -> Option<(String, Option<String>)> {
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let stem = ["amazonaws.com.cn", "amazonaws.com", "api.aws"].iter().find_map(|d| host.strip_suffix(&format!(".{d}")))?;
    let mut parts = stem.split('.');
    let service = parts.next()?.to_owned();
    let region = parts.next().filter(|r| is_region(r)).map(str::to_owned);
    Some((service, region))
}

/// What the canonical request ends with: the body's SHA-256. A client's
/// `x-amz-content-sha256` that differs from it refuses the request (the body was swapped
/// after signing). S3 alone requires the header and takes two other values: UNSIGNED-PAYLOAD
/// and STREAMING-UNSIGNED-PAYLOAD-TRAILER (an aws-chunked body whose checksum trails it);
/// the header's own text is then what was signed.
fn payload_hash(req: &SignedRequest, s3: bool) -> Result<String, SigError> {
    let computed = hex::encode(Sha256::digest(req.body));
    let given = header(req.headers, "x-amz-content-sha256");
    match given.as_deref() {
        Some(h) if h == computed => Ok(computed),
        None if !s3 => Ok(computed),
        None => Err(SigError::Malformed("Missing required header for this request: x-amz-content-sha256".into())),
        Some(h @ ("UNSIGNED-PAYLOAD" | "STREAMING-UNSIGNED-PAYLOAD-TRAILER")) if s3 => Ok(h.to_owned()),
        Some(h) if s3 && h.starts_with("STREAMING-") => {
            Err(SigError::Malformed(format!("x-amz-content-sha256: {h} is not simulated; sign the payload or leave it unsigned")))
        }
        Some(_) => Err(SigError::PayloadHash),
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn canonical_request(req: &SignedRequest, signed: &[String], payload_hash: &str, s3: bool) -> String {
    // Non-S3 services encode the (already encoded) path a second time; S3 signs it as sent.
    let path = match (req.raw_path.is_empty(), s3) {
        (true, _) => "/".to_string(),
        (false, true) => req.raw_path.to_owned(),
        (false, false) => utf8_percent_encode(req.raw_path, SIGV4_PATH).to_string(),
    };
    let mut pairs: Vec<(String, String)> = req
        .raw_query
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
        let values: Vec<String> = req
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canon_headers += &format!("{name}:{}\n", values.join(","));
    }
    format!("{}\n{path}\n{query}\n{canon_headers}\n{}\n{payload_hash}", req.method, signed.join(";"))
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

    /// A request signed by `aws-sigv4`, the SDK's own signer: (its Authorization, headers).
    fn signed(body: &str, sha256_header: bool) -> (Authorization, HeaderMap) {
        use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
        use aws_smithy_runtime_api::client::identity::Identity;
        let identity: Identity = aws_credential_types::Credentials::new("AKIDEXAMPLE", SECRET, None, None, "test").into();
        let mut settings = SigningSettings::default();
        if sha256_header {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("drs")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let headers = [("host", "127.0.0.1:9000"), ("content-type", "application/json")];
        let signable = SignableRequest::new("POST", URI, headers.into_iter(), SignableBody::Bytes(body.as_bytes())).unwrap();
        let mut req = http::Request::builder().method("POST").uri(URI);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let mut req = req.body(()).unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
        let headers = req.headers().clone();
        (parse_authorization(&headers).unwrap(), headers)
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const URI: &str = "http://127.0.0.1:9000/DescribeSourceServers";
    const BODY: &str = r#"{"maxResults":1}"#;

    fn check(auth: &Authorization, headers: &HeaderMap, body: &str) -> Result<(), SigError> {
        let req =
            SignedRequest { method: "POST", raw_path: "/DescribeSourceServers", raw_query: "", headers, body: body.as_bytes() };
        verify(auth, SECRET, &req)
    }

    /// The Authorization header with `from` replaced by `to`, parsed again.
    fn edited(headers: &HeaderMap, from: &str, to: &str) -> (Authorization, HeaderMap) {
        let mut h = headers.clone();
        let value = h[http::header::AUTHORIZATION].to_str().unwrap().replacen(from, to, 1);
        h.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        (parse_authorization(&h).unwrap(), h)
    }

    #[test]
    fn a_request_the_sdk_signed_passes_with_or_without_its_payload_hash_header() {
        let (auth, headers) = signed(BODY, false);
        assert_eq!(check(&auth, &headers, BODY), Ok(()));
        let (auth, headers) = signed(BODY, true);
        assert!(headers.contains_key("x-amz-content-sha256"));
        assert_eq!(check(&auth, &headers, BODY), Ok(()));
        assert_eq!(check_scope(&auth, Some("drs"), Some("127.0.0.1:9000")), Ok(()));
    }

    #[test]
    fn a_swapped_body_is_refused_whatever_hash_header_the_client_sent() {
        let swapped = r#"{"maxResults":1000}"#;
        // The header still holds the signed body's hash: the body's own hash differs.
        let (auth, headers) = signed(BODY, true);
        assert_eq!(check(&auth, &headers, swapped), Err(SigError::PayloadHash));
        // A header naming the swapped body's hash leaves the signature unmatched.
        let mut h = headers.clone();
        h.insert("x-amz-content-sha256", hex::encode(Sha256::digest(swapped)).parse().unwrap());
        assert_eq!(check(&auth, &h, swapped), Err(SigError::Mismatch));
        // UNSIGNED-PAYLOAD is for S3 alone.
        h.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
        assert_eq!(check(&auth, &h, BODY), Err(SigError::PayloadHash));
        // Without the header the signature covers the body's hash.
        let (auth, headers) = signed(BODY, false);
        assert_eq!(check(&auth, &headers, swapped), Err(SigError::Mismatch));
    }

    #[test]
    fn host_must_be_signed() {
        let (_, headers) = signed(BODY, false);
        let (auth, h) = edited(&headers, "SignedHeaders=content-type;host;", "SignedHeaders=content-type;");
        assert!(!auth.signed_headers.contains(&"host".to_owned()), "{:?}", auth.signed_headers);
        assert_eq!(check(&auth, &h, BODY), Err(SigError::HostNotSigned));
    }

    #[test]
    fn the_scope_date_must_be_x_amz_dates_day_in_yyyymmdd() {
        let (auth, headers) = signed(BODY, false);
        let today = auth.date.clone();
        let yesterday = (Utc::now() - chrono::Duration::days(1)).format("%Y%m%d").to_string();
        let next_year_day = format!("{}0230", &today[..4]);
        for bad in ["", "2026", "2O261128", &next_year_day, &format!("{today}0"), &yesterday] {
            let (auth, h) = edited(&headers, &format!("/{today}/"), &format!("/{bad}/"));
            match check(&auth, &h, BODY) {
                Err(SigError::ScopeDate { scope, request }) => assert_eq!((scope.as_str(), request), (bad, today.clone())),
                other => panic!("scope date '{bad}': {other:?}"),
            }
        }
    }

    #[test]
    fn the_scope_region_and_service_must_be_the_requests() {
        let (auth, _) = signed(BODY, false);
        let region = |scope: &str| SigError::ScopeRegion { scope: scope.into() };
        assert_eq!(check_scope(&auth, Some("drs"), Some("drs.us-west-2.amazonaws.com")), Err(region("us-east-1")));
        assert_eq!(check_scope(&auth, Some("drs"), Some("drs.us-east-1.amazonaws.com:443")), Ok(()));
        let mut moon = auth.clone();
        moon.region = "moon".into();
        assert_eq!(check_scope(&moon, Some("drs"), None), Err(region("moon")));
        moon.region = "us-east-".into();
        assert_eq!(check_scope(&moon, Some("drs"), None), Err(region("us-east-")));
        let service = |request: &str| SigError::ScopeService { scope: "drs".into(), request: request.into() };
        assert_eq!(check_scope(&auth, Some("dynamodb"), None), Err(service("dynamodb")));
        assert_eq!(check_scope(&auth, Some("drs"), Some("ec2.us-east-1.amazonaws.com")), Err(service("ec2")));
        assert_eq!(check_scope(&auth, Some("drs"), Some("sts.amazonaws.com")), Err(service("sts")));
    }
}

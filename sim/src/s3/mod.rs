//! S3 (restXml), the calls the module's run reports need: PutObject, GetObject, HeadObject
//! and ListObjectsV2, path-style (`/bucket/key`, as SDKs address an endpoint given by IP).
//! Buckets exist from the start (the fleet's `buckets`, `store.rs`); a bucket answers its
//! owner's account alone (bucket policies are not simulated, so another account is denied).
//! SigV4 as S3 signs it (`sigv4.rs`: the path encoded once, `x-amz-content-sha256` the
//! payload's hash or UNSIGNED-PAYLOAD, an aws-chunked body decoded by `chunked.rs`).

pub mod chunked;
mod list;
pub mod route;
pub mod store;

use crate::ctx::{Ctx, Request};
use crate::protocol::{hv, ApiError, Reply};
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
pub use route::Target;
use std::collections::BTreeMap;
use store::Object;

/// The namespace of S3's XML answers.
pub const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

pub fn handle(ctx: &Ctx, op: &str, req: &Request) -> Result<Reply, ApiError> {
    let target = route::target(&req.path)?;
    owned_bucket(ctx, &target.bucket)?;
    let key = || target.key.clone().unwrap_or_default();
    match op {
        "PutObject" => put_object(ctx, &target.bucket, &key(), req),
        "GetObject" => get_object(ctx, &target.bucket, &key(), true),
        "HeadObject" => get_object(ctx, &target.bucket, &key(), false),
        "ListObjectsV2" => list::list_objects_v2(ctx, &target.bucket, &req.query),
        other => Err(route::not_implemented(other)),
    }
}

/// The bucket exists and belongs to the caller's account (no bucket policy grants others).
fn owned_bucket(ctx: &Ctx, bucket: &str) -> Result<(), ApiError> {
    match ctx.world.buckets.owner(bucket) {
        None => Err(ApiError::new(404, "NoSuchBucket", "The specified bucket does not exist").with("BucketName", bucket)),
        Some((account, _)) if account != ctx.account() => Err(ApiError::new(403, "AccessDenied", "Access Denied")),
        Some(_) => Ok(()),
    }
}

fn put_object(ctx: &Ctx, bucket: &str, key: &str, req: &Request) -> Result<Reply, ApiError> {
    if key.is_empty() || key.len() > 1024 {
        return Err(ApiError::new(400, "KeyTooLongError", "Your key is too long").with("Key", key));
    }
    let body = chunked::payload(&req.headers, &req.body)?;
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // A conditional write (`If-None-Match: *`) fails when the key exists: the first writer wins.
    if header("if-none-match").as_deref() == Some("*") && ctx.world.buckets.object(bucket, key).is_some() {
        return Err(ApiError::new(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
            .with("Condition", "If-None-Match"));
    }
    let metadata: BTreeMap<String, String> = req
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().strip_prefix("x-amz-meta-")?.to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let object = Object {
        body,
        content_type: header("content-type"),
        metadata,
        etag: String::new(),
        last_modified: ctx.now(),
        version_id: None,
    };
    let stored = ctx
        .world
        .buckets
        .put(bucket, key, object)
        .ok_or_else(|| ApiError::new(404, "NoSuchBucket", "The specified bucket does not exist"))?;
    let mut reply = empty(200);
    reply.headers_mut().insert("etag", hv(&stored.etag));
    if let Some(v) = &stored.version_id {
        reply.headers_mut().insert("x-amz-version-id", hv(v));
    }
    // S3 answers with the checksum the request carried.
    for (k, v) in req.headers.iter().filter(|(k, _)| k.as_str().starts_with("x-amz-checksum-")) {
        reply.headers_mut().insert(k.clone(), v.clone());
    }
    Ok(reply)
}

fn get_object(ctx: &Ctx, bucket: &str, key: &str, with_body: bool) -> Result<Reply, ApiError> {
    let o = ctx
        .world
        .buckets
        .object(bucket, key)
        .ok_or_else(|| ApiError::new(404, "NoSuchKey", "The specified key does not exist.").with("Key", key))?;
    let mut r = Response::new(Full::new(if with_body { o.body.clone() } else { Bytes::new() }));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert("content-type", hv(o.content_type.as_deref().unwrap_or("binary/octet-stream")));
    h.insert("content-length", hv(&o.body.len().to_string()));
    h.insert("etag", hv(&o.etag));
    h.insert("last-modified", hv(&http_date(o.last_modified)));
    h.insert("accept-ranges", hv("bytes"));
    if let Some(v) = &o.version_id {
        h.insert("x-amz-version-id", hv(v));
    }
    for (k, v) in &o.metadata {
        if let Ok(name) = http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes()) {
            h.insert(name, hv(v));
        }
    }
    Ok(r)
}

/// An answer with no body.
fn empty(status: u16) -> Reply {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r
}

/// RFC 7231's date, as S3 writes Last-Modified.
pub fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

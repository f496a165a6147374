//! ListObjectsV2: keys under a prefix after a continuation token or StartAfter, grouped by a
//! delimiter into CommonPrefixes, at most MaxKeys (1,000) a page; `encoding-type=url`
//! percent-encodes the keys and prefixes of the answer (boto3 asks for it).

use super::XMLNS;
use crate::clock::iso;
use crate::ctx::Ctx;
use crate::protocol::{xml, xml_reply, ApiError, Reply};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::collections::BTreeSet;

const URL: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
const MAX_KEYS: usize = 1000;

pub fn list_objects_v2(ctx: &Ctx, bucket: &str, query: &str) -> Result<Reply, ApiError> {
    let q: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let prefix = get("prefix").unwrap_or_default();
    let delimiter = get("delimiter").filter(|d| !d.is_empty());
    let max = match get("max-keys") {
        None => MAX_KEYS,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| invalid("max-keys", "Provided max-keys not an integer or within integer range"))?
            .min(MAX_KEYS),
    };
    let url = match get("encoding-type") {
        None => false,
        Some("url") => true,
        Some(_) => return Err(invalid("encoding-type", "Invalid Encoding Method specified in Request")),
    };
    let token = get("continuation-token");
    let after = match token {
        Some(t) => String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t).unwrap_or_default())
            .map_err(|_| invalid("continuation-token", "The continuation token provided is incorrect"))?,
        None => get("start-after").unwrap_or_default().to_owned(),
    };
    // Walked whole (the buckets here are small); a delimiter rolls keys into prefixes.
    let (all, _) = ctx.world.buckets.list(bucket, prefix, &after, usize::MAX).unwrap_or_default();
    let mut contents = vec![];
    let mut prefixes: BTreeSet<String> = BTreeSet::new();
    let mut last = None;
    let mut truncated = false;
    for (key, object) in all {
        let rolled = delimiter.and_then(|d| key[prefix.len()..].find(d).map(|i| key[..prefix.len() + i + d.len()].to_owned()));
        let new_entry = match &rolled {
            Some(p) => !prefixes.contains(p),
            None => true,
        };
        if new_entry && contents.len() + prefixes.len() == max {
            truncated = true;
            break;
        }
        // After a prefix, the next page starts past every key under it.
        last = Some(rolled.as_ref().map(|p| format!("{p}{}", char::MAX)).unwrap_or_else(|| key.clone()));
        match rolled {
            Some(p) => _ = prefixes.insert(p),
            None => contents.push((key, object)),
        }
    }
    let enc = |s: &str| if url { utf8_percent_encode(s, URL).to_string() } else { s.to_owned() };
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"{XMLNS}\">");
    xml::push_el(&mut out, "Name", bucket);
    xml::push_el(&mut out, "Prefix", &enc(prefix));
    for (key, o) in &contents {
        out.push_str("<Contents>");
        xml::push_el(&mut out, "Key", &enc(key));
        xml::push_el(&mut out, "LastModified", &iso(o.last_modified));
        xml::push_el(&mut out, "ETag", &o.etag);
        xml::push_el(&mut out, "Size", &o.body.len().to_string());
        xml::push_el(&mut out, "StorageClass", "STANDARD");
        out.push_str("</Contents>");
    }
    for p in &prefixes {
        out.push_str("<CommonPrefixes>");
        xml::push_el(&mut out, "Prefix", &enc(p));
        out.push_str("</CommonPrefixes>");
    }
    if let Some(d) = delimiter {
        xml::push_el(&mut out, "Delimiter", &enc(d));
    }
    xml::push_el(&mut out, "MaxKeys", &max.to_string());
    xml::push_el(&mut out, "KeyCount", &(contents.len() + prefixes.len()).to_string());
    xml::push_el(&mut out, "IsTruncated", if truncated { "true" } else { "false" });
    if let Some(t) = token {
        xml::push_el(&mut out, "ContinuationToken", t);
    }
    if let (true, Some(last)) = (truncated, last) {
        xml::push_el(&mut out, "NextContinuationToken", &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last));
    }
    if let (None, Some(s)) = (token, get("start-after")) {
        xml::push_el(&mut out, "StartAfter", &enc(s));
    }
    if url {
        xml::push_el(&mut out, "EncodingType", "url");
    }
    out.push_str("</ListBucketResult>");
    let mut reply = xml_reply(200, out);
    reply.headers_mut().insert("content-type", http::HeaderValue::from_static("application/xml"));
    Ok(reply)
}

fn invalid(name: &str, message: &str) -> ApiError {
    ApiError::new(400, "InvalidArgument", message).with("ArgumentName", name)
}

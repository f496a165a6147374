//! S3's authorization requests, as the Service Authorization Reference lists them: PutObject
//! and GetObject act on the object's ARN (`arn:aws:s3:::bucket/key`), HeadObject is
//! s3:GetObject; ListObjectsV2 is s3:ListBucket on the bucket with `s3:prefix`,
//! `s3:delimiter` and `s3:max-keys`. Reading a key that does not exist needs s3:ListBucket
//! too: without it S3 answers 403 rather than telling whether the key exists, so the request
//! is asked of the caller then. `aws:ResourceAccount` is the bucket owner's.

use super::Call;
use crate::iam::context::{AuthRequest, Context};
use crate::s3::route;

pub fn requests(call: &Call) -> Vec<AuthRequest> {
    let Ok(target) = route::target(&call.request.path) else { return call.on_everything() };
    let owner = call.world.buckets.owner(&target.bucket).map(|(account, _)| account);
    let context = || match &owner {
        Some(a) => Context::default().with("aws:ResourceAccount", a),
        None => Context::default(),
    };
    let bucket_arn = format!("arn:aws:s3:::{}", target.bucket);
    let key = target.key.clone().unwrap_or_default();
    let object_arn = format!("{bucket_arn}/{key}");
    match call.operation {
        "PutObject" => vec![AuthRequest::new("s3:PutObject", object_arn, context())],
        "GetObject" | "HeadObject" => {
            let mut out = vec![AuthRequest::new("s3:GetObject", object_arn, context())];
            if call.world.buckets.object(&target.bucket, &key).is_none() {
                out.push(AuthRequest::new("s3:ListBucket", bucket_arn, context()));
            }
            out
        }
        "ListObjectsV2" => {
            let query: Vec<(String, String)> = form_urlencoded::parse(call.request.query.as_bytes()).into_owned().collect();
            let mut c = context();
            for (param, key) in [("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys")] {
                if let Some((_, v)) = query.iter().find(|(k, _)| k == param) {
                    c = c.with(key, v);
                }
            }
            vec![AuthRequest::new("s3:ListBucket", bucket_arn, c)]
        }
        _ => call.on_everything(),
    }
}

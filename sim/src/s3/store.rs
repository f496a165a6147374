//! The buckets and their objects: one store for every account and region (bucket names are
//! global, as in S3). A bucket remembers its owner and region; an object its bytes, type,
//! user metadata, entity tag and when it was last written. Versioning is a flag: the store
//! keeps the current version of each key (its id changes with each write), which is all the
//! module reads back.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Object {
    pub body: Bytes,
    pub content_type: Option<String>,
    /// `x-amz-meta-*` headers, by their name after the prefix (lower case, as S3 keeps them).
    pub metadata: BTreeMap<String, String>,
    /// Quoted, as S3 sends it. Opaque to clients: here a digest of the bytes.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    /// Present when the bucket is versioned.
    pub version_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    pub account: String,
    pub region: String,
    pub versioned: bool,
    pub objects: BTreeMap<String, Object>,
}

#[derive(Default)]
pub struct Buckets {
    inner: Mutex<BTreeMap<String, Bucket>>,
}

/// Why a bucket cannot be added.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BucketError {
    /// Bucket names are global: one name, one bucket.
    #[error("bucket {0}: a bucket of that name exists")]
    Exists(String),
}

impl Buckets {
    pub fn add(&self, name: &str, account: &str, region: &str, versioned: bool) -> Result<(), BucketError> {
        let mut map = self.inner.lock();
        if map.contains_key(name) {
            return Err(BucketError::Exists(name.to_owned()));
        }
        let bucket = Bucket {
            name: name.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            versioned,
            objects: BTreeMap::new(),
        };
        map.insert(name.to_owned(), bucket);
        Ok(())
    }

    /// The bucket's owner and region, without its objects.
    pub fn owner(&self, name: &str) -> Option<(String, String)> {
        self.inner.lock().get(name).map(|b| (b.account.clone(), b.region.clone()))
    }

    pub fn object(&self, bucket: &str, key: &str) -> Option<Object> {
        self.inner.lock().get(bucket)?.objects.get(key).cloned()
    }

    /// Writes the object (replacing the current version); None when there is no such bucket.
    pub fn put(&self, bucket: &str, key: &str, mut object: Object) -> Option<Object> {
        let mut map = self.inner.lock();
        let b = map.get_mut(bucket)?;
        object.etag = format!("\"{}\"", &hex::encode(Sha256::digest(&object.body))[..32]);
        object.version_id = b.versioned.then(crate::ids::request_id);
        b.objects.insert(key.to_owned(), object.clone());
        Some(object)
    }

    /// Keys under `prefix` after `start_after` (exclusive), in UTF-8 binary order, at most
    /// `max`: (key, object) and whether more follow. None when there is no such bucket.
    pub fn list(&self, bucket: &str, prefix: &str, start_after: &str, max: usize) -> Option<(Vec<(String, Object)>, bool)> {
        let map = self.inner.lock();
        let b = map.get(bucket)?;
        let mut keys = b
            .objects
            .range::<str, _>((std::ops::Bound::Excluded(start_after), std::ops::Bound::Unbounded))
            .filter(|(k, _)| k.starts_with(prefix));
        let page: Vec<(String, Object)> = keys.by_ref().take(max).map(|(k, o)| (k.clone(), o.clone())).collect();
        let more = keys.next().is_some();
        Some((page, more))
    }

    /// Every bucket's name, owner and object count (the control endpoint's view).
    pub fn summary(&self) -> Vec<serde_json::Value> {
        self.inner
            .lock()
            .values()
            .map(|b| {
                serde_json::json!({"name": b.name, "account": b.account, "region": b.region,
                                   "versioned": b.versioned, "objects": b.objects.keys().collect::<Vec<_>>()})
            })
            .collect()
    }
}

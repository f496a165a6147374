//! Where run reports live: the configured S3 bucket of the hub (`reports` in the module
//! configuration), one folder per run, `<prefix><resource>/<execution>/report.{md,html,json}`.
//! The key is the run's alone, so writing a report again (an event delivered twice, a check
//! repeated after the end) lands on the same objects. The JSON is written last: its presence
//! says the other two are there.

use super::{html, markdown, RunReport};
use crate::aws::errors::AwsError;
use crate::aws::Clients;
use aws_sdk_s3::primitives::ByteStream;
use std::fmt;

/// A run's report in the bucket: the folder, and its JSON (what `Display` names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    /// `<prefix><resource>/<execution>/`
    pub folder: String,
}

impl Location {
    pub fn key(&self, file: &str) -> String {
        format!("{}{file}", self.folder)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}report.json", self.bucket, self.folder)
    }
}

/// Why a report could not be written or read. The run's own outcome never depends on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An S3 call failed after the SDK's retries (denied, the bucket missing, unreachable).
    #[error("s3://{bucket}/{key}: {source}")]
    Call {
        bucket: String,
        key: String,
        #[source]
        source: Box<AwsError>,
    },
    /// The object there is not a report this module writes (its JSON does not read back).
    #[error("s3://{bucket}/{key}: not a run report: {reason}")]
    Unreadable { bucket: String, key: String, reason: String },
}

/// The reports bucket, reached with the hub's credentials.
pub struct Store {
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
}

impl Store {
    /// None when the configuration names no reports bucket.
    pub fn of(clients: &Clients) -> Option<Store> {
        let cfg = clients.config().reports.as_ref()?;
        // An endpoint of our own (a simulator, given by address) takes path-style requests.
        let conf = aws_sdk_s3::config::Builder::from(clients.hub())
            .force_path_style(clients.config().hub.endpoint_url.is_some())
            .build();
        Some(Store { s3: aws_sdk_s3::Client::from_conf(conf), bucket: cfg.bucket.clone(), prefix: cfg.prefix.clone() })
    }

    pub fn location(&self, resource: &str, execution: &str) -> Location {
        Location { bucket: self.bucket.clone(), folder: format!("{}{}/{}/", self.prefix, segment(resource), segment(execution)) }
    }

    fn failed<E>(
        &self,
        key: &str,
        action: &str,
        e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> StoreError
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        StoreError::Call { bucket: self.bucket.clone(), key: key.to_owned(), source: Box::new(AwsError::from_sdk(action, e)) }
    }

    /// Whether the run's report is complete in the bucket (its JSON, written last, is there).
    pub async fn exists(&self, at: &Location) -> Result<bool, StoreError> {
        let key = at.key("report.json");
        match self.s3.head_object().bucket(&self.bucket).key(&key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(self.failed(&key, "s3:HeadObject", &e)),
        }
    }

    /// The run's report as written, None when there is none.
    pub async fn read(&self, at: &Location) -> Result<Option<RunReport>, StoreError> {
        let key = at.key("report.json");
        let got = match self.s3.get_object().bucket(&self.bucket).key(&key).send().await {
            Ok(got) => got,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.failed(&key, "s3:GetObject", &e)),
        };
        let unreadable = |reason: String| StoreError::Unreadable { bucket: self.bucket.clone(), key: key.clone(), reason };
        let bytes = got.body.collect().await.map_err(|e| unreadable(e.to_string()))?.into_bytes();
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de).map(Some).map_err(|e| unreadable(e.to_string()))
    }

    /// Writes the report's three renderings, the JSON last.
    pub async fn write(&self, at: &Location, report: &RunReport) -> Result<(), StoreError> {
        let files = [
            ("report.md", "text/markdown; charset=utf-8", markdown::render(report)),
            ("report.html", "text/html; charset=utf-8", html::render(report)),
            ("report.json", "application/json", report.json()),
        ];
        for (file, content_type, text) in files {
            let key = at.key(file);
            self.s3
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type(content_type)
                .body(ByteStream::from(text.into_bytes()))
                .send()
                .await
                .map_err(|e| self.failed(&key, "s3:PutObject", &e))?;
        }
        Ok(())
    }
}

/// A name as one key segment: `[A-Za-z0-9._-]` kept, anything else `-` (a `/` in an
/// execution id must not open another folder).
fn segment(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).collect();
    match s.as_str() {
        "" | "." | ".." => format!("_{s}"),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_is_one_segment() {
        assert_eq!(super::segment("ShopStack"), "ShopStack");
        assert_eq!(super::segment("exec/1 a:b"), "exec-1-a-b");
        assert_eq!(super::segment(".."), "_..");
    }
}

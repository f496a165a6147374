//! A value that must never be logged or printed in full (an ExternalId, a token).
//!
//! Every way out of the type masks it: `Debug`, `Display` and `Serialize` (a configuration
//! or report serialized for a log keeps the secret masked). The value itself leaves only on
//! purpose: `expose()` for the one call that sends it, or `#[serde(serialize_with =
//! "crate::secret::serialize_exposed")]` on a field that must really be written out.

use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value itself, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first two characters and the length.
    pub fn masked(&self) -> String {
        let head: String = self.0.chars().take(2).collect();
        format!("{head}…({} chars)", self.0.chars().count())
    }
}

/// Serialized masked, like `Display`: a struct holding a secret can be written to a log or
/// a report without leaking it.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

/// The opt-in for a field whose secret must really be written (a configuration handed to
/// the service that needs it): `#[serde(serialize_with = "crate::secret::serialize_exposed")]`.
pub fn serialize_exposed<S: Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

/// A log filter directive for every binary's subscriber: the AWS SDK crates (`aws_config`,
/// `aws_sdk_*`, `aws_smithy_*`, `aws_sigv4`: the target prefix `aws`) log at most `info`. At
/// `debug` and `trace` they print whole requests, an AssumeRole input with its ExternalId,
/// credentials and signed headers with their session token; a directive naming one of those
/// crates exactly still wins, for someone who asks for it on purpose.
pub const SDK_LOG_CAP: &str = "aws=info";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;
    use serde::Serialize;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("drsorch-demo-200000000001");
        assert!(!format!("{s:?} {s}").contains("200000000001"));
        assert_eq!(s.expose(), "drsorch-demo-200000000001");
    }

    #[test]
    fn serialized_masked_unless_a_field_opts_in() {
        #[derive(Serialize)]
        struct Holder {
            plain: Secret,
            #[serde(serialize_with = "super::serialize_exposed")]
            exposed: Secret,
        }
        let h = Holder { plain: Secret::new("plain-secret-value"), exposed: Secret::new("exposed-on-purpose") };
        let text = serde_json::to_string(&h).unwrap();
        assert!(!text.contains("plain-secret-value"), "{text}");
        assert!(text.contains(&h.plain.masked()), "{text}");
        assert!(text.contains("exposed-on-purpose"), "{text}");
        // Reading back still takes the value as given.
        let back: Secret = serde_json::from_str("\"read-as-is\"").unwrap();
        assert_eq!(back.expose(), "read-as-is");
    }
}

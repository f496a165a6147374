//! Times as the module writes them: in marks, tags, payloads and messages.

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 in UTC, to the second (`2026-11-30T23:30:00Z`): compact, and what DRS takes.
pub fn secs(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

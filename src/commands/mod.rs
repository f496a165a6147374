//! The CLI's commands, one file each.

pub mod accounts;
pub mod approve;
pub mod discover;
pub mod drill;
pub mod hooks;
pub mod launch;
pub mod native;
pub mod plan;
pub mod readiness;
pub mod tags;

/// An application manifest file, read and parsed, errors naming the file.
/// A time given on the command line (`--recover-before`): RFC 3339 with its offset, in UTC.
pub fn rfc3339(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("'{text}' is not an RFC 3339 time with its offset, as in 2026-12-01T02:10:00Z ({e})"))
}

/// A time as a resource's parameters take it (UTC, fractions of a second only when given).
pub fn rfc3339_text(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

pub fn read_manifest(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))
}

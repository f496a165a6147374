//! The CLI's commands, one file each.

pub mod accounts;
pub mod approve;
pub mod discover;
pub mod drill;
pub mod hooks;
pub mod launch;
pub mod plan;
pub mod readiness;
pub mod tags;

/// An application manifest file, read and parsed, errors naming the file.
pub fn read_manifest(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))
}

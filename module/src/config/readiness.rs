//! The module configuration's `readiness` key: what the scheduled readiness check holds a
//! resource to. A separate file so that other keys' changes do not meet this one.

use serde::{Deserialize, Serialize};

/// Days a successful drill stays fresh when the configuration says nothing: a month, the
/// cadence most DR policies ask drills at.
pub const DEFAULT_STALE_DRILL_DAYS: u64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadinessConfig {
    /// A resource whose last successful drill ended longer ago NEEDS VERIFICATION.
    #[serde(default = "default_stale")]
    pub stale_drill_days: u64,
}

fn default_stale() -> u64 {
    DEFAULT_STALE_DRILL_DAYS
}

impl Default for ReadinessConfig {
    fn default() -> Self {
        ReadinessConfig { stale_drill_days: DEFAULT_STALE_DRILL_DAYS }
    }
}

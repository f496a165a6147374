//! Point-in-time recovery: the recovery snapshot each server launches when a resource names
//! `RecoverBefore` (the newest one DRS kept that was taken before that time), found for every
//! server of the group across accounts and regions (`lookup.rs`). The choice is made once, when
//! the run is planned, and kept in the run's plan (`recovery::payload`), so that a re-delivered
//! activate or a later wave launches the same snapshot. One exception: a snapshot DRS no
//! longer keeps when its wave starts (retention passed it, behind a long gate) is replaced by
//! the newest one DRS still keeps from before the time (`lookup::recheck`), once, recorded in
//! the run's ledger record (`recovery::repoint`).

mod lookup;

pub use lookup::{find, recheck, Found, Missing, Recheck};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The recovery snapshot a server launches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryPoint {
    /// `pit-...`, as StartRecovery's `recoverySnapshotID` takes it.
    #[serde(rename = "s")]
    pub snapshot_id: String,
    /// When DRS took it (its `timestamp`).
    #[serde(rename = "t")]
    pub taken: DateTime<Utc>,
}

impl RecoveryPoint {
    /// How long before `before` the snapshot was taken, in seconds.
    pub fn age_s(&self, before: DateTime<Utc>) -> f64 {
        (before - self.taken).num_milliseconds() as f64 / 1000.0
    }
}

/// Why a `RecoverBefore` cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointError {
    /// The time is after the run's clock: no snapshot taken before it is final yet.
    #[error(
        "resource {resource}: parameters.RecoverBefore: {before} is in the future of the run's clock ({now}); \
         name a time that has passed (leave it out to recover the latest data)"
    )]
    Future { resource: String, before: String, now: String },
}

/// A `RecoverBefore` the run's clock (`now`) has passed; a later one is refused naming the field.
pub fn check_time(resource: &str, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), PointError> {
    if before > now {
        return Err(PointError::Future {
            resource: resource.to_owned(),
            before: crate::time::secs(&before),
            now: crate::time::secs(&now),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_time_in_the_future_is_refused_naming_the_field_and_both_times() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 2, 30, 0).unwrap();
        assert_eq!(check_time("Shop", now, now), Ok(()));
        let err = check_time("Shop", now + chrono::Duration::seconds(1), now).unwrap_err().to_string();
        assert!(err.contains("parameters.RecoverBefore") && err.contains("2026-12-01T02:30:01Z"), "{err}");
        assert!(err.contains("run's clock (2026-12-01T02:30:00Z)"), "{err}");
    }

    #[test]
    fn the_point_keeps_its_time_to_the_millisecond_in_the_plan() {
        let taken = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 4).unwrap() + chrono::Duration::milliseconds(250);
        let p = RecoveryPoint { snapshot_id: "pit-0123456789abcdefg".into(), taken };
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(text, r#"{"s":"pit-0123456789abcdefg","t":"2026-12-01T02:00:04.250Z"}"#);
        assert_eq!(serde_json::from_str::<RecoveryPoint>(&text).unwrap(), p);
        assert_eq!(p.age_s(Utc.with_ymd_and_hms(2026, 12, 1, 2, 10, 0).unwrap()), 595.75);
    }
}

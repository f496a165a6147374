//! Times as the module writes them: in marks, tags, payloads and messages.

use chrono::{DateTime, SecondsFormat, Utc};

/// RFC 3339 in UTC, to the second (`2026-11-30T23:30:00Z`): compact, and what DRS takes.
pub fn secs(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The module's clock: the time deadlines, grace periods, holds, marks and the ledger's
/// records are judged by. In AWS it is the system's; under the simulator it follows the
/// simulator's clock (which tests and the embedded drill move on their own), so that they
/// agree with the jobs' times. The AWS SDK keeps the system's time for signing.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Which clock it is, as reports state it.
    fn name(&self) -> &'static str;
}

/// The system's time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn name(&self) -> &'static str {
        "the system's clock"
    }
}

/// Any function of no arguments that tells the time (a simulator's clock, say).
impl<F: Fn() -> DateTime<Utc> + Send + Sync> Clock for F {
    fn now(&self) -> DateTime<Utc> {
        self()
    }

    fn name(&self) -> &'static str {
        "an injected clock, such as a simulator's"
    }
}

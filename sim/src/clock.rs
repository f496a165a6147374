//! The simulator's virtual clock: real time scaled by a speed factor, plus manual jumps,
//! so that a 30-minute recovery can run in seconds.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use parking_lot::Mutex;
use std::time::Instant;

/// The latest instant the clock shows, however fast it runs or far it jumps: far past any
/// run, and with room above it for every date computed from it (expiries, job timers). The
/// clock used to overflow chrono's range and panic on a jump of 1e308 seconds.
pub fn latest() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    // 9999-12-31T23:59:59Z
}

/// The largest jump one `advance` takes: a century.
pub const MAX_ADVANCE_SECONDS: f64 = 100.0 * 365.0 * 86_400.0;
/// The fastest the clock runs: a million simulated seconds a second.
pub const MAX_SPEED: f64 = 1e6;

/// A change the clock refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClockError {
    /// A jump that is not a number of seconds from 0 to [`MAX_ADVANCE_SECONDS`].
    #[error("{0:?} is not a jump of 0 to {MAX_ADVANCE_SECONDS} seconds")]
    Advance(f64),
    /// A speed that is not from 0 to [`MAX_SPEED`].
    #[error("{0:?} is not a speed from 0 to {MAX_SPEED}")]
    Speed(f64),
}

pub struct SimClock {
    inner: Mutex<Anchor>,
}

struct Anchor {
    real: Instant,
    sim: DateTime<Utc>,
    speed: f64,
    /// Seconds added by `advance`, in total.
    jumped: f64,
}

impl SimClock {
    pub fn new(start: DateTime<Utc>, speed: f64) -> Self {
        Self { inner: Mutex::new(Anchor { real: Instant::now(), sim: start, speed: speed.max(0.0), jumped: 0.0 }) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let a = self.inner.lock();
        later(a.sim, a.real.elapsed().as_secs_f64() * a.speed)
    }

    /// The clock without its jumps: what credential lifetimes run on. Clients are told when
    /// their credentials expire in real time at the clock's speed (`sts.rs`) and cannot see a
    /// jump, so a jump moves jobs along but does not age credentials.
    pub fn lifetime_now(&self) -> DateTime<Utc> {
        let jumped = self.inner.lock().jumped;
        let now = self.now();
        now.checked_sub_signed(scaled(jumped)).unwrap_or(now)
    }

    pub fn speed(&self) -> f64 {
        self.inner.lock().speed
    }

    /// Changes the speed from now on; what already elapsed keeps its old rate.
    pub fn set_speed(&self, speed: f64) -> Result<(), ClockError> {
        if !(0.0..=MAX_SPEED).contains(&speed) {
            return Err(ClockError::Speed(speed));
        }
        let mut a = self.inner.lock();
        let now = later(a.sim, a.real.elapsed().as_secs_f64() * a.speed);
        *a = Anchor { real: Instant::now(), sim: now, speed, jumped: a.jumped };
        Ok(())
    }

    /// Jumps the clock forward (time never runs back), up to [`latest`].
    pub fn advance(&self, seconds: f64) -> Result<(), ClockError> {
        if !(0.0..=MAX_ADVANCE_SECONDS).contains(&seconds) {
            return Err(ClockError::Advance(seconds));
        }
        let mut a = self.inner.lock();
        let to = later(a.sim, seconds);
        // What the jump took, once the clock stops at its latest: credentials age by the rest.
        a.jumped += (to - a.sim).num_microseconds().map_or(seconds, |us| us as f64 / 1e6);
        a.sim = to;
        Ok(())
    }

    /// Real seconds that `sim_seconds` of simulated time take at the current speed.
    pub fn real_seconds(&self, sim_seconds: f64) -> f64 {
        let speed = self.speed();
        if speed <= 0.0 {
            f64::INFINITY
        } else {
            sim_seconds / speed
        }
    }
}

fn scaled(seconds: f64) -> ChronoDuration {
    ChronoDuration::microseconds((seconds * 1e6) as i64)
}

/// `seconds` after `t`, stopping at [`latest`].
fn later(t: DateTime<Utc>, seconds: f64) -> DateTime<Utc> {
    t.checked_add_signed(scaled(seconds)).map_or_else(latest, |to| to.min(latest()))
}

/// ISO-8601 with second precision, as DRS prints dates.
pub fn iso(t: DateTime<Utc>) -> String {
    // The same text as strftime's "%Y-%m-%dT%H:%M:%S%.3fZ", without parsing a format each call.
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An ISO-8601 duration such as `PT1H2M3S` (DRS `lagDuration`).
pub fn iso_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out += &format!("{h}H");
    }
    if m > 0 {
        out += &format!("{m}M");
    }
    if s > 0 || (h == 0 && m == 0) {
        out += &format!("{s}S");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_scales_and_advance_jumps() {
        let start = Utc::now();
        let c = SimClock::new(start, 1000.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let elapsed = (c.now() - start).num_milliseconds();
        assert!(elapsed >= 20_000, "1000x for 20 ms should pass >= 20 s, got {elapsed} ms");
        c.set_speed(0.0).unwrap();
        let frozen = c.now();
        c.advance(3600.0).unwrap();
        assert_eq!((c.now() - frozen).num_seconds(), 3600);
        assert_eq!((c.lifetime_now() - frozen).num_seconds(), 0, "jumps do not age credentials");
    }

    /// Jumps and speeds past what chrono can hold used to panic (`DateTime + TimeDelta
    /// overflowed`, found by `bench fuzz` through the control endpoint): out of range they
    /// are refused, and in range the clock stops at its latest instant.
    #[test]
    fn the_clock_refuses_or_stops_instead_of_overflowing() {
        let start = Utc::now();
        let c = SimClock::new(start, 0.0);
        for bad in [1e308, f64::INFINITY, f64::NAN, -1.0, 18446744073709551615.0] {
            assert!(c.advance(bad).is_err(), "{bad}");
            assert!(c.set_speed(bad).is_err(), "{bad}");
        }
        assert_eq!(c.now(), start, "a refused change changes nothing");
        for _ in 0..200 {
            c.advance(MAX_ADVANCE_SECONDS).unwrap();
        }
        assert_eq!(c.now(), latest());
        let aged = (c.lifetime_now() - start).num_milliseconds();
        assert_eq!(aged, 0, "what was jumped does not age credentials, even at the end");
        c.set_speed(MAX_SPEED).unwrap();
        assert_eq!(c.now(), latest());
    }

    #[test]
    fn durations_print_as_iso8601() {
        assert_eq!(iso_duration(0), "PT0S");
        assert_eq!(iso_duration(3723), "PT1H2M3S");
        assert_eq!(iso_duration(120), "PT2M");
    }
}

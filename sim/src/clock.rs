//! The simulator's virtual clock: real time scaled by a speed factor, plus manual jumps,
//! so that a 30-minute recovery can run in seconds.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use parking_lot::Mutex;
use std::time::Instant;

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
        a.sim + scaled(a.real.elapsed().as_secs_f64() * a.speed)
    }

    /// The clock without its jumps: what credential lifetimes run on. Clients are told when
    /// their credentials expire in real time at the clock's speed (`sts.rs`) and cannot see a
    /// jump, so a jump moves jobs along but does not age credentials.
    pub fn lifetime_now(&self) -> DateTime<Utc> {
        let jumped = self.inner.lock().jumped;
        self.now() - scaled(jumped)
    }

    pub fn speed(&self) -> f64 {
        self.inner.lock().speed
    }

    /// Changes the speed from now on; what already elapsed keeps its old rate.
    pub fn set_speed(&self, speed: f64) {
        let mut a = self.inner.lock();
        let now = a.sim + scaled(a.real.elapsed().as_secs_f64() * a.speed);
        *a = Anchor { real: Instant::now(), sim: now, speed: speed.max(0.0), jumped: a.jumped };
    }

    /// Jumps the clock forward (negative values are ignored: time never runs back).
    pub fn advance(&self, seconds: f64) {
        if seconds > 0.0 {
            let mut a = self.inner.lock();
            a.sim += scaled(seconds);
            a.jumped += seconds;
        }
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
        c.set_speed(0.0);
        let frozen = c.now();
        c.advance(3600.0);
        assert_eq!((c.now() - frozen).num_seconds(), 3600);
        assert_eq!((c.lifetime_now() - frozen).num_seconds(), 0, "jumps do not age credentials");
    }

    #[test]
    fn durations_print_as_iso8601() {
        assert_eq!(iso_duration(0), "PT0S");
        assert_eq!(iso_duration(3723), "PT1H2M3S");
        assert_eq!(iso_duration(120), "PT2M");
    }
}

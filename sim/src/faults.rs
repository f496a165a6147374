//! Injected faults: throttling (429 with Retry-After) per account x region x operation,
//! latency, outages (5xx), and crashes of the Nth matching call (refused before it is
//! applied, or applied with its reply lost). Set by the fleet file and changed at run time
//! through `/_sim/faults`.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Which calls a fault applies to; an absent field matches everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The service's signing name: `drs`, `sts`, `ec2`, `states`, `ssm`, `secretsmanager` or
    /// `dynamodb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

impl Selector {
    pub fn matches(&self, call: &CallKey) -> bool {
        let ok = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        ok(&self.account, &call.account)
            && ok(&self.region, &call.region)
            && ok(&self.service, &call.service)
            && ok(&self.operation, &call.operation)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallKey {
    pub account: String,
    pub region: String,
    pub service: String,
    pub operation: String,
}

/// A request-rate limit per distinct (account, region, operation) that the selector matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttle {
    #[serde(flatten)]
    pub on: Selector,
    pub requests_per_second: f64,
    #[serde(default)]
    pub burst: Option<f64>,
    /// Retry-After (seconds) sent with each 429; default 1.
    #[serde(default = "one_second")]
    pub retry_after_seconds: u64,
    /// Rate limit per account x region for all operations together instead of per operation.
    #[serde(default)]
    pub per_partition: bool,
}

fn one_second() -> u64 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    #[serde(flatten)]
    pub on: Selector,
    pub millis: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outage {
    #[serde(flatten)]
    pub on: Selector,
    /// HTTP status to answer with (500 or 503 are usual).
    #[serde(default = "s503")]
    pub status: u16,
    /// Fail only this many matching calls, then recover; absent: until removed.
    #[serde(default)]
    pub count: Option<u64>,
}

fn s503() -> u16 {
    503
}

/// Where a crash falls relative to the call's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CrashPoint {
    /// The call is refused with the protocol's internal error (500) and changes nothing.
    Before,
    /// The call is applied, then the connection is closed without a reply: the client sees
    /// an I/O failure after the write took effect (and the SDK's retry sends it again).
    Lost,
}

/// A crash of the `nth` matching call and of the `count - 1` matching calls after it, for
/// crash-point tests: can the caller tell a refused write from an applied one whose answer
/// it never got? Counted among calls that reach the service (authenticated, not throttled,
/// not in an outage, permitted by the caller's role).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Crash {
    #[serde(flatten)]
    pub on: Selector,
    pub at: CrashPoint,
    /// The first matching call that crashes (1: the first); default 1.
    #[serde(default = "one")]
    pub nth: u64,
    /// How many matching calls crash, from the nth on; default 1.
    #[serde(default = "one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

/// A throttling storm: one matching call in `every` is answered 429 (every 3: a third),
/// counted per storm, so a run is the same each time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Storm {
    #[serde(flatten)]
    pub on: Selector,
    pub every: u64,
    /// Retry-After (seconds) sent with each 429; default 0.
    #[serde(default)]
    pub retry_after_seconds: u64,
}

/// A fault set that cannot be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultError {
    /// `nth` counts calls from 1.
    #[error("crashes[{index}].nth must be at least 1 (1 is the first matching call)")]
    ZeroNth { index: usize },
    /// A crash that fires on no call is a mistake, not a way to disable it (remove it).
    #[error("crashes[{index}].count must be at least 1")]
    ZeroCount { index: usize },
    /// One call in zero means nothing.
    #[error("storms[{index}].every must be at least 1")]
    ZeroEvery { index: usize },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSet {
    #[serde(default)]
    pub throttle: Vec<Throttle>,
    #[serde(default)]
    pub latency: Vec<Latency>,
    #[serde(default)]
    pub outages: Vec<Outage>,
    #[serde(default)]
    pub crashes: Vec<Crash>,
    #[serde(default)]
    pub storms: Vec<Storm>,
}

impl FaultSet {
    /// Checks what the types cannot say: counts that start at 1.
    pub fn validate(&self) -> Result<(), FaultError> {
        for (index, c) in self.crashes.iter().enumerate() {
            if c.nth == 0 {
                return Err(FaultError::ZeroNth { index });
            }
            if c.count == 0 {
                return Err(FaultError::ZeroCount { index });
            }
        }
        for (index, s) in self.storms.iter().enumerate() {
            if s.every == 0 {
                return Err(FaultError::ZeroEvery { index });
            }
        }
        Ok(())
    }
}

/// What the faults decide for one call.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Pass,
    Throttled { retry_after_seconds: u64 },
    Outage { status: u16 },
}

/// The fault set plus its run-time state (token buckets, outage and crash counters).
pub struct Faults {
    inner: Mutex<State>,
}

struct State {
    set: FaultSet,
    buckets: HashMap<(usize, String), Bucket>,
    outage_hits: HashMap<usize, u64>,
    /// Matching calls seen so far, per crash.
    crash_seen: HashMap<usize, u64>,
    /// Matching calls seen so far, per storm.
    storm_seen: HashMap<usize, u64>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Faults {
    pub fn new(set: FaultSet) -> Self {
        Self { inner: Mutex::new(State::new(set)) }
    }

    pub fn get(&self) -> FaultSet {
        self.inner.lock().set.clone()
    }

    /// Replaces every fault and forgets their run-time state.
    pub fn replace(&self, set: FaultSet) {
        *self.inner.lock() = State::new(set);
    }

    /// The injected latency for a call (the largest matching one).
    pub fn latency(&self, call: &CallKey) -> Option<Duration> {
        let s = self.inner.lock();
        s.set.latency.iter().filter(|l| l.on.matches(call)).map(|l| Duration::from_millis(l.millis)).max()
    }

    pub fn check(&self, call: &CallKey) -> Verdict {
        let mut s = self.inner.lock();
        if let Some(status) = s.outage(call) {
            return Verdict::Outage { status };
        }
        let State { set, buckets, storm_seen, .. } = &mut *s;
        for (i, storm) in set.storms.iter().enumerate().filter(|(_, st)| st.on.matches(call) && st.every > 0) {
            let seen = storm_seen.entry(i).or_default();
            *seen += 1;
            if *seen % storm.every == 0 {
                return Verdict::Throttled { retry_after_seconds: storm.retry_after_seconds };
            }
        }
        for (i, t) in set.throttle.iter().enumerate() {
            if !t.on.matches(call) || t.requests_per_second <= 0.0 {
                continue;
            }
            let key = if t.per_partition {
                format!("{}/{}", call.account, call.region)
            } else {
                format!("{}/{}/{}", call.account, call.region, call.operation)
            };
            // A burst below 1 never admits a call: a partition throttled until the fault is lifted.
            let burst = t.burst.unwrap_or(t.requests_per_second.max(1.0));
            let now = Instant::now();
            let b = buckets.entry((i, key)).or_insert(Bucket { tokens: burst, at: now });
            b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * t.requests_per_second).min(burst);
            b.at = now;
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
            } else {
                return Verdict::Throttled { retry_after_seconds: t.retry_after_seconds };
            }
        }
        Verdict::Pass
    }

    /// The status of an outage that fails `call`, counted as `check` counts it, with no
    /// throttling: for what a service reads of another account on the caller's behalf (DRS
    /// reading a staging account), which the caller's own rate limits do not meter.
    pub fn outage(&self, call: &CallKey) -> Option<u16> {
        self.inner.lock().outage(call)
    }

    /// Whether this call crashes, and where. Every matching crash counts the call; the
    /// first one whose window (`nth` .. `nth + count`) holds it decides.
    pub fn crash(&self, call: &CallKey) -> Option<CrashPoint> {
        let mut s = self.inner.lock();
        let State { set, crash_seen, .. } = &mut *s;
        let mut verdict = None;
        for (i, c) in set.crashes.iter().enumerate().filter(|(_, c)| c.on.matches(call)) {
            let seen = crash_seen.entry(i).or_default();
            *seen += 1;
            if verdict.is_none() && (c.nth..c.nth.saturating_add(c.count)).contains(seen) {
                verdict = Some(c.at);
            }
        }
        verdict
    }
}

impl State {
    /// The status of the first outage that still fails `call`, counting the hit.
    fn outage(&mut self, call: &CallKey) -> Option<u16> {
        let State { set, outage_hits, .. } = self;
        for (i, o) in set.outages.iter().enumerate().filter(|(_, o)| o.on.matches(call)) {
            let hits = outage_hits.entry(i).or_default();
            if o.count.is_none_or(|c| *hits < c) {
                *hits += 1;
                return Some(o.status);
            }
        }
        None
    }

    fn new(set: FaultSet) -> State {
        State {
            set,
            buckets: HashMap::new(),
            outage_hits: HashMap::new(),
            crash_seen: HashMap::new(),
            storm_seen: HashMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(op: &str) -> CallKey {
        CallKey { account: "1".into(), region: "r".into(), service: "drs".into(), operation: op.into() }
    }

    #[test]
    fn bucket_throttles_past_burst_and_outage_recovers_after_count() {
        let f = Faults::new(FaultSet {
            throttle: vec![Throttle {
                on: Selector { operation: Some("A".into()), ..Default::default() },
                requests_per_second: 0.001,
                burst: Some(2.0),
                retry_after_seconds: 3,
                per_partition: false,
            }],
            outages: vec![Outage {
                on: Selector { operation: Some("B".into()), ..Default::default() },
                status: 503,
                count: Some(1),
            }],
            ..Default::default()
        });
        assert_eq!(f.check(&key("A")), Verdict::Pass);
        assert_eq!(f.check(&key("A")), Verdict::Pass);
        assert_eq!(f.check(&key("A")), Verdict::Throttled { retry_after_seconds: 3 });
        assert_eq!(f.check(&key("B")), Verdict::Outage { status: 503 });
        assert_eq!(f.check(&key("B")), Verdict::Pass);
    }

    #[test]
    fn crash_fires_from_the_nth_matching_call_count_times() {
        let f = Faults::new(FaultSet {
            crashes: vec![Crash {
                on: Selector { operation: Some("A".into()), ..Default::default() },
                at: CrashPoint::Lost,
                nth: 2,
                count: 2,
            }],
            ..Default::default()
        });
        let seen: Vec<_> = (0..5).map(|_| f.crash(&key("A"))).collect();
        assert_eq!(seen, [None, Some(CrashPoint::Lost), Some(CrashPoint::Lost), None, None]);
        assert_eq!(f.crash(&key("B")), None, "another operation is not counted");
    }

    #[test]
    fn a_storm_throttles_one_call_in_every() {
        let set: FaultSet = serde_json::from_value(serde_json::json!({"storms": [{"service": "drs", "every": 3}]})).unwrap();
        let f = Faults::new(set);
        let seen: Vec<bool> = (0..6).map(|_| f.check(&key("A")) != Verdict::Pass).collect();
        assert_eq!(seen, [false, false, true, false, false, true]);
        let zero: FaultSet = serde_json::from_value(serde_json::json!({"storms": [{"every": 0}]})).unwrap();
        assert_eq!(zero.validate(), Err(FaultError::ZeroEvery { index: 0 }));
    }

    #[test]
    fn crashes_count_from_one() {
        let set: FaultSet = serde_json::from_value(serde_json::json!({"crashes": [
            {"operation": "A", "at": "before"},
            {"operation": "B", "at": "lost", "nth": 0}
        ]}))
        .unwrap();
        assert_eq!((set.crashes[0].nth, set.crashes[0].count), (1, 1), "defaults: the first matching call, once");
        assert_eq!(set.validate(), Err(FaultError::ZeroNth { index: 1 }));
    }
}

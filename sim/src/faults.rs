//! Injected faults: throttling (429 with Retry-After) per account x region x operation,
//! latency, and outages (5xx). Set by the fleet file and changed at run time through
//! `/_sim/faults`.

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
    /// `drs`, `sts`, `ec2` or `states`.
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSet {
    #[serde(default)]
    pub throttle: Vec<Throttle>,
    #[serde(default)]
    pub latency: Vec<Latency>,
    #[serde(default)]
    pub outages: Vec<Outage>,
}

/// What the faults decide for one call.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Pass,
    Throttled { retry_after_seconds: u64 },
    Outage { status: u16 },
}

/// The fault set plus its run-time state (token buckets, outage counters).
pub struct Faults {
    inner: Mutex<State>,
}

struct State {
    set: FaultSet,
    buckets: HashMap<(usize, String), Bucket>,
    outage_hits: HashMap<usize, u64>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Faults {
    pub fn new(set: FaultSet) -> Self {
        Self { inner: Mutex::new(State { set, buckets: HashMap::new(), outage_hits: HashMap::new() }) }
    }

    pub fn get(&self) -> FaultSet {
        self.inner.lock().set.clone()
    }

    /// Replaces every fault and forgets their run-time state.
    pub fn replace(&self, set: FaultSet) {
        let mut s = self.inner.lock();
        *s = State { set, buckets: HashMap::new(), outage_hits: HashMap::new() };
    }

    /// The injected latency for a call (the largest matching one).
    pub fn latency(&self, call: &CallKey) -> Option<Duration> {
        let s = self.inner.lock();
        s.set.latency.iter().filter(|l| l.on.matches(call)).map(|l| Duration::from_millis(l.millis)).max()
    }

    pub fn check(&self, call: &CallKey) -> Verdict {
        let mut s = self.inner.lock();
        let State { set, buckets, outage_hits } = &mut *s;
        for (i, o) in set.outages.iter().enumerate() {
            if o.on.matches(call) {
                let hits = outage_hits.entry(i).or_default();
                if o.count.is_none_or(|c| *hits < c) {
                    *hits += 1;
                    return Verdict::Outage { status: o.status };
                }
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
}

//! What one source server shows of its own readiness, from what discovery read: its
//! replication state, its lag against the resource's RPO target, and selection tags that are
//! on its source EC2 instance only (in a disaster of the source region, EC2 cannot be read,
//! so such a server is not selected).

use super::verdict::{Check, Reason, Verdict};
use crate::discovery::DiscoveredServer;
use std::collections::BTreeSet;

/// The verdict a replication state gives: data is current only in CONTINUOUS; a server
/// catching up (BACKLOG, CREATING_SNAPSHOT, RESCAN) can be launched from its last snapshot;
/// one that never finished its first sync, or whose replication stopped, cannot be trusted.
pub fn replication(s: &DiscoveredServer) -> Option<Reason> {
    let state = s.replication_state.as_deref();
    let (verdict, why) = match state {
        Some("CONTINUOUS") => return None,
        Some("BACKLOG" | "CREATING_SNAPSHOT" | "RESCAN") => {
            (Verdict::NeedsVerification, "replication is catching up: a recovery now launches older data")
        }
        Some("INITIATING" | "INITIAL_SYNC") => (Verdict::NotReady, "the initial sync has not finished: nothing to recover yet"),
        Some("STALLED" | "DISCONNECTED" | "STOPPED" | "PAUSED") => {
            (Verdict::NotReady, "replication is not running: the recovery point ages")
        }
        Some(_) => (Verdict::NotReady, "an unknown replication state"),
        None => (Verdict::NotReady, "DRS reports no replication state"),
    };
    Some(Reason::new(Check::Replication, verdict, format!("dataReplicationState {}: {why}", state.unwrap_or("none"))))
}

/// Lag against the objective: over it, the data a recovery now would launch is older than
/// acceptable. Without an objective, the lag is shown but not judged.
pub fn lag(s: &DiscoveredServer, target_rpo_minutes: Option<u64>) -> Option<Reason> {
    let (lag, target) = (s.lag_seconds?, target_rpo_minutes?);
    (lag > target * 60).then(|| {
        Reason::new(
            Check::Lag,
            Verdict::NotReady,
            format!("replication lag {} is over the RPO target of {target} minutes (TargetRpoMinutes)", minutes(lag)),
        )
    })
}

/// `3m 20s`, `2h 5m`.
pub fn minutes(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s => format!("{}m {}s", s / 60, s % 60),
    }
}

/// Selection tag keys (the resource's and its waves') the server matches by its source
/// instance's EC2 tags while its DRS source server lacks them (or holds another value):
/// `drs-orch tags sync` copies them over.
pub fn ec2_only_tags(s: &DiscoveredServer, keys: &BTreeSet<String>) -> Option<Reason> {
    let ec2 = &s.instance.as_ref()?.tags;
    let only: Vec<&str> =
        keys.iter().filter(|k| ec2.get(*k).is_some_and(|v| s.tags.get(*k) != Some(v))).map(String::as_str).collect();
    (!only.is_empty()).then(|| {
        Reason::new(
            Check::Tags,
            Verdict::NotReady,
            format!(
                "selection tags {} are on the source EC2 instance only, not on the DRS source server: with its \
                 source region down it is not selected (tags-sync copies them)",
                only.join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::SourceInstance;

    fn server(state: &str, lag: u64) -> DiscoveredServer {
        DiscoveredServer { replication_state: Some(state.into()), lag_seconds: Some(lag), ..Default::default() }
    }

    #[test]
    fn continuous_is_ready_stalled_is_not_and_catching_up_needs_verification() {
        assert_eq!(replication(&server("CONTINUOUS", 0)), None);
        assert_eq!(replication(&server("STALLED", 0)).map(|r| r.verdict), Some(Verdict::NotReady));
        assert_eq!(replication(&server("BACKLOG", 0)).map(|r| r.verdict), Some(Verdict::NeedsVerification));
        assert_eq!(replication(&DiscoveredServer::default()).map(|r| r.verdict), Some(Verdict::NotReady));
    }

    #[test]
    fn lag_is_judged_only_against_a_target() {
        assert_eq!(lag(&server("CONTINUOUS", 3600), None), None);
        assert_eq!(lag(&server("CONTINUOUS", 900), Some(15)), None);
        let r = lag(&server("CONTINUOUS", 901), Some(15)).expect("over the target");
        assert!(r.message.contains("15m 1s is over the RPO target of 15 minutes"), "{}", r.message);
    }

    #[test]
    fn tags_on_ec2_only_are_named() {
        let tags = |t: &[(&str, &str)]| t.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut s = server("CONTINUOUS", 0);
        s.tags = tags(&[("Tier", "web")]);
        s.instance = Some(SourceInstance { tags: tags(&[("Tier", "web"), ("Env", "prod")]), ..Default::default() });
        let keys: BTreeSet<String> = ["Tier".to_string(), "Env".to_string()].into();
        let r = ec2_only_tags(&s, &keys).expect("Env is on EC2 only");
        assert!(r.message.starts_with("selection tags Env are"), "{}", r.message);
        s.tags.insert("Env".into(), "prod".into());
        assert_eq!(ec2_only_tags(&s, &keys), None);
    }
}

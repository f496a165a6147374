//! Recovery snapshots (point-in-time): DescribeRecoverySnapshots, and the snapshot a
//! StartRecovery names. A server's snapshots are never stored: they follow from its
//! replication configuration's `pitPolicy` (by default every 10 minutes for the last hour,
//! hourly for the last day, daily for the last 7 days, as DRS keeps them), the time its
//! replication started, its lag and the simulator's clock, so a fleet of thousands costs
//! nothing until a server's snapshots are asked for. A snapshot is due at a multiple of its
//! rule's interval (UTC) and taken a few seconds later; its id is derived from the server and
//! the time it was due, so it is the same on every call.

use super::input::{self, invalid};
use super::model::SourceServer;
use super::page::page;
use super::partition::with_partition;
use crate::clock::iso;
use crate::ctx::Ctx;
use crate::protocol::{ApiError, Reply};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// Replication states in which no snapshot exists yet: the initial sync has not finished.
const BEFORE_FIRST_SNAPSHOT: &[&str] = &["INITIATING", "INITIAL_SYNC"];
/// The most snapshots one rule keeps here, whatever its retention and interval say.
const MAX_PER_RULE: i64 = 10_000;
/// The longest a snapshot is taken after it was due, in seconds.
const MAX_DELAY_S: u64 = 9;

/// One recovery snapshot of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: String,
    pub source_server_id: String,
    /// When the policy had it due.
    pub expected: DateTime<Utc>,
    /// When it was taken.
    pub taken: DateTime<Utc>,
    pub ebs_snapshot: String,
}

/// The RecoverySnapshot shape of the service model.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct View {
    #[serde(rename = "snapshotID")]
    snapshot_id: String,
    #[serde(rename = "sourceServerID")]
    source_server_id: String,
    expected_timestamp: String,
    timestamp: String,
    ebs_snapshots: [String; 1],
}

impl Snapshot {
    fn view(&self) -> View {
        View {
            snapshot_id: self.id.clone(),
            source_server_id: self.source_server_id.clone(),
            expected_timestamp: iso(self.expected),
            timestamp: iso(self.taken),
            ebs_snapshots: [self.ebs_snapshot.clone()],
        }
    }
}

/// `pit-` and 17 letters or digits, as the model's RecoverySnapshotID.
pub fn is_snapshot_id(s: &str) -> bool {
    s.len() == 21 && s.starts_with("pit-") && s[4..].chars().all(|c| c.is_ascii_alphanumeric())
}

/// One rule of a `pitPolicy`, in seconds.
struct Rule {
    interval: i64,
    retention: i64,
}

/// The enabled rules of the server's `pitPolicy` (a rule the simulator cannot read is left out).
fn rules(s: &SourceServer) -> Vec<Rule> {
    let unit = |u: &str| match u {
        "MINUTE" => Some(60),
        "HOUR" => Some(3_600),
        "DAY" => Some(86_400),
        _ => None,
    };
    let Some(Value::Array(policy)) = s.replication_config.get("pitPolicy") else { return vec![] };
    policy
        .iter()
        .filter(|r| r.get("enabled").and_then(Value::as_bool).unwrap_or(true))
        .filter_map(|r| {
            let unit = unit(r.get("units")?.as_str()?)?;
            let interval = r.get("interval")?.as_i64().filter(|n| *n > 0)? * unit;
            let retention = r.get("retentionDuration")?.as_i64().filter(|n| *n > 0)? * unit;
            Some(Rule { interval, retention })
        })
        .collect()
}

/// The server's snapshots at `now`, oldest first.
pub fn of_server(s: &SourceServer, now: DateTime<Utc>) -> Vec<Snapshot> {
    if BEFORE_FIRST_SNAPSHOT.contains(&s.replication_state.as_str()) {
        return vec![];
    }
    // Nothing after the last point replicated is in any snapshot.
    let newest = (now - Duration::seconds(s.lag_seconds as i64)).timestamp();
    let oldest = s.replicating_since.timestamp();
    let mut due: BTreeSet<i64> = BTreeSet::new();
    for rule in rules(s) {
        let after = now.timestamp() - rule.retention;
        let mut t = newest.div_euclid(rule.interval) * rule.interval;
        let mut kept = 0;
        while t > after && t >= oldest && kept < MAX_PER_RULE {
            due.insert(t);
            t -= rule.interval;
            kept += 1;
        }
    }
    due.into_iter()
        .filter_map(|t| {
            let seed = format!("{}/{t}", s.id);
            let delay = u64::from_str_radix(&crate::ids::stable_hex(&seed, 4), 16).unwrap_or(0) % (MAX_DELAY_S + 1);
            let expected = DateTime::from_timestamp(t, 0)?;
            let taken = expected + Duration::seconds(delay as i64);
            (taken <= now).then(|| Snapshot {
                id: format!("pit-{}", crate::ids::stable_alnum(&seed, 17)),
                source_server_id: s.id.clone(),
                expected,
                taken,
                ebs_snapshot: format!("snap-{}", crate::ids::stable_hex(&format!("ebs/{seed}"), 17)),
            })
        })
        .collect()
}

/// The snapshot `id` of server `s`, if it is one of its snapshots kept at `now`.
pub fn find(s: &SourceServer, id: &str, now: DateTime<Utc>) -> Option<Snapshot> {
    of_server(s, now).into_iter().find(|snap| snap.id == id)
}

fn date(filters: &Value, field: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let at = format!("filters.{field}");
    let Some(text) = input::opt_str(filters, field).map_err(|_| invalid(&at, "must be a string"))? else { return Ok(None) };
    // The model's ISO8601DatetimeString: 19 to 32 characters, in UTC ("Z").
    let well_formed = (19..=32).contains(&text.len()) && text.ends_with('Z');
    match text.parse::<DateTime<Utc>>() {
        Ok(t) if well_formed => Ok(Some(t)),
        _ => Err(invalid(&at, "must be an ISO-8601 date-time in UTC, such as 2026-12-01T02:10:00Z")),
    }
}

/// DescribeRecoverySnapshots: one server's snapshots within the filters' dates (inclusive,
/// on the time each was taken), in the order asked (ASC by default), a page at a time.
pub fn describe(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let id = input::req_str(body, "sourceServerID")?;
    if !input::is_source_server_id(id) {
        return Err(invalid("sourceServerID", "must match s-[0-9a-zA-Z]{17}"));
    }
    let filters = match body.get("filters") {
        None | Some(Value::Null) => Value::Null,
        Some(f @ Value::Object(_)) => f.clone(),
        Some(_) => return Err(invalid("filters", "must be an object")),
    };
    let (from, to) = (date(&filters, "fromDateTime")?, date(&filters, "toDateTime")?);
    let descending = match input::opt_str(body, "order")? {
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => return Err(invalid("order", &format!("'{other}' is not one of ASC, DESC"))),
    };
    with_partition(ctx, |p| {
        // The model lists no ResourceNotFoundException for this operation: an unknown server
        // is a request that does not validate.
        let s = p.drs.servers.get(id).ok_or_else(|| invalid("sourceServerID", &format!("source server {id} does not exist")))?;
        let mut all: Vec<Snapshot> = of_server(s, ctx.now())
            .into_iter()
            .filter(|snap| from.is_none_or(|f| snap.taken >= f) && to.is_none_or(|t| snap.taken <= t))
            .collect();
        if descending {
            all.reverse();
        }
        page(&all, body, Snapshot::view)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The demo's first server in `state`, replicating since `since`.
    fn server(state: &str, lag: u64, since: DateTime<Utc>) -> SourceServer {
        let mut world = crate::Fleet::demo();
        world.servers.truncate(1);
        world.servers[0].replication.state = state.into();
        world.servers[0].replication.lag_seconds = lag;
        let w = crate::world::World::new(world);
        let part = w.partitions().into_iter().find(|p| !p.lock().drs.servers.is_empty()).unwrap();
        let mut s = part.lock().drs.servers.values().next().unwrap().clone();
        s.replicating_since = since;
        s
    }

    #[test]
    fn the_default_policy_keeps_an_hour_of_ten_minutes_a_day_of_hours_and_a_week_of_days() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 2, 35, 0).unwrap();
        let s = server("CONTINUOUS", 0, now - Duration::days(30));
        let snaps = of_server(&s, now);
        let age = |snap: &Snapshot| (now - snap.expected).num_minutes();
        // 02:30 .. 01:40 (6), hours 01:00 .. (24 within a day, 02:00 and 01:00 counted once), days.
        let recent: Vec<i64> = snaps.iter().map(age).filter(|a| *a < 60).collect();
        assert_eq!(recent.len(), 6, "{recent:?}");
        let hourly = snaps.iter().filter(|s| (60..1440).contains(&age(s))).count();
        assert_eq!(hourly, 23);
        let daily = snaps.iter().filter(|s| age(s) >= 1440).count();
        assert_eq!(daily, 6, "midnights within 7 days, today's counted among the hours");
        assert!(snaps.windows(2).all(|w| w[0].taken < w[1].taken), "oldest first");
        assert!(snaps.iter().all(|s| is_snapshot_id(&s.id) && s.taken >= s.expected && s.taken <= now));
        // The same snapshots on every call: their ids are derived, not drawn.
        assert_eq!(of_server(&s, now), snaps);
        assert_eq!(find(&s, &snaps[3].id, now), Some(snaps[3].clone()));
    }

    #[test]
    fn none_before_replication_started_or_after_the_last_replicated_point() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 2, 35, 0).unwrap();
        let young = server("CONTINUOUS", 0, now - Duration::minutes(23));
        let snaps = of_server(&young, now);
        assert!(snaps.iter().all(|s| s.expected >= young.replicating_since), "{snaps:?}");
        assert_eq!(snaps.len(), 2, "02:20 and 02:30 only");
        let lagging = server("STALLED", 3 * 3600, now - Duration::days(30));
        assert!(of_server(&lagging, now).last().unwrap().expected <= now - Duration::hours(3));
        assert!(of_server(&server("INITIAL_SYNC", 0, now - Duration::days(30)), now).is_empty());
    }
}

//! What the run ledger holds for one run, as typed records that `serde_dynamo` maps to
//! DynamoDB items (no hand-written attribute maps). A run is a resource's identity (its name
//! and canonical selection, `DrsResource::identity`) plus an execution id: the partition key
//! is the resource, the sort key the execution, so one Query lists a resource's runs.

use crate::error::ErrorCode;
use crate::resource::Mode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The record layout; a record of another version is refused by name, never guessed at.
pub const RECORD_VERSION: u32 = 1;
/// Messages kept in the record are cut here: an end's message can be a long list of servers,
/// and DynamoDB caps an item at 400 KB.
const MAX_MESSAGE: usize = 4096;

/// One run: which resource (by identity) and which execution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunKey {
    /// `DrsResource::identity`: the resource's name and canonical selection, hashed.
    pub identity: String,
    pub execution: String,
}

impl RunKey {
    pub fn new(identity: &str, execution: &str) -> RunKey {
        RunKey { identity: identity.to_owned(), execution: execution.to_owned() }
    }

    /// The partition key: every run of one resource.
    pub fn pk(&self) -> String {
        resource_pk(&self.identity)
    }

    /// The sort key of the run's record.
    pub fn sk(&self) -> String {
        format!("{RUN_PREFIX}{}", self.execution)
    }
}

/// The sort keys of run records start with this (later records of a run get their own).
pub const RUN_PREFIX: &str = "run#";

pub fn resource_pk(identity: &str) -> String {
    format!("resource#{identity}")
}

/// A run's record. Written whole once, when activate opens the run; after that only by
/// conditional updates of one field each (the end, the cleanup), so that a decision made
/// once is never overwritten by a later or concurrent call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub pk: String,
    pub sk: String,
    #[serde(rename = "v")]
    pub version: u32,
    /// The resource's name (its identity hashes it with the selection).
    pub resource: String,
    pub identity: String,
    pub execution: String,
    /// SHA-256 of the resource's parameters as canonical JSON: a call for the same run with
    /// other parameters is not this run.
    pub params_digest: String,
    /// `DrsResource::definition_digest`: the parameters without what differs between runs of
    /// one definition (ExecutionId, Mode). Readiness compares a resource with the last
    /// successful drill's; records written before it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition_digest: Option<String>,
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<String>,
    pub started: DateTime<Utc>,
    /// Jobs created from here on are searched for the run's tags.
    pub jobs_from: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// How many servers the plan holds, in how many waves (for people reading the table).
    pub servers: usize,
    pub waves: usize,
    /// The partitions the plan reaches (`account/region`): cleanup looks in them whatever the
    /// configuration names by then.
    #[serde(default)]
    pub partitions: Vec<String>,
    /// The approvals asked for, by wave index: once a wave's gate is asked (its PauseBefore,
    /// or a hook's pause), the wave waits for its answer, whatever later checks' hooks say.
    #[serde(default)]
    pub gates: BTreeMap<String, GateAsked>,
    /// Servers given up (busy in another run's job past busyWaitMinutes), by
    /// `<wave index>/<source server id>`: counted failed, and never started later in the run.
    #[serde(default)]
    pub given_up: BTreeMap<String, GivenUp>,
    /// Each wave's crossing with hooks, by wave index: decided once, whatever the hooks
    /// answer at a later check.
    #[serde(default)]
    pub crossings: BTreeMap<String, Crossing>,
    /// The answers to the gates, by wave index: once read, a later check (in another region
    /// too) follows the record rather than the approval execution.
    #[serde(default)]
    pub answers: BTreeMap<String, GateAnswer>,
    /// Waves judged completed, by wave index: the wave's progress as the check that found it
    /// completed saw it (JSON). A later check takes it as it is: a partition that cannot be
    /// read then does not take a completed wave back to running, nor its servers to failed.
    #[serde(default)]
    pub completed: BTreeMap<String, String>,
    /// A hook's delay before a wave, by wave index: not before when. Served once.
    #[serde(default)]
    pub holds: BTreeMap<String, DateTime<Utc>>,
    /// Servers found busy in another run's job, by `<wave index>/<source server id>`: since
    /// when (the first check that found each busy).
    #[serde(default)]
    pub busy: BTreeMap<String, DateTime<Utc>>,
    /// Partitions the run could not reach, by payload index: since when (the first check that
    /// found each down). Removed when it answers again, so a later outage has its own grace.
    #[serde(default)]
    pub down: BTreeMap<String, DateTime<Utc>>,
    /// `<wave index>/<partition index>` whose servers were counted failed past the grace:
    /// when. No later check starts them.
    #[serde(default)]
    pub lost: BTreeMap<String, DateTime<Utc>>,
    /// Recovery snapshots chosen when the run was planned that DRS no longer kept when their
    /// wave started, by source server id: what replaced each (`pitr::recheck`). Decided once.
    #[serde(default)]
    pub repointed: BTreeMap<String, Repointed>,
    /// Set once, by the first call that finds the run ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<RunEnd>,
    /// What cleanup found of the run, as its last pass saw it.
    #[serde(flatten)]
    pub cleanup: CleanupState,
}

/// A run's cleanup, as the last cleanup pass that looked at it saw it. Top-level attributes
/// (not one map) so that each pass sets its own without a read: `cleanupStarted` and
/// `cleanupDone` keep their first time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupState {
    /// The first pass that looked at the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_started: Option<DateTime<Utc>>,
    /// The last pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_checked: Option<DateTime<Utc>>,
    /// The run's recovery instances the last pass found (terminating or not).
    #[serde(default)]
    pub cleanup_remaining: usize,
    /// Terminate jobs cleanup started for the run's instances, oldest first (DRS ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleanup_jobs: Vec<String>,
    /// What kept the last pass from being sure nothing is left: the run's partitions that
    /// could not be read, its launch jobs still running.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleanup_open: Vec<String>,
    /// When a pass first found nothing of the run left, having read all its partitions;
    /// removed if a later pass finds something again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_done: Option<DateTime<Utc>>,
}

impl CleanupState {
    /// Its attributes, as the record holds them (a test checks the list is whole).
    pub const ATTRIBUTES: [&str; 6] =
        ["cleanupStarted", "cleanupChecked", "cleanupRemaining", "cleanupJobs", "cleanupOpen", "cleanupDone"];
}

/// What one cleanup pass saw of one run (`Ledger::record_cleanup`).
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupPass {
    pub at: DateTime<Utc>,
    pub remaining: usize,
    /// Terminate jobs this pass started for the run's instances.
    pub jobs: Vec<String>,
    /// What kept it from being sure: partitions not read, launch jobs still running.
    pub open: Vec<String>,
}

impl CleanupPass {
    /// Nothing of the run left, every partition of it read.
    pub fn done(&self) -> bool {
        self.remaining == 0 && self.open.is_empty()
    }
}

/// What `Ledger::runs_of` reads of each run: enough to clean it, not its wave records (a
/// resource drilled weekly has many runs, each record up to 400 KB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunListing {
    pub execution: String,
    pub mode: Mode,
    /// As `RunRecord::definition_digest` (none in records written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition_digest: Option<String>,
    pub started: DateTime<Utc>,
    /// The run's TimeoutMinutes from its start: a run with no end past it was abandoned (its
    /// parent's task ended, its checks stopped); before it, it may still be going.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    pub partitions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<RunEnd>,
    #[serde(flatten)]
    pub cleanup: CleanupState,
}

impl RunListing {
    /// Not ended, and its deadline not passed at `now`: the run may still launch servers.
    pub fn going(&self, now: DateTime<Utc>) -> bool {
        self.end.is_none() && self.deadline.is_some_and(|d| now <= d)
    }

    /// The attributes a listing reads (a Query's projection).
    pub const ATTRIBUTES: [&str; 14] = [
        "v",
        "execution",
        "mode",
        "definitionDigest",
        "started",
        "deadline",
        "partitions",
        "end",
        "cleanupStarted",
        "cleanupChecked",
        "cleanupRemaining",
        "cleanupJobs",
        "cleanupOpen",
        "cleanupDone",
    ];
}

/// A server given up in a wave, as the check that gave it up saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GivenUp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `account/region`.
    pub partition: String,
    pub reason: String,
}

/// A server's recovery snapshot replaced when its wave started: the one chosen at planning
/// (`was`), gone by then, and the newest DRS still kept from before the time (`now`), or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repointed {
    pub was: crate::pitr::RecoveryPoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<crate::pitr::RecoveryPoint>,
    /// Why none replaced it (when `now` is none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
    pub at: DateTime<Utc>,
}

/// The key of a wave's server in `given_up` and `busy`: `<wave index>/<source server id>`.
pub fn wave_server_key(w: usize, source_server_id: &str) -> String {
    format!("{w}/{source_server_id}")
}

/// How a wave crossed its hooks: the servers they left out (id -> the hook), their decisions
/// as the wave's jobs carry them, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Crossing {
    #[serde(default)]
    pub skip: BTreeMap<String, String>,
    #[serde(default)]
    pub decisions: String,
    /// The components that decided: hook name -> SHA-256 of its component.
    #[serde(default)]
    pub components: BTreeMap<String, String>,
    pub at: DateTime<Utc>,
}

/// How a gate was answered: approved or not, what the approval execution said, when read,
/// and who decided when (records written before it have none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateAnswer {
    pub approved: bool,
    #[serde(default)]
    pub detail: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

/// How an approval execution was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Approved,
    Rejected,
    /// Nobody answered within the approval's timeout.
    TimedOut,
    /// Stopped without an answer.
    Aborted,
    /// Not answered yet.
    Waiting,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
            Decision::TimedOut => "timed out",
            Decision::Aborted => "aborted",
            Decision::Waiting => "waiting",
        }
    }
}

/// Who decided a gate and when, as the approval execution gives them: the approver named in
/// its output (`{"approved": true, "by": ...}`, as `drs-orch approve` sends it) or at the end
/// of its rejection's cause (`... (by ...)`), and its stop date. The approver is outside text:
/// kept plain and short here, escaped by each rendering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// When it was answered (the approval execution's stop date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// The approval execution's ARN.
    pub approval: String,
    /// A rejection's reason, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An approval asked for before a wave: why, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateAsked {
    pub reason: String,
    pub at: DateTime<Utc>,
}

impl RunRecord {
    pub fn key(&self) -> RunKey {
        RunKey::new(&self.identity, &self.execution)
    }

    /// How wave `w` crossed its hooks, once decided.
    pub fn crossing(&self, w: usize) -> Option<&Crossing> {
        self.crossings.get(&w.to_string())
    }

    /// How wave `w`'s gate was answered, once read.
    pub fn answer(&self, w: usize) -> Option<&GateAnswer> {
        self.answers.get(&w.to_string())
    }

    /// Wave `w`'s progress when it was judged completed (JSON), if it was.
    pub fn completed(&self, w: usize) -> Option<&str> {
        self.completed.get(&w.to_string()).map(String::as_str)
    }

    /// Since when wave `w` has found server `id` busy in another run's job.
    pub fn busy_since(&self, w: usize, id: &str) -> Option<DateTime<Utc>> {
        self.busy.get(&wave_server_key(w, id)).copied()
    }

    /// Until when a hook's delay holds wave `w`.
    pub fn hold(&self, w: usize) -> Option<DateTime<Utc>> {
        self.holds.get(&w.to_string()).copied()
    }

    /// The gate asked for before wave `w`, if any.
    pub fn gate(&self, w: usize) -> Option<&GateAsked> {
        self.gates.get(&w.to_string())
    }

    /// The servers of wave `w` given up: (source server id, what was recorded).
    pub fn given_up(&self, w: usize) -> impl Iterator<Item = (&str, &GivenUp)> {
        let prefix = format!("{w}/");
        self.given_up.iter().filter_map(move |(k, g)| k.strip_prefix(&prefix).map(|id| (id, g)))
    }
}

/// How a run ended: once recorded, every later call answers with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEnd {
    /// None: the run succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
    pub message: String,
    pub at: DateTime<Utc>,
}

impl RunEnd {
    pub fn done(at: DateTime<Utc>) -> RunEnd {
        RunEnd { error: None, message: String::new(), at }
    }

    pub fn failed(code: ErrorCode, message: &str, at: DateTime<Utc>) -> RunEnd {
        RunEnd { error: Some(code), message: cut(message), at }
    }

    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// `done at <time>` or `failed: <code> at <time>`, for messages.
    pub fn describe(&self) -> String {
        match self.error {
            None => format!("done at {}", crate::time::secs(&self.at)),
            Some(code) => format!("failed ({}) at {}", code.as_str(), crate::time::secs(&self.at)),
        }
    }
}

fn cut(message: &str) -> String {
    if message.len() <= MAX_MESSAGE {
        return message.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &message[..end], message.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_put_a_resources_runs_under_one_partition() {
        let k = RunKey::new("0123abcd", "drill-7");
        assert_eq!((k.pk(), k.sk()), ("resource#0123abcd".to_owned(), "run#drill-7".to_owned()));
        assert_eq!(RunKey::new("0123abcd", "drill-8").pk(), k.pk());
        assert_ne!(RunKey::new("99", "drill-7").pk(), k.pk(), "another resource, another partition");
    }

    #[test]
    fn a_long_end_message_is_cut_on_a_char_boundary() {
        let at = Utc::now();
        let long = "é".repeat(5000);
        let end = RunEnd::failed(ErrorCode::WaveFailed, &long, at);
        assert!(end.message.len() < MAX_MESSAGE + 32, "{}", end.message.len());
        assert!(end.message.ends_with("(10000 bytes)"));
        assert_eq!(RunEnd::failed(ErrorCode::Timeout, "short", at).message, "short");
    }
}

//! StartRecovery, TerminateRecoveryInstances (both create jobs within the quotas),
//! DescribeJobs and DescribeJobLogItems.

use super::input::{self, invalid};
use super::model::{Job, JobEvent, JobKind, JobServer, LastLaunch};
use super::page::page;
use super::partition::with_partition;
use super::progress::{launch_timeline, terminate_timeline};
use super::snapshots;
use crate::ctx::Ctx;
use crate::fleet::LaunchOutcome;
use crate::fleet::Quotas;
use crate::protocol::{json_reply, ApiError, Reply};
use crate::world::Partition;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashSet;

/// Replication states from which no recovery snapshot can be launched.
const NOT_LAUNCHABLE: &[&str] = &["STOPPED", "INITIATING", "INITIAL_SYNC", "DISCONNECTED"];

fn conflict(id: &str, kind: &str, what: String) -> ApiError {
    ApiError::new(409, "ConflictException", what).with("resourceId", id).with("resourceType", kind)
}

fn quota(code: &str, what: String) -> ApiError {
    ApiError::new(402, "ServiceQuotaExceededException", what).with("serviceCode", "drs").with("quotaCode", code)
}

/// The quota checks every new job passes: concurrent jobs and servers in active jobs.
fn check_job_quotas(q: &Quotas, p: &Partition, servers: usize) -> Result<(), ApiError> {
    let active: Vec<&Job> = p.drs.jobs.iter().filter(|j| j.is_active()).collect();
    if active.len() >= q.concurrent_jobs {
        return Err(quota(
            "concurrent-jobs",
            format!("Concurrent jobs quota exceeded: {} of {} jobs are active", active.len(), q.concurrent_jobs),
        ));
    }
    let busy: usize = active.iter().map(|j| j.servers.len()).sum();
    if busy + servers > q.servers_in_active_jobs {
        return Err(quota(
            "servers-in-active-jobs",
            format!(
                "Servers in all active jobs quota exceeded: {busy} active + {servers} requested > {}",
                q.servers_in_active_jobs
            ),
        ));
    }
    Ok(())
}

fn busy_servers(p: &Partition) -> HashSet<String> {
    p.drs.jobs.iter().filter(|j| j.is_active()).flat_map(|j| j.servers.iter().map(|s| s.source_server_id.clone())).collect()
}

fn new_job(
    p: &Partition,
    at: DateTime<Utc>,
    kind: JobKind,
    tags: crate::fleet::Tags,
    servers: Vec<JobServer>,
    timeline: Vec<(DateTime<Utc>, JobEvent)>,
) -> Job {
    let id = crate::ids::job_id();
    Job {
        arn: format!("arn:aws:drs:{}:{}:job/{id}", p.region, p.account),
        id,
        kind,
        created: at,
        status: "PENDING",
        tags,
        servers,
        log: vec![],
        timeline,
        next: 0,
    }
}

/// What one launch asks for: each server with the recovery snapshot it launches (None: its
/// latest data), whether it is a drill, and the job's tags.
pub struct Launch {
    pub servers: Vec<(String, Option<String>)>,
    pub drill: bool,
    pub tags: crate::fleet::Tags,
}

/// Starts a launch job at `at` in the partition, as StartRecovery does (and a recovery plan's
/// server step): each server must exist, replicate in the failover direction and be in no
/// active job; its snapshot must be one DRS still keeps; the job must fit the quotas. The
/// field names of a refusal are StartRecovery's. Returns the index of the new job.
pub fn launch(p: &mut Partition, q: &Quotas, at: DateTime<Utc>, want: Launch) -> Result<usize, ApiError> {
    let ids: Vec<String> = want.servers.iter().map(|(id, _)| id.clone()).collect();
    let mut points = Vec::with_capacity(ids.len());
    for (i, (id, chosen)) in want.servers.iter().enumerate() {
        let Some(s) = p.drs.servers.get(id) else {
            return Err(invalid("sourceServers", &format!("source server {id} does not exist")));
        };
        if s.direction != "FAILOVER" {
            return Err(conflict(id, "SOURCE_SERVER", format!("Source server {id} replicates in the failback direction")));
        }
        points.push(match chosen {
            None => None,
            Some(pit) => Some(snapshots::find(s, pit, at).map(|snap| snap.taken).ok_or_else(|| {
                invalid(
                    &format!("sourceServers[{i}].recoverySnapshotID"),
                    &format!("{pit} is not a recovery snapshot of source server {id} (or no longer kept)"),
                )
            })?),
        });
    }
    let busy = busy_servers(p);
    if let Some(id) = ids.iter().find(|id| busy.contains(*id)) {
        return Err(conflict(id, "SOURCE_SERVER", format!("Source server {id} is already participating in an active job")));
    }
    if ids.len() > q.servers_per_job {
        return Err(quota(
            "servers-per-job",
            format!("A job can hold at most {} source servers; {} requested", q.servers_per_job, ids.len()),
        ));
    }
    check_job_quotas(q, p, ids.len())?;
    let mut launching = Vec::with_capacity(ids.len());
    for (id, point) in ids.iter().zip(&points) {
        let mut s = p.drs.servers[id].clone();
        // A snapshot already taken launches whatever replication does now.
        if point.is_none() && NOT_LAUNCHABLE.contains(&s.replication_state.as_str()) {
            s.launch_outcome = LaunchOutcome::Failed;
            s.failure_reason = Some(format!("No recovery snapshot: data replication state is {}", s.replication_state));
        }
        launching.push(s);
    }
    let timeline = previous_snapshots(launch_timeline(at, &launching.iter().collect::<Vec<_>>()), &points);
    let servers = ids
        .iter()
        .zip(&points)
        .map(|(id, point)| JobServer {
            source_server_id: id.clone(),
            recovery_instance_id: None,
            launch_status: "PENDING",
            snapshot_at: *point,
        })
        .collect();
    let drill = want.drill;
    let job = new_job(p, at, JobKind::Launch { drill }, want.tags, servers, timeline);
    for id in &ids {
        if let Some(s) = p.drs.servers.get_mut(id) {
            s.last_launch = Some(LastLaunch { job_id: job.id.clone(), drill, at, status: "PENDING" });
        }
    }
    p.drs.jobs.push(job);
    Ok(p.drs.jobs.len() - 1)
}

pub fn start_recovery(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let list = match body.get("sourceServers") {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= 200 => a,
        Some(Value::Array(_)) => return Err(invalid("sourceServers", "must have between 1 and 200 members")),
        _ => return Err(invalid("sourceServers", "is required")),
    };
    let mut ids = Vec::with_capacity(list.len());
    // The recovery snapshot each server launches, when one is named (else its latest data).
    let mut chosen: Vec<Option<String>> = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let id = s.get("sourceServerID").and_then(Value::as_str).unwrap_or_default();
        if !input::is_source_server_id(id) {
            return Err(invalid(&format!("sourceServers[{i}].sourceServerID"), "must match s-[0-9a-zA-Z]{17}"));
        }
        if ids.contains(&id.to_owned()) {
            return Err(invalid("sourceServers", &format!("{id} is listed twice")));
        }
        let snapshot = match s.get("recoverySnapshotID") {
            None | Some(Value::Null) => None,
            Some(Value::String(pit)) if snapshots::is_snapshot_id(pit) => Some(pit.clone()),
            Some(_) => return Err(invalid(&format!("sourceServers[{i}].recoverySnapshotID"), "must match pit-[0-9a-zA-Z]{17}")),
        };
        ids.push(id.to_owned());
        chosen.push(snapshot);
    }
    let drill = input::opt_bool(body, "isDrill")?.unwrap_or(false);
    let tags = input::tags(body, "tags")?;
    let quotas = ctx.world.quotas.read().clone();
    with_partition(ctx, |p| {
        let want = Launch { servers: ids.into_iter().zip(chosen).collect(), drill, tags };
        let job = launch(p, &quotas, ctx.now(), want)?;
        Ok(json_reply(202, &json!({ "job": p.drs.jobs[job].to_json() })))
    })
}

/// A server launched from a snapshot it already has takes none: its log says
/// USING_PREVIOUS_SNAPSHOT where the others' say SNAPSHOT_START and SNAPSHOT_END.
fn previous_snapshots(
    timeline: Vec<(DateTime<Utc>, JobEvent)>,
    points: &[Option<DateTime<Utc>>],
) -> Vec<(DateTime<Utc>, JobEvent)> {
    let previous = |server: usize| points.get(server).is_some_and(Option::is_some);
    timeline
        .into_iter()
        .filter_map(|(t, ev)| match ev {
            JobEvent::Log { server, event: "SNAPSHOT_START" } if previous(server) => {
                Some((t, JobEvent::Log { server, event: "USING_PREVIOUS_SNAPSHOT" }))
            }
            JobEvent::Log { server, event: "SNAPSHOT_END" } if previous(server) => None,
            ev => Some((t, ev)),
        })
        .collect()
}

pub fn terminate(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let ids = input::str_list(body, "recoveryInstanceIDs", 200, input::is_instance_id)?;
    if ids.is_empty() {
        return Err(invalid("recoveryInstanceIDs", "must have between 1 and 200 members"));
    }
    with_partition(ctx, |p| {
        let mut servers = Vec::with_capacity(ids.len());
        let terminating: HashSet<String> = p
            .drs
            .jobs
            .iter()
            .filter(|j| j.is_active() && j.kind == JobKind::Terminate)
            .flat_map(|j| j.servers.iter().filter_map(|s| s.recovery_instance_id.clone()))
            .collect();
        for id in &ids {
            let Some(r) = p.drs.recovery_instances.get(id) else {
                return Err(invalid("recoveryInstanceIDs", &format!("recovery instance {id} does not exist")));
            };
            if terminating.contains(id) {
                return Err(conflict(id, "RECOVERY_INSTANCE", format!("Recovery instance {id} is already being terminated")));
            }
            servers.push(JobServer {
                source_server_id: r.source_server_id.clone(),
                recovery_instance_id: Some(id.clone()),
                launch_status: "PENDING",
                snapshot_at: None,
            });
        }
        check_job_quotas(&ctx.world.quotas.read(), p, 0)?;
        let now = ctx.now();
        let job = new_job(p, now, JobKind::Terminate, Default::default(), servers, terminate_timeline(now, ids.len()));
        let out = json!({ "job": job.to_json() });
        p.drs.jobs.push(job);
        Ok(json_reply(200, &out))
    })
}

fn date(v: &Value, field: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    input::opt_str(v, field)?
        .map(|s| s.parse::<DateTime<Utc>>().map_err(|_| invalid(field, "must be an ISO-8601 date-time")))
        .transpose()
}

pub fn describe(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let filters = body.get("filters").cloned().unwrap_or(Value::Null);
    let ids = input::str_list(&filters, "jobIDs", 1000, input::is_job_id)?;
    let (from, to) = (date(&filters, "fromDate")?, date(&filters, "toDate")?);
    with_partition(ctx, |p| {
        let matching: Vec<&Job> = p
            .drs
            .jobs
            .iter()
            .rev()
            .filter(|j| ids.is_empty() || ids.contains(&j.id))
            .filter(|j| from.is_none_or(|f| j.created >= f) && to.is_none_or(|t| j.created <= t))
            .collect();
        page(&matching, body, |j| j.to_json())
    })
}

pub fn log_items(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let job_id = input::req_str(body, "jobID")?;
    if !input::is_job_id(job_id) {
        return Err(invalid("jobID", "must match drsjob-[0-9a-zA-Z]{17}"));
    }
    with_partition(ctx, |p| {
        let log = p.drs.jobs.iter().find(|j| j.id == job_id).map(|j| j.log.clone()).unwrap_or_default();
        page(&log, body, Value::clone)
    })
}

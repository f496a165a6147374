//! How jobs move on the simulator's clock. A job's events are scheduled when it starts and
//! applied lazily, in order, whenever its partition is next touched: PENDING -> STARTED ->
//! COMPLETED (with its end time), each server PENDING -> IN_PROGRESS -> LAUNCHED or FAILED,
//! with job log items. The model has no event for a launch that succeeds: a launched server's
//! last item is its LAUNCH_START, a failed one's LAUNCH_FAILED.

use super::model::*;
use crate::clock::iso;
use crate::ec2::model::Instance;
use crate::fleet::LaunchOutcome;
use crate::world::Partition;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

const START_DELAY_S: f64 = 5.0;
const TERMINATE_S: f64 = 60.0;

fn at(t0: DateTime<Utc>, secs: f64) -> DateTime<Utc> {
    t0 + Duration::milliseconds((secs * 1000.0) as i64)
}

/// The schedule of a launch job: snapshot, conversion, launch, per server.
pub fn launch_timeline(t0: DateTime<Utc>, servers: &[&SourceServer]) -> Vec<(DateTime<Utc>, JobEvent)> {
    let mut ev = vec![(at(t0, START_DELAY_S), JobEvent::Start)];
    let mut end: f64 = START_DELAY_S;
    for (i, s) in servers.iter().enumerate() {
        let d = (s.launch_seconds as f64).max(START_DELAY_S + 4.0);
        let snap = START_DELAY_S + 0.1 * (d - START_DELAY_S);
        let conv = START_DELAY_S + 0.5 * (d - START_DELAY_S);
        let launch = START_DELAY_S + 0.6 * (d - START_DELAY_S);
        ev.push((at(t0, START_DELAY_S), JobEvent::Log { server: i, event: "SNAPSHOT_START" }));
        ev.push((at(t0, snap), JobEvent::Log { server: i, event: "SNAPSHOT_END" }));
        ev.push((at(t0, snap), JobEvent::Log { server: i, event: "CONVERSION_START" }));
        ev.push((at(t0, conv), JobEvent::Log { server: i, event: "CONVERSION_END" }));
        ev.push((at(t0, launch), JobEvent::LaunchStart { server: i }));
        ev.push((
            at(t0, d),
            match s.launch_outcome {
                LaunchOutcome::Launched => JobEvent::Launched { server: i },
                LaunchOutcome::Failed => JobEvent::LaunchFailed {
                    server: i,
                    reason: s.failure_reason.clone().unwrap_or_else(|| "Failed to launch recovery instance".into()),
                },
            },
        ));
        end = end.max(d);
    }
    ev.push((at(t0, end + 1.0), JobEvent::End));
    ev.sort_by_key(|(t, _)| *t);
    ev
}

pub fn terminate_timeline(t0: DateTime<Utc>, n: usize) -> Vec<(DateTime<Utc>, JobEvent)> {
    let mut ev = vec![(at(t0, START_DELAY_S), JobEvent::Start)];
    for i in 0..n {
        ev.push((at(t0, START_DELAY_S), JobEvent::Log { server: i, event: "CLEANUP_START" }));
        ev.push((at(t0, TERMINATE_S), JobEvent::Terminated { server: i }));
    }
    ev.push((at(t0, TERMINATE_S + 1.0), JobEvent::End));
    ev
}

/// Applies every scheduled event up to `now`, and moves failback replication along.
pub fn advance(p: &mut Partition, now: DateTime<Utc>) {
    for j in 0..p.drs.jobs.len() {
        while let Some((t, ev)) = p.drs.jobs[j].timeline.get(p.drs.jobs[j].next).cloned() {
            if t > now {
                break;
            }
            p.drs.jobs[j].next += 1;
            apply(p, j, t, ev);
        }
    }
    for s in p.drs.servers.values_mut() {
        if let Some(started) = s.sync_started {
            s.replication_state = sync_state(now, started).into();
        }
    }
    for r in p.drs.recovery_instances.values_mut() {
        if let Some(started) = r.failback_started {
            r.replication_state = Some(sync_state(now, started));
        }
    }
}

/// Replication that (re)starts passes INITIATING and INITIAL_SYNC before CONTINUOUS.
fn sync_state(now: DateTime<Utc>, started: DateTime<Utc>) -> &'static str {
    match (now - started).num_seconds() {
        ..60 => "INITIATING",
        60..300 => "INITIAL_SYNC",
        _ => "CONTINUOUS",
    }
}

/// The conversion server of a server in a job: stable, so its start and end name the same one.
fn conversion_server(job_id: &str, source_server_id: &str) -> String {
    crate::ids::stable_instance_id(&format!("conversion/{job_id}/{source_server_id}"))
}

fn log_item(t: DateTime<Utc>, event: &str, server: Option<&str>, extra: Option<(&str, &str)>) -> serde_json::Value {
    let mut data = json!({});
    if let Some(s) = server {
        data["sourceServerID"] = s.into();
    }
    if let Some((k, v)) = extra {
        data[k] = v.into();
    }
    json!({"logDateTime": iso(t), "event": event, "eventData": data})
}

fn apply(p: &mut Partition, j: usize, t: DateTime<Utc>, ev: JobEvent) {
    let (account, region) = (p.account.clone(), p.region.clone());
    let job = &mut p.drs.jobs[j];
    match ev {
        JobEvent::Start => {
            job.status = "STARTED";
            job.log.push(log_item(t, "JOB_START", None, None));
        }
        JobEvent::Log { server, event } => {
            let sid = job.servers[server].source_server_id.clone();
            // Each server's conversion runs on a conversion server that the log names.
            let conversion = event.starts_with("CONVERSION_").then(|| conversion_server(&job.id, &sid));
            job.log.push(log_item(t, event, Some(&sid), conversion.as_deref().map(|c| ("conversionServerID", c))));
        }
        JobEvent::LaunchStart { server } => {
            let rid = crate::ids::instance_id();
            let sid = job.servers[server].source_server_id.clone();
            // RunInstances from the server's launch template: a subnet or an address EC2
            // refuses fails the launch now, with EC2's error code in the job log.
            let placed = super::placement::place(p, &sid, &rid, t);
            let job = &mut p.drs.jobs[j];
            let js = &mut job.servers[server];
            let status = match placed {
                Ok(_) => {
                    js.launch_status = "IN_PROGRESS";
                    js.recovery_instance_id = Some(rid.clone());
                    job.log.push(log_item(t, "LAUNCH_START", Some(&sid), Some(("targetInstanceID", &rid))));
                    "IN_PROGRESS"
                }
                Err(e) => {
                    js.launch_status = "FAILED";
                    job.log.push(log_item(t, "LAUNCH_START", Some(&sid), None));
                    job.log.push(log_item(t, "LAUNCH_FAILED", Some(&sid), Some(("rawError", &super::placement::raw_error(&e)))));
                    "FAILED"
                }
            };
            if let Some(l) = p.drs.servers.get_mut(&sid).and_then(|s| s.last_launch.as_mut()) {
                l.status = status;
            }
        }
        // A server whose launch EC2 refused has nothing left to do.
        JobEvent::Launched { server } | JobEvent::LaunchFailed { server, .. }
            if job.servers[server].launch_status == "FAILED" => {}
        JobEvent::Launched { server } => {
            let js = &mut job.servers[server];
            js.launch_status = "LAUNCHED";
            let (sid, rid) = (js.source_server_id.clone(), js.recovery_instance_id.clone().unwrap_or_default());
            let snapshot_at = js.snapshot_at;
            let drill = matches!(job.kind, JobKind::Launch { drill: true });
            let (job_id, job_tags, requested) = (job.id.clone(), job.tags.clone(), job.created);
            let Some(src) = p.drs.servers.get_mut(&sid) else { return };
            let point_in_time = launched_point(src, requested);
            let previous = src.recovery_instance_id.replace(rid.clone());
            if let Some(l) = src.last_launch.as_mut() {
                l.status = "LAUNCHED";
            }
            let (hostname, az, source_type) = (src.hostname.clone(), src.origin_az.clone(), src.instance_type.clone());
            let nic = p.ec2.network_interfaces.values().find(|n| n.instance_id.as_deref() == Some(rid.as_str())).cloned();
            let itype = super::placement::from_template(p, &sid).instance_type.unwrap_or(source_type);
            let mut tags = job_tags;
            tags.insert("AWSElasticDisasterRecoveryManaged".into(), "drs.amazonaws.com".into());
            tags.insert("AWSElasticDisasterRecoverySourceServerID".into(), sid.clone());
            p.drs.recovery_instances.insert(
                rid.clone(),
                RecoveryInstance {
                    id: rid.clone(),
                    arn: format!("arn:aws:drs:{region}:{account}:recovery-instance/{rid}"),
                    source_server_id: sid.clone(),
                    job_id,
                    drill,
                    state: "RUNNING",
                    tags: tags.clone(),
                    created: t,
                    point_in_time,
                    origin_az: az.clone(),
                    hostname,
                    failback_started: None,
                    replication_state: None,
                    snapshot_at,
                    private_ip: nic.as_ref().map(|n| n.private_ip.clone()),
                },
            );
            p.ec2.instances.insert(
                rid.clone(),
                Instance {
                    id: rid.clone(),
                    instance_type: itype,
                    state: "running".into(),
                    az: nic.as_ref().map_or(az, |n| n.az.clone()),
                    tags,
                    private_ip: nic.as_ref().map(|n| n.private_ip.clone()),
                    launch_time: t,
                    image_id: "ami-0drs00000000000000".into(),
                    subnet_id: nic.as_ref().map(|n| n.subnet_id.clone()),
                    vpc_id: nic.map(|n| n.vpc_id),
                },
            );
            // A new launch replaces the server's previous recovery instance.
            if let Some(old) = previous.filter(|old| *old != rid) {
                p.drs.recovery_instances.remove(&old);
                p.ec2.instances.remove(&old);
                p.ec2.release_interfaces_of(&old);
            }
        }
        JobEvent::LaunchFailed { server, reason } => {
            let js = &mut job.servers[server];
            js.launch_status = "FAILED";
            let sid = js.source_server_id.clone();
            if let Some(rid) = js.recovery_instance_id.clone() {
                p.ec2.release_interfaces_of(&rid);
            }
            job.log.push(log_item(t, "LAUNCH_FAILED", Some(&sid), Some(("rawError", &reason))));
            if let Some(l) = p.drs.servers.get_mut(&sid).and_then(|s| s.last_launch.as_mut()) {
                l.status = "FAILED";
            }
        }
        JobEvent::Terminated { server } => {
            let js = &mut job.servers[server];
            js.launch_status = "TERMINATED";
            let (sid, rid) = (js.source_server_id.clone(), js.recovery_instance_id.clone().unwrap_or_default());
            job.log.push(log_item(t, "CLEANUP_END", Some(&sid), Some(("targetInstanceID", &rid))));
            p.drs.recovery_instances.remove(&rid);
            p.ec2.instances.remove(&rid);
            p.ec2.release_interfaces_of(&rid);
            if let Some(s) = p.drs.servers.get_mut(&sid) {
                if s.recovery_instance_id.as_deref() == Some(rid.as_str()) {
                    s.recovery_instance_id = None;
                }
            }
        }
        JobEvent::End => {
            job.status = "COMPLETED";
            job.log.push(log_item(t, "JOB_END", None, None));
        }
    }
}

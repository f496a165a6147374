//! Recovery instances: DescribeRecoveryInstances, DisconnectRecoveryInstance and
//! ReverseReplication (which starts replicating a recovered instance back to its origin).

use super::input::{self, invalid};
use super::model::{RecoveryInstance, SourceServer};
use super::page::page;
use super::partition::with_partition;
use crate::ctx::Ctx;
use crate::protocol::{json_reply, ApiError, Reply};
use serde_json::{json, Value};

fn not_found(id: &str) -> ApiError {
    ApiError::new(404, "ResourceNotFoundException", format!("Recovery instance {id} not found"))
        .with("resourceId", id)
        .with("resourceType", "RECOVERY_INSTANCE")
}

pub fn describe(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let filters = body.get("filters").cloned().unwrap_or(Value::Null);
    let ids = input::str_list(&filters, "recoveryInstanceIDs", 200, input::is_instance_id)?;
    let sources = input::str_list(&filters, "sourceServerIDs", usize::MAX, input::is_source_server_id)?;
    with_partition(ctx, |p| {
        let matching: Vec<&RecoveryInstance> = p
            .drs
            .recovery_instances
            .values()
            .filter(|r| ids.is_empty() || ids.contains(&r.id))
            .filter(|r| sources.is_empty() || sources.contains(&r.source_server_id))
            .collect();
        page(&matching, body, |r| r.to_json())
    })
}

pub fn disconnect(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let id = input::req_str(body, "recoveryInstanceID")?;
    with_partition(ctx, |p| {
        let r = p.drs.recovery_instances.remove(id).ok_or_else(|| not_found(id))?;
        if let Some(s) = p.drs.servers.get_mut(&r.source_server_id) {
            if s.recovery_instance_id.as_deref() == Some(id) {
                s.recovery_instance_id = None;
            }
        }
        Ok(json_reply(200, &json!({})))
    })
}

pub fn reverse_replication(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let id = input::req_str(body, "recoveryInstanceID")?;
    if !input::is_instance_id(id) {
        return Err(invalid("recoveryInstanceID", "must match i-[0-9a-fA-F]{8,}"));
    }
    let now = ctx.now();
    // First the recovery instance and its source, in the recovery partition.
    let mut reversed: SourceServer = with_partition(ctx, |p| {
        let r = p.drs.recovery_instances.get(id).ok_or_else(|| not_found(id))?;
        if r.drill {
            return Err(ApiError::new(
                409,
                "ConflictException",
                format!("Recovery instance {id} was launched by a drill; only a recovery can be reversed"),
            )
            .with("resourceId", id));
        }
        if r.failback_started.is_some() {
            return Err(ApiError::new(
                409,
                "ConflictException",
                format!("Replication of recovery instance {id} is already reversed"),
            )
            .with("resourceId", id));
        }
        let source = p.drs.servers.get(&r.source_server_id).cloned().ok_or_else(|| not_found(id))?;
        Ok(source)
    })?;
    let origin = ctx.world.partition(&reversed.origin_account, &reversed.origin_region);
    let mut o = origin.lock();
    if !o.drs_initialized {
        return Err(ApiError::validation(format!(
            "DRS is not initialized in the origin account {} region {}",
            reversed.origin_account, reversed.origin_region
        )));
    }
    let new_id = format!("s-{}", crate::ids::alnum(17));
    let arn = format!("arn:aws:drs:{}:{}:source-server/{new_id}", o.region, o.account);
    reversed.id = new_id.clone();
    reversed.arn = arn.clone();
    reversed.direction = "FAILBACK";
    reversed.origin_instance_id = Some(id.to_owned());
    reversed.recovery_instance_id = None;
    reversed.last_launch = None;
    reversed.reversed_arn = None;
    reversed.replication_state = "INITIATING".into();
    reversed.sync_started = Some(now);
    reversed.added = now;
    // Its first recovery snapshot comes once the initial sync is done.
    reversed.replicating_since = now + chrono::Duration::seconds(300);
    o.drs.servers.insert(new_id, reversed);
    drop(o);
    with_partition(ctx, |p| {
        let r = p.drs.recovery_instances.get_mut(id).ok_or_else(|| not_found(id))?;
        r.failback_started = Some(now);
        r.replication_state = Some("INITIATING");
        let sid = r.source_server_id.clone();
        if let Some(s) = p.drs.servers.get_mut(&sid) {
            s.reversed_arn = Some(arn.clone());
        }
        Ok(json_reply(200, &json!({ "reversedDirectionSourceServerArn": arn })))
    })
}

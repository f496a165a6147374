//! Launch and replication configuration of a source server: Get and Update.

use super::config_shape;
use super::input::{self, invalid};
use super::partition::with_partition;
use crate::ctx::Ctx;
use crate::protocol::{json_reply, ApiError, Reply};
use serde_json::Value;

#[derive(Clone, Copy)]
pub enum Kind {
    Launch,
    Replication,
}

/// Fields the configuration answers with that an update may carry back unchanged (a client
/// that sends what Get returned): they are not members of the update and are not changed.
const READ_ONLY: &[&str] = &["ec2LaunchTemplateID"];

fn not_found(id: &str) -> ApiError {
    ApiError::new(404, "ResourceNotFoundException", format!("Source server {id} not found"))
        .with("resourceId", id)
        .with("resourceType", "SOURCE_SERVER")
}

fn server_id(body: &Value) -> Result<&str, ApiError> {
    let id = input::req_str(body, "sourceServerID")?;
    if !input::is_source_server_id(id) {
        return Err(invalid("sourceServerID", "must match s-[0-9a-zA-Z]{17}"));
    }
    Ok(id)
}

pub fn get(ctx: &Ctx, body: &Value, kind: Kind) -> Result<Reply, ApiError> {
    let id = server_id(body)?;
    with_partition(ctx, |p| {
        let s = p.drs.servers.get(id).ok_or_else(|| not_found(id))?;
        let config = match kind {
            Kind::Launch => &s.launch_config,
            Kind::Replication => &s.replication_config,
        };
        Ok(json_reply(200, &Value::Object(config.clone())))
    })
}

pub fn update(ctx: &Ctx, body: &Value, kind: Kind) -> Result<Reply, ApiError> {
    let id = server_id(body)?;
    let members = config_shape::members(kind);
    // Every member is checked before anything is kept: a refused update changes nothing.
    let mut changes = Vec::new();
    for (field, value) in body.as_object().into_iter().flatten() {
        if field == "sourceServerID" || READ_ONLY.contains(&field.as_str()) || value.is_null() {
            continue;
        }
        let Some((name, shape)) = members.iter().find(|(m, _)| m == field) else {
            return Err(invalid(field, "is not a field of this configuration"));
        };
        config_shape::check(value, shape, field)?;
        changes.push((*name, value));
    }
    with_partition(ctx, |p| {
        let busy = p.drs.jobs.iter().any(|j| j.is_active() && j.servers.iter().any(|s| s.source_server_id == id));
        let s = p.drs.servers.get_mut(id).ok_or_else(|| not_found(id))?;
        if busy && matches!(kind, Kind::Launch) {
            return Err(
                ApiError::new(409, "ConflictException", format!("Source server {id} is in an active job")).with("resourceId", id)
            );
        }
        let config = match kind {
            Kind::Launch => &mut s.launch_config,
            Kind::Replication => &mut s.replication_config,
        };
        for (name, value) in changes {
            config.insert(name.to_owned(), value.clone());
        }
        Ok(json_reply(200, &Value::Object(config.clone())))
    })
}

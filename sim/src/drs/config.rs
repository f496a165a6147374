//! Launch and replication configuration of a source server: Get and Update.

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

/// Fields that Update may not change, and enum fields with their allowed values.
const READ_ONLY: &[&str] = &["sourceServerID", "ec2LaunchTemplateID"];
const ENUMS: &[(&str, &[&str])] = &[
    ("launchDisposition", &["STOPPED", "STARTED"]),
    ("targetInstanceTypeRightSizingMethod", &["NONE", "BASIC", "IN_AWS"]),
    ("recoveryMode", &["FAST", "OPTIMAL"]),
    ("defaultLargeStagingDiskType", &["GP2", "GP3", "ST1", "AUTO"]),
    ("ebsEncryption", &["DEFAULT", "CUSTOM", "NONE"]),
    ("dataPlaneRouting", &["PRIVATE_IP", "PUBLIC_IP"]),
    ("internetProtocol", &["IPV4", "IPV6"]),
];

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
    let changes = body.as_object().cloned().unwrap_or_default();
    for (field, allowed) in ENUMS {
        if let Some(v) = changes.get(*field) {
            if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                return Err(invalid(field, &format!("must be one of {}", allowed.join(", "))));
            }
        }
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
        for (k, v) in changes {
            if READ_ONLY.contains(&k.as_str()) {
                continue;
            }
            if !config.contains_key(&k) && !matches!(k.as_str(), "launchIntoInstanceProperties" | "ebsEncryptionKeyArn") {
                return Err(invalid(&k, "is not a field of this configuration"));
            }
            config.insert(k, v);
        }
        Ok(json_reply(200, &Value::Object(config.clone())))
    })
}

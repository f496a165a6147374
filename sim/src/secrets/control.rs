//! Seeding through the control endpoint: `POST /_sim/parameters` and `POST /_sim/secrets`
//! (account and region default to the hub's). The answers name what was stored, never the value.

use super::store::ParameterType;
use crate::world::World;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewParameter {
    account_id: Option<String>,
    region: Option<String>,
    name: String,
    value: String,
    #[serde(rename = "type", default = "secure")]
    kind: ParameterType,
}

fn secure() -> ParameterType {
    ParameterType::SecureString
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSecret {
    account_id: Option<String>,
    region: Option<String>,
    name: String,
    value: String,
}

pub fn put_parameter(world: &World, p: NewParameter) -> Value {
    let account = p.account_id.unwrap_or_else(|| world.hub.account_id.clone());
    let region = p.region.unwrap_or_else(|| world.hub.region.clone());
    let stored = world.secrets.put_parameter(&account, &region, &p.name, p.kind, &p.value, world.clock.now());
    json!({"accountId": account, "region": region, "name": stored.name, "type": stored.kind.as_str(), "version": stored.version})
}

pub fn put_secret(world: &World, s: NewSecret) -> Value {
    let account = s.account_id.unwrap_or_else(|| world.hub.account_id.clone());
    let region = s.region.unwrap_or_else(|| world.hub.region.clone());
    let stored = world.secrets.put_secret(&account, &region, &s.name, &s.value, world.clock.now());
    json!({"accountId": account, "region": region, "name": stored.name, "arn": stored.arn})
}

//! The control endpoint (`/_sim/...`, unsigned): the clock, faults, quotas, the call log,
//! task tokens and the Step Functions executions waiting on them, views and changes of
//! servers and recovery instances, and DynamoDB tables' items.

use crate::ctx::Request;
use crate::faults::FaultSet;
use crate::fleet::{LaunchOutcome, Quotas};
use crate::protocol::{json_reply, Reply};
use crate::world::World;
use http::Method;
use serde::Deserialize;
use serde_json::{json, Value};

/// Why a control request was not served; answered as `{"error": "<message>"}`.
#[derive(Debug, thiserror::Error)]
enum ControlError {
    /// The body does not parse or is refused (400).
    #[error("{0}")]
    BadRequest(String),
    /// No such route, token, execution or server (404).
    #[error("{0}")]
    NotFound(String),
}

impl ControlError {
    fn reply(&self) -> Reply {
        let status = match self {
            ControlError::BadRequest(_) => 400,
            ControlError::NotFound(_) => 404,
        };
        json_reply(status, &json!({"error": self.to_string()}))
    }
}

fn parse<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, ControlError> {
    serde_json::from_slice(if req.body.is_empty() { b"{}" } else { &req.body })
        .map_err(|e| ControlError::BadRequest(format!("invalid body: {e}")))
}

fn query_param(req: &Request, key: &str) -> Option<String> {
    form_urlencoded::parse(req.query.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockChange {
    speed: Option<f64>,
    advance_seconds: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    task_token: Option<String>,
    timeout_seconds: Option<u64>,
    heartbeat_seconds: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ServerChange {
    replication_state: Option<String>,
    lag_seconds: Option<u64>,
    launch_seconds: Option<u64>,
    launch_outcome: Option<LaunchOutcome>,
    failure_reason: Option<String>,
}

pub fn handle(world: &World, req: &Request) -> Reply {
    let path = req.path.trim_start_matches("/_sim/");
    let result = match (&req.method, path) {
        (&Method::GET, "health") => Ok(json_reply(200, &json!({"ok": true}))),
        (&Method::GET, "clock") => Ok(clock(world)),
        (&Method::POST, "clock") => parse::<ClockChange>(req).and_then(|c| {
            if let Some(s) = c.speed {
                world.clock.set_speed(s).map_err(|e| ControlError::BadRequest(format!("speed: {e}")))?;
            }
            if let Some(a) = c.advance_seconds {
                world.clock.advance(a).map_err(|e| ControlError::BadRequest(format!("advanceSeconds: {e}")))?;
            }
            Ok(clock(world))
        }),
        (&Method::GET, "faults") => Ok(json_reply(200, &serde_json::to_value(world.faults.get()).unwrap_or_default())),
        (&Method::PUT, "faults") => parse::<FaultSet>(req).and_then(|f| {
            f.validate().map_err(|e| ControlError::BadRequest(e.to_string()))?;
            world.faults.replace(f);
            Ok(json_reply(200, &serde_json::to_value(world.faults.get()).unwrap_or_default()))
        }),
        (&Method::GET, "quotas") => Ok(json_reply(200, &serde_json::to_value(world.quotas.read().clone()).unwrap_or_default())),
        (&Method::PUT, "quotas") => parse::<Quotas>(req).map(|q| {
            *world.quotas.write() = q.clone();
            json_reply(200, &serde_json::to_value(q).unwrap_or_default())
        }),
        (&Method::GET, "calls") => {
            let since = query_param(req, "since").and_then(|s| s.parse().ok()).unwrap_or(0);
            Ok(json_reply(200, &json!({"calls": world.calls.since(since)})))
        }
        (&Method::POST, "tokens") => parse::<NewToken>(req).map(|t| {
            let token = t.task_token.unwrap_or_else(|| format!("AQC{}", crate::ids::secret(180)));
            world.tokens.register(token.clone(), t.timeout_seconds, t.heartbeat_seconds, world.clock.now());
            json_reply(201, &json!({"taskToken": token}))
        }),
        (&Method::GET, "tokens") => Ok(json_reply(200, &json!({"tokens": world.tokens.list(world.clock.now())}))),
        (&Method::GET, p) if p.starts_with("tokens/") => {
            let token = percent_encoding::percent_decode_str(&p["tokens/".len()..]).decode_utf8_lossy().to_string();
            match world.tokens.view(&token, world.clock.now()) {
                Some(v) => Ok(json_reply(200, &v)),
                None => Err(ControlError::NotFound("the task token in the path is unknown".into())),
            }
        }
        (&Method::GET, "executions") => {
            let status = query_param(req, "status");
            let mut list = world.tokens.executions(world.clock.now());
            list.retain(|e| status.as_deref().is_none_or(|s| e["status"] == s));
            Ok(json_reply(200, &json!({"executions": list})))
        }
        (&Method::GET, p) if p.starts_with("executions/") => {
            let arn = percent_encoding::percent_decode_str(&p["executions/".len()..]).decode_utf8_lossy().to_string();
            match world.tokens.execution(&arn, world.clock.now()) {
                Some(v) => Ok(json_reply(200, &v)),
                None => Err(ControlError::NotFound(format!("no execution {arn} (the path's)"))),
            }
        }
        (&Method::POST, "parameters") => parse(req).map(|p| json_reply(201, &crate::secrets::control::put_parameter(world, p))),
        (&Method::POST, "secrets") => parse(req).map(|s| json_reply(201, &crate::secrets::control::put_secret(world, s))),
        (&Method::GET, "servers") => Ok(json_reply(200, &json!({"servers": servers(world)}))),
        (&Method::POST, p) if p.starts_with("servers/") => {
            parse::<ServerChange>(req).and_then(|c| change_server(world, &p["servers/".len()..], c))
        }
        (&Method::POST, "credentials/expire") => {
            let ended = world.identities.expire_all(world.clock.lifetime_now());
            Ok(json_reply(200, &json!({"expired": ended})))
        }
        (&Method::GET, "recovery-instances") => Ok(json_reply(200, &json!({"recoveryInstances": recovery_instances(world)}))),
        (&Method::GET, p) if p.starts_with("tables/") => {
            let name = percent_encoding::percent_decode_str(&p["tables/".len()..]).decode_utf8_lossy().to_string();
            let (account, region) = (query_param(req, "account"), query_param(req, "region"));
            match crate::dynamodb::control::table_view(world, &name, account, region) {
                Some(view) => Ok(json_reply(200, &serde_json::to_value(view).unwrap_or_default())),
                None => {
                    Err(ControlError::NotFound(format!("no table {name} (the path's) in the account and region of the query")))
                }
            }
        }
        _ => Err(ControlError::NotFound(format!("no control route for {} at path /_sim/{path}", req.method))),
    };
    result.unwrap_or_else(|e| e.reply())
}

fn clock(world: &World) -> Reply {
    json_reply(200, &json!({"now": crate::clock::iso(world.clock.now()), "speed": world.clock.speed()}))
}

/// `render` over every partition (jobs moved along first), each item marked with its
/// account and region.
fn everywhere(world: &World, render: impl Fn(&crate::world::Partition) -> Vec<Value>) -> Vec<Value> {
    let now = world.clock.now();
    let mut out = vec![];
    for part in world.partitions() {
        let mut p = part.lock();
        crate::drs::progress::advance(&mut p, now);
        for mut v in render(&p) {
            v["accountId"] = p.account.clone().into();
            v["region"] = p.region.clone().into();
            out.push(v);
        }
    }
    out
}

fn servers(world: &World) -> Vec<Value> {
    everywhere(world, |p| p.drs.servers.values().map(|s| s.to_json()).collect())
}

fn recovery_instances(world: &World) -> Vec<Value> {
    everywhere(world, |p| p.drs.recovery_instances.values().map(|r| r.to_json()).collect())
}

/// Changes a server's replication or launch behaviour; `key` is its ID or hostname.
fn change_server(world: &World, key: &str, c: ServerChange) -> Result<Reply, ControlError> {
    for part in world.partitions() {
        let mut p = part.lock();
        if let Some(s) = p.drs.servers.values_mut().find(|s| s.id == key || s.hostname.eq_ignore_ascii_case(key)) {
            if let Some(v) = c.replication_state {
                s.replication_state = v;
                s.sync_started = None;
            }
            if let Some(v) = c.lag_seconds {
                s.lag_seconds = v;
            }
            if let Some(v) = c.launch_seconds {
                s.launch_seconds = v;
            }
            if let Some(v) = c.launch_outcome {
                s.launch_outcome = v;
            }
            if let Some(v) = c.failure_reason {
                s.failure_reason = Some(v);
            }
            return Ok(json_reply(200, &s.to_json()));
        }
    }
    Err(ControlError::NotFound(format!("no source server {key} (the path's)")))
}

//! Staging accounts and extended source servers (ListStagingAccounts,
//! ListExtensibleSourceServers, CreateExtendedSourceServer). A staging account replicates
//! servers; a target account that the staging account trusts (`iam/staging.rs`) creates an
//! extended source server of one, in the same region, and recovers it from there. The
//! extension is a copy taken when it is created (replication state, lag, how its launches go):
//! the simulator does not follow later changes of the staging server.

use super::input::{self, invalid};
use super::model::{SourceServer, StagingOrigin};
use super::partition::with_partition;
use crate::ctx::{Ctx, Request};
use crate::faults::CallKey;
use crate::fleet::Tags;
use crate::iam::staging::{trusts, STAGING_ROLE};
use crate::protocol::{json_reply, outage, ApiError, Protocol, Reply};
use crate::world::{default_launch_config, default_replication_config, drs_launch_template, template_id_of, World};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The models' caps on `maxResults`.
const MAX_STAGING_ACCOUNTS: usize = 50;
const MAX_EXTENSIBLE: usize = 300;

/// GET /ListStagingAccounts?maxResults=&nextToken=: the staging accounts of the extended
/// source servers in the caller's account and region.
pub fn list_staging_accounts(ctx: &Ctx, req: &Request) -> Result<Reply, ApiError> {
    let mut query = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(req.query.as_bytes()) {
        let value = match k.as_ref() {
            "maxResults" => v.parse::<u64>().map(Value::from).map_err(|_| invalid("maxResults", "must be an integer"))?,
            "nextToken" => Value::from(v.as_ref()),
            _ => continue,
        };
        query.insert(k.into_owned(), value);
    }
    let query = Value::Object(query);
    with_partition(ctx, |p| {
        let accounts: BTreeSet<&str> =
            p.drs.servers.values().filter_map(|s| s.staging.as_ref()).map(|o| o.account.as_str()).collect();
        let accounts: Vec<&str> = accounts.into_iter().collect();
        let (items, next) = window(&accounts, &query, MAX_STAGING_ACCOUNTS)?;
        let mut out = json!({"accounts": items.iter().map(|a| json!({"accountID": a})).collect::<Vec<_>>()});
        if let Some(t) = next {
            out["nextToken"] = t.into();
        }
        Ok(json_reply(200, &out))
    })
}

/// POST /ListExtensibleSourceServers: the staging account's servers in the caller's region
/// that are not extensions themselves and not yet extended into the caller's account.
pub fn list_extensible(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let staging = input::req_str(body, "stagingAccountID")?.to_owned();
    if !is_account(&staging) {
        return Err(invalid("stagingAccountID", "must be 12 digits"));
    }
    let extended = with_partition(ctx, |p| Ok(extended_here(p)))?;
    let servers = readable_staging(ctx, &staging, "ListExtensibleSourceServers")?;
    let extensible: Vec<&SourceServer> =
        servers.iter().filter(|s| s.staging.is_none() && !extended.contains(s.arn.as_str())).collect();
    let (items, next) = window(&extensible, body, MAX_EXTENSIBLE)?;
    let items: Vec<Value> = items.iter().map(|s| json!({"hostname": s.hostname, "arn": s.arn, "tags": s.tags})).collect();
    let mut out = json!({"items": items});
    if let Some(t) = next {
        out["nextToken"] = t.into();
    }
    Ok(json_reply(200, &out))
}

/// POST /CreateExtendedSourceServer: an extended source server of a staging account's server,
/// in the caller's account and region; 201 with it.
pub fn create_extended(ctx: &Ctx, body: &Value) -> Result<Reply, ApiError> {
    let arn = input::req_str(body, "sourceServerArn")?;
    let (region, staging, id) = parse_arn(arn).ok_or_else(|| invalid("sourceServerArn", "is not a source server ARN"))?;
    let tags = input::tags(body, "tags")?;
    if region != ctx.region {
        return Err(invalid("sourceServerArn", &format!("names a server in {region}; extend it from {region}")));
    }
    if staging == ctx.account() {
        return Err(invalid("sourceServerArn", "names a source server of this account, which needs no extension"));
    }
    let origin = readable_staging(ctx, staging, "CreateExtendedSourceServer")?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| not_found(arn, &format!("Source server {id} not found in staging account {staging}")))?;
    if origin.staging.is_some() {
        return Err(invalid("sourceServerArn", "names an extended source server, which cannot be extended again"));
    }
    let quota = ctx.world.quotas.read().source_servers;
    let (account, now) = (ctx.account().to_owned(), ctx.now());
    with_partition(ctx, |p| {
        if let Some(have) = p.drs.servers.values().find(|s| s.staging.as_ref().is_some_and(|o| o.arn == origin.arn)) {
            return Err(invalid("sourceServerArn", &format!("is extended into this account already, as {}", have.id)));
        }
        if p.drs.servers.len() >= quota {
            return Err(ApiError::new(402, "ServiceQuotaExceededException", format!("{quota} source servers in this region"))
                .with("serviceCode", "drs")
                .with("quotaCode", "source-servers"));
        }
        let server = extension(&origin, staging, &account, tags, now);
        let reply = json_reply(201, &json!({"sourceServer": server.to_json()}));
        insert(p, server, now);
        Ok(reply)
    })
}

/// An extension the fleet declares, created when the simulator starts.
pub fn extend_at_start(world: &World, staging: &str, region: &str, staging_id: &str, target: &str, now: DateTime<Utc>) {
    let origin = world.partition(staging, region).lock().drs.servers.get(staging_id).cloned();
    if let Some(origin) = origin {
        let server = extension(&origin, staging, target, origin.tags.clone(), now);
        insert(&mut world.partition(target, region).lock(), server, now);
    }
}

/// The staging account's servers in the caller's region, when the staging account trusts
/// the caller's account and has DRS there, and DRS answers there: an outage injected on the
/// staging account's DRS in the region (`faults.rs`, operation `operation`) fails the
/// caller's call as DRS's own internal error.
fn readable_staging(ctx: &Ctx, staging: &str, operation: &str) -> Result<Vec<SourceServer>, ApiError> {
    if !trusts(ctx.world, staging, ctx.account(), &ctx.region) {
        return Err(ApiError::new(
            403,
            "AccessDeniedException",
            format!(
                "Elastic Disaster Recovery cannot assume {STAGING_ROLE} in staging account {staging}: it does not trust account {}",
                ctx.account()
            ),
        ));
    }
    let there =
        CallKey { account: staging.into(), region: ctx.region.clone(), service: "drs".into(), operation: operation.into() };
    if let Some(status) = ctx.world.faults.outage(&there) {
        return Err(outage(Protocol::RestJson1, status));
    }
    let part = ctx.world.partition(staging, &ctx.region);
    let p = part.lock();
    if !p.drs_initialized {
        return Err(invalid("stagingAccountID", &format!("account {staging} is not initialized for DRS in {}", ctx.region)));
    }
    Ok(p.drs.servers.values().cloned().collect())
}

/// The staging ARNs extended into this partition.
fn extended_here(p: &crate::world::Partition) -> BTreeSet<String> {
    p.drs.servers.values().filter_map(|s| s.staging.as_ref()).map(|o| o.arn.clone()).collect()
}

fn extension(origin: &SourceServer, staging: &str, target: &str, tags: Tags, now: DateTime<Utc>) -> SourceServer {
    let region = origin.arn.split(':').nth(3).unwrap_or_default();
    let id = crate::ids::stable_source_server_id(target, region, &origin.arn);
    let mut s = origin.clone();
    s.arn = format!("arn:aws:drs:{region}:{target}:source-server/{id}");
    s.launch_config = default_launch_config(&id, &origin.hostname, &template_id_of(&id));
    s.replication_config = default_replication_config(&id, &origin.hostname);
    s.id = id;
    s.tags = tags;
    s.added = now;
    s.recovery_instance_id = None;
    s.last_launch = None;
    s.staging = Some(StagingOrigin { account: staging.to_owned(), arn: origin.arn.clone() });
    s
}

fn insert(p: &mut crate::world::Partition, server: SourceServer, now: DateTime<Utc>) {
    let template = drs_launch_template(&server.id, &server.instance_type, now);
    p.ec2.launch_templates.insert(template.id.clone(), template);
    p.drs.servers.insert(server.id.clone(), server);
}

/// (region, account, source server id) of `arn:<partition>:drs:<region>:<account>:source-server/<id>`.
fn parse_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let ["arn", partition, "drs", region, account, resource] = parts[..] else { return None };
    if !(word(partition) && word(region) && is_account(account)) {
        return None;
    }
    let id = resource.strip_prefix("source-server/").filter(|id| input::is_source_server_id(id))?;
    Some((region, account, id))
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn not_found(arn: &str, what: &str) -> ApiError {
    ApiError::new(404, "ResourceNotFoundException", what).with("resourceId", arn).with("resourceType", "SOURCE_SERVER")
}

/// One page of `all` as `maxResults` and `nextToken` ask, and the next page's token.
fn window<'a, T>(all: &'a [T], v: &Value, max: usize) -> Result<(&'a [T], Option<String>), ApiError> {
    let (start, size) = input::page_window_upto(v, all.len(), max)?;
    let end = (start + size).min(all.len());
    Ok((&all[start..end], (end < all.len()).then(|| input::token_for(end))))
}

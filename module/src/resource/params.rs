//! The parameters of a DRS resource as the manifest writes them, deserialized in one pass,
//! then the checks that span fields (a HostNames qualifier outside the scope, repeats, Hooks
//! without a Tenant), then the schema. A parameter the schema does not know (the platform's
//! own are listed there) is refused naming the nearest known name, unless the configuration
//! lets it through with a warning.

use super::recovery::{
    CleanupScope, Mode, PauseSpec, PolicySpec, RecoveryParams, WaveSettings, DEFAULT_CLEANUP_MINUTES, DEFAULT_GRACE_MINUTES,
    DEFAULT_REPLICATE_MINUTES, DEFAULT_TIMEOUT_MINUTES, MAX_TIMEOUT_MINUTES,
};
use super::values::{AccountId, ExecutionId, Instant, Name, Region, TagValues};
use super::waves::WavesSpec;
use super::{DrsResource, ResourceError, SCHEMA};
use crate::config::UnknownParameters;
use crate::launch::Desired;
use crate::selection::{HostName, Policy, ResourceSelection};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Parameters {
    account_id: Option<AccountId>,
    #[serde(default)]
    accounts: Vec<AccountId>,
    #[serde(default)]
    regions: Vec<Region>,
    host_names: Option<Vec<HostName>>,
    tags: Option<BTreeMap<String, TagValues>>,
    #[serde(default)]
    selection: Policy,
    waves: Option<WavesSpec>,
    #[serde(default)]
    mode: Mode,
    execution_id: Option<ExecutionId>,
    timeout_minutes: Option<u64>,
    unreachable_grace_minutes: Option<u64>,
    cleanup_timeout_minutes: Option<u64>,
    replicate_timeout_minutes: Option<u64>,
    target_rpo_minutes: Option<u64>,
    target_rto_minutes: Option<u64>,
    failure_policy: Option<PolicySpec>,
    #[serde(default)]
    pause_before: Vec<String>,
    #[serde(default)]
    cleanup: CleanupScope,
    tenant: Option<Name>,
    hooks: Option<Vec<Name>>,
    launch_settings: Option<Desired>,
    #[serde(default)]
    relaunch_recovered: bool,
    recover_before: Option<Instant>,
}

fn field(resource: &str, field: impl Into<String>, reason: impl Into<String>) -> ResourceError {
    ResourceError::Field { resource: resource.to_owned(), field: field.into(), reason: reason.into() }
}

/// The most a resource's parameters may hold, written as JSON: Step Functions hands the
/// platform's state to the module in at most 256 KiB, so nothing larger is a real resource,
/// and the checks below (the schema's especially) are not run on megabytes of hostile input.
pub const MAX_PARAMETERS_BYTES: usize = 256 * 1024;

/// `event_account`: the platform event's AccountId, the scope when the parameters name none.
pub(super) fn parse(
    name: &str,
    value: &Value,
    event_account: Option<&str>,
    unknown: UnknownParameters,
) -> Result<DrsResource, ResourceError> {
    if !value.is_object() {
        return Err(field(name, "parameters", "expected an object"));
    }
    let size = value.to_string().len();
    if size > MAX_PARAMETERS_BYTES {
        return Err(field(
            name,
            "parameters",
            format!("{size} bytes of JSON, over {MAX_PARAMETERS_BYTES} (Step Functions' payload limit)"),
        ));
    }
    // Unknown keys first, whatever else is wrong: a misspelt key is named with the key meant.
    let (cleaned, let_through) = unknown_keys(name, value, unknown)?;
    let value = &cleaned;
    let p: Parameters = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { "parameters".to_owned() } else { format!("parameters.{path}") };
        field(name, at, e.into_inner().to_string())
    })?;
    if let Some(WavesSpec::List(list)) = &p.waves {
        super::waves::names_and_dependencies(list).map_err(|(at, why)| field(name, format!("parameters.Waves{at}"), why))?;
    }
    let selection = selection(name, &p, event_account)?;
    let recovery = recovery(name, &p)?;
    if let Some(l) = &p.launch_settings {
        l.check().map_err(|(at, why)| field(name, format!("parameters.LaunchSettings.{at}"), why))?;
    }
    SCHEMA
        .validate(value, "parameters")
        .map_err(|e| ResourceError::Schema { resource: name.to_owned(), reasons: format!("{e:#}") })?;
    Ok(DrsResource {
        name: name.to_owned(),
        selection,
        recovery,
        waves: p.waves,
        launch: p.launch_settings,
        source: Value::Null,
        unknown: let_through,
    })
}

/// Keys the schema does not know: refused, or (`unknownParameters: warn`) taken out of the
/// parameters, logged, and returned to be listed by preflight.
fn unknown_keys(
    name: &str,
    value: &Value,
    policy: UnknownParameters,
) -> Result<(Value, Vec<crate::schema::UnknownKey>), ResourceError> {
    let mut cleaned = value.clone();
    let mut let_through = vec![];
    // The schema names at most 10 problems a pass: a few passes take out a long list.
    for _ in 0..10 {
        let unknown = SCHEMA.check(&cleaned).unknown;
        if unknown.is_empty() {
            break;
        }
        if policy == UnknownParameters::Refuse {
            let lines: Vec<String> = unknown.iter().map(ToString::to_string).collect();
            let reasons = format!("parameters does not match its schema:\n  {}", lines.join("\n  "));
            return Err(ResourceError::Schema { resource: name.to_owned(), reasons });
        }
        for u in unknown {
            remove_at(&mut cleaned, &u.at);
            tracing::warn!(resource = name, "{u} (let through: unknownParameters is warn)");
            let_through.push(u);
        }
    }
    Ok((cleaned, let_through))
}

/// Removes the key a JSON pointer names.
fn remove_at(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else { return };
    let key = key.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(map)) = value.pointer_mut(parent) {
        map.remove(&key);
    }
}

fn selection(name: &str, p: &Parameters, event_account: Option<&str>) -> Result<ResourceSelection, ResourceError> {
    let mut accounts: Vec<String> = vec![];
    for a in p.account_id.iter().chain(&p.accounts) {
        if !accounts.iter().any(|x| x == a.as_str()) {
            accounts.push(a.as_str().to_owned());
        }
    }
    if accounts.is_empty() {
        accounts.extend(event_account.map(str::to_owned));
    }
    let regions: Vec<String> = p.regions.iter().map(|r| r.as_str().to_owned()).collect();
    let host_names = p.host_names.clone().unwrap_or_default();
    if p.host_names.as_ref().is_some_and(Vec::is_empty) {
        return Err(field(name, "parameters.HostNames", "empty; leave it out to select by Tags alone"));
    }
    for (i, h) in host_names.iter().enumerate() {
        let at = format!("parameters.HostNames[{i}]");
        if let Some(j) = host_names[..i].iter().position(|o| (&o.account, &o.region, &o.name) == (&h.account, &h.region, &h.name))
        {
            return Err(field(name, at, format!("'{}' repeats HostNames[{j}] '{}'", h.entry, host_names[j].entry)));
        }
        outside(&h.account, &accounts, "account", "AccountId/Accounts").map_err(|e| field(name, &at, e))?;
        outside(&h.region, &regions, "region", "Regions").map_err(|e| field(name, &at, e))?;
    }
    let tags = match &p.tags {
        Some(t) if t.is_empty() => {
            return Err(field(name, "parameters.Tags", "empty; leave it out to select by HostNames alone"))
        }
        Some(t) if t.keys().any(String::is_empty) => return Err(field(name, "parameters.Tags", "a tag key is empty")),
        Some(t) => t.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect(),
        None => BTreeMap::new(),
    };
    if host_names.is_empty() && tags.is_empty() {
        return Err(field(name, "parameters", "a DRS resource needs HostNames or Tags to select its servers"));
    }
    Ok(ResourceSelection { resource_name: name.to_owned(), accounts, regions, host_names, tags, policy: p.selection.clone() })
}

/// A qualifier outside an explicit scope could never match: say so now, not as a miss later.
fn outside(q: &Option<String>, scope: &[String], what: &str, fields: &str) -> Result<(), String> {
    match q {
        Some(q) if !scope.is_empty() && !scope.contains(q) => {
            Err(format!("{what} {q} is outside the resource's {fields} ({})", scope.join(", ")))
        }
        _ => Ok(()),
    }
}

/// An objective in minutes (`at` names its field): 1 to 30 days, or none.
fn objective(name: &str, given: Option<u64>, at: &str) -> Result<Option<u64>, ResourceError> {
    match given {
        Some(0) => Err(field(name, at, "at least 1 (leave it out for no objective)")),
        Some(m) if m > MAX_TIMEOUT_MINUTES => Err(field(name, at, format!("at most {MAX_TIMEOUT_MINUTES} (30 days)"))),
        m => Ok(m),
    }
}

fn recovery(name: &str, p: &Parameters) -> Result<RecoveryParams, ResourceError> {
    let minutes = |given: Option<u64>, default: u64, what: &str| match given.unwrap_or(default) {
        m if m > MAX_TIMEOUT_MINUTES => {
            Err(field(name, format!("parameters.{what}"), format!("at most {MAX_TIMEOUT_MINUTES} (30 days)")))
        }
        m => Ok(m),
    };
    let timeout_minutes = minutes(p.timeout_minutes, DEFAULT_TIMEOUT_MINUTES, "TimeoutMinutes")?;
    let unreachable_grace_minutes = minutes(p.unreachable_grace_minutes, DEFAULT_GRACE_MINUTES, "UnreachableGraceMinutes")?;
    let cleanup_timeout_minutes = minutes(p.cleanup_timeout_minutes, DEFAULT_CLEANUP_MINUTES, "CleanupTimeoutMinutes")?;
    let replicate_timeout_minutes = minutes(p.replicate_timeout_minutes, DEFAULT_REPLICATE_MINUTES, "ReplicateTimeoutMinutes")?;
    let default_policy = p.failure_policy.map(|s| s.0).unwrap_or_default();
    let mut per_wave: BTreeMap<String, WaveSettings> = BTreeMap::new();
    let blank = || WaveSettings { pause: None, policy: default_policy, targets: Default::default() };
    for n in &p.pause_before {
        per_wave.entry(n.clone()).or_insert_with(blank).pause = Some(format!("PauseBefore names wave {n}"));
    }
    if let Some(WavesSpec::List(waves)) = &p.waves {
        for w in waves {
            let entry = per_wave.entry(w.name.clone()).or_insert_with(blank);
            match &w.pause_before {
                None | Some(PauseSpec::No) => {}
                Some(PauseSpec::Yes) => entry.pause = Some(format!("wave {} asks for an approval", w.name)),
                Some(PauseSpec::Because(reason)) => entry.pause = Some(reason.clone()),
            }
            if let Some(policy) = w.failure_policy {
                entry.policy = policy.0;
            }
        }
        for (i, w) in waves.iter().enumerate() {
            let at = |what: &str| format!("parameters.Waves[{i}].{what}");
            let targets = crate::resource::Targets {
                rto_minutes: objective(name, w.target_rto_minutes, &at("TargetRtoMinutes"))?,
                rpo_minutes: objective(name, w.target_rpo_minutes, &at("TargetRpoMinutes"))?,
            };
            if let Some(entry) = per_wave.get_mut(&w.name) {
                entry.targets = targets;
            }
        }
    }
    let tenant = p.tenant.as_ref().map(|t| t.as_str().to_owned());
    if p.hooks.is_some() && tenant.is_none() {
        return Err(field(name, "parameters.Hooks", "name the tenant whose hooks these are in parameters.Tenant"));
    }
    Ok(RecoveryParams {
        mode: p.mode,
        execution_id: p.execution_id.as_ref().map(|e| e.as_str().to_owned()),
        timeout_minutes,
        unreachable_grace_minutes,
        cleanup_timeout_minutes,
        replicate_timeout_minutes,
        target_rpo_minutes: objective(name, p.target_rpo_minutes, "parameters.TargetRpoMinutes")?,
        target_rto_minutes: objective(name, p.target_rto_minutes, "parameters.TargetRtoMinutes")?,
        default_policy,
        per_wave,
        cleanup: p.cleanup,
        tenant,
        hooks: p.hooks.as_ref().map(|h| h.iter().map(|n| n.as_str().to_owned()).collect()),
        relaunch_recovered: p.relaunch_recovered,
        recover_before: p.recover_before.map(|t| t.0),
    })
}

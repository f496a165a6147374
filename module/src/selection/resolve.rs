//! Resolving resources to groups of discovered servers, with misses, conflicts and servers not
//! ready reported by name and judged by each resource's policy.

use super::matching::{host_matches, in_scope, tags_match};
use super::params::{Action, ResourceSelection};
use crate::discovery::DiscoveredServer;
use serde::Serialize;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

/// A selected server: its ids and where DRS protects it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerRef {
    pub account: String,
    pub region: String,
    pub hostname: String,
    pub source_server_id: String,
}

impl From<&DiscoveredServer> for ServerRef {
    fn from(s: &DiscoveredServer) -> Self {
        ServerRef {
            account: s.account.clone(),
            region: s.region.clone(),
            hostname: s.hostname.clone(),
            source_server_id: s.source_server_id.clone(),
        }
    }
}

impl fmt::Display for ServerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} in {}/{})", self.hostname, self.source_server_id, self.account, self.region)
    }
}

/// A HostNames entry (or the Tags alone) that selects nothing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Miss {
    /// `HostNames[2] 'web-99'` or `Tags`.
    pub entry: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Conflict {
    /// One HostNames entry matches several servers (in two accounts, say).
    Ambiguous { entry: String, servers: Vec<ServerRef> },
    /// One server selected by several resources of one layer, named in manifest order.
    Claimed { server: ServerRef, resources: Vec<String> },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotReady {
    pub server: ServerRef,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    pub resource_name: String,
    /// The group, sorted by account, region and hostname.
    pub servers: Vec<ServerRef>,
    pub misses: Vec<Miss>,
    pub conflicts: Vec<Conflict>,
    pub not_ready: Vec<NotReady>,
    /// One line per problem, each starting with the resource's name; the policy decides
    /// whether a problem is a warning or an error.
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
}

impl Resolution {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub(super) fn report(&mut self, action: Action, message: String) {
        let line = format!("{}: {message}", self.resource_name);
        match action {
            Action::Fail => self.errors.push(line),
            Action::Warn | Action::Skip => self.warnings.push(line),
        }
    }
}

/// The servers a resource selects. With HostNames, each entry must match one server, which
/// must also match the Tags if any (intersection); without them, every server in scope with
/// the Tags.
pub fn resolve(sel: &ResourceSelection, servers: &[DiscoveredServer]) -> Resolution {
    let policy = &sel.policy;
    let mut r = Resolution {
        resource_name: sel.resource_name.clone(),
        servers: vec![],
        misses: vec![],
        conflicts: vec![],
        not_ready: vec![],
        warnings: vec![],
        errors: vec![],
    };
    let scoped: Vec<&DiscoveredServer> = servers.iter().filter(|s| in_scope(sel, s)).collect();
    unknown_tags(sel, &scoped, &mut r);
    let mut chosen: Vec<&DiscoveredServer> = vec![];
    if sel.host_names.is_empty() {
        chosen = scoped.iter().copied().filter(|s| tags_match(&sel.tags, s)).collect();
        if chosen.is_empty() {
            let reason = format!("no server{} has the tags {}", scope_text(sel), tags_text(sel));
            r.report(policy.on_miss, format!("Tags match nothing: {reason}"));
            r.misses.push(Miss { entry: "Tags".into(), reason });
        }
    }
    for (i, h) in sel.host_names.iter().enumerate() {
        let entry = format!("HostNames[{i}] '{}'", h.entry);
        let named: Vec<&DiscoveredServer> = scoped.iter().copied().filter(|s| host_matches(h, s)).collect();
        let found: Vec<&DiscoveredServer> = named.iter().copied().filter(|s| tags_match(&sel.tags, s)).collect();
        if found.is_empty() {
            let reason = if !named.is_empty() {
                format!("matches {} but not the tags {}", refs_text(&named), tags_text(sel))
            } else {
                let elsewhere: Vec<&DiscoveredServer> = servers.iter().filter(|s| host_matches(h, s)).collect();
                match elsewhere.is_empty() {
                    true => format!("matches no server{}", scope_text(sel)),
                    false => format!("matches no server{}, only {}", scope_text(sel), refs_text(&elsewhere)),
                }
            };
            r.report(policy.on_miss, format!("{entry} {reason}"));
            r.misses.push(Miss { entry, reason });
        } else if found.len() > 1 {
            r.report(policy.on_conflict, format!("{entry} matches {} servers: {}; qualify it", found.len(), refs_text(&found)));
            r.conflicts.push(Conflict::Ambiguous { entry, servers: found.iter().map(|s| ServerRef::from(*s)).collect() });
        }
        // Under "warn" an ambiguous entry keeps all its servers; under "fail" the errors stop the run anyway.
        chosen.extend(found);
    }
    chosen.sort_by_key(|s| ServerRef::from(*s));
    // Two entries may name one server ("web-01" and its FQDN): it is one member.
    chosen.dedup_by_key(|s| ServerRef::from(*s));
    for s in chosen {
        if let Some(reason) = not_ready(sel, s) {
            let server = ServerRef::from(s);
            r.report(policy.on_not_ready, format!("{server} is not ready: {reason}"));
            r.not_ready.push(NotReady { server: server.clone(), reason });
            if policy.on_not_ready == Action::Skip {
                continue;
            }
        }
        r.servers.push(ServerRef::from(s));
    }
    r
}

/// Servers in scope that the Tags may select by their source instance's EC2 tags, which
/// could not be read (the source region down, say): the selection cannot be decided, and the
/// group is refused naming the regions and the tags, whatever the miss policy, rather than
/// planned short as if the tags matched nothing. A server whose DRS tags carry every key of
/// the selection (what tags sync gives it) is decided by them.
fn unknown_tags(sel: &ResourceSelection, scoped: &[&DiscoveredServer], r: &mut Resolution) {
    if sel.tags.is_empty() {
        return;
    }
    let mut unknown: BTreeMap<&str, usize> = BTreeMap::new();
    let undecided = |s: &&&DiscoveredServer| !tags_match(&sel.tags, s) && !sel.tags.keys().all(|k| s.tags.contains_key(k));
    for s in scoped.iter().filter(undecided) {
        if let Some(why) = &s.source_unread {
            *unknown.entry(why.as_str()).or_default() += 1;
        }
    }
    if unknown.is_empty() {
        return;
    }
    let n: usize = unknown.values().sum();
    let whys: Vec<String> = unknown.iter().map(|(why, k)| format!("{why} ({k} servers)")).collect();
    r.errors.push(format!(
        "{}: Tags {}: the EC2 tags of {n} servers in scope cannot be read, so the group cannot be decided: {}; \
         `drs-orch tags sync` copies the source instances' tags onto their DRS source servers, so that selecting \
         does not need the source region in a disaster",
        sel.resource_name,
        tags_text(sel),
        whys.join("; ")
    ));
}

/// Resolves the resources of one layer (which run in parallel), then reports every server
/// selected by more than one of them, naming them all. Under "fail" it is an error of each
/// claiming resource; under "warn" the first resource in manifest order keeps the server and
/// the later ones drop it, so no server is launched twice.
pub fn resolve_layer<S: Borrow<ResourceSelection>>(resources: &[S], servers: &[DiscoveredServer]) -> Vec<Resolution> {
    let resources: Vec<&ResourceSelection> = resources.iter().map(Borrow::borrow).collect();
    let mut out: Vec<Resolution> = resources.iter().map(|sel| resolve(sel, servers)).collect();
    let mut claims: BTreeMap<ServerRef, Vec<usize>> = BTreeMap::new();
    for (i, r) in out.iter().enumerate() {
        for s in &r.servers {
            claims.entry(s.clone()).or_default().push(i);
        }
    }
    for (server, by) in claims.into_iter().filter(|(_, by)| by.len() > 1) {
        let names: Vec<String> = by.iter().map(|&i| resources[i].resource_name.clone()).collect();
        for (nth, &i) in by.iter().enumerate() {
            let action = resources[i].policy.on_conflict;
            let r = &mut out[i];
            let mut message = format!("{server} is selected by {} in one layer", names.join(" and "));
            if action != Action::Fail && nth > 0 {
                r.servers.retain(|s| s != &server);
                message += &format!("; left to {}", names[0]);
            }
            r.report(action, message);
            r.conflicts.push(Conflict::Claimed { server: server.clone(), resources: names.clone() });
        }
    }
    out
}

fn not_ready(sel: &ResourceSelection, s: &DiscoveredServer) -> Option<String> {
    match (s.replication_state.as_deref(), s.lag_seconds, sel.policy.max_lag_seconds) {
        (Some("CONTINUOUS"), Some(lag), Some(max)) if lag > max => {
            Some(format!("replication lags {lag} s, over maxLagSeconds {max}"))
        }
        (Some("CONTINUOUS"), _, _) => None,
        (Some(state), _, _) => Some(format!("replication is {state}, not CONTINUOUS")),
        (None, _, _) => Some("replication state unknown, not CONTINUOUS".into()),
    }
}

fn scope_text(sel: &ResourceSelection) -> String {
    let mut parts = vec![];
    if !sel.accounts.is_empty() {
        parts.push(format!("account {}", sel.accounts.join(", ")));
    }
    if !sel.regions.is_empty() {
        parts.push(format!("region {}", sel.regions.join(", ")));
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!(" in {}", parts.join(" and ")),
    }
}

fn tags_text(sel: &ResourceSelection) -> String {
    let one = |(k, vs): (&String, &Vec<String>)| match vs.as_slice() {
        [v] => format!("{k}={v}"),
        vs => format!("{k}={}", vs.join("|")),
    };
    sel.tags.iter().map(one).collect::<Vec<_>>().join(", ")
}

fn refs_text(servers: &[&DiscoveredServer]) -> String {
    servers.iter().map(|s| ServerRef::from(*s).to_string()).collect::<Vec<_>>().join(", ")
}

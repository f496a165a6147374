//! `LaunchSettings.Servers`: one server's own launch template fields and static private
//! address, keyed by its source server id (`s-...`) or its host name, qualified as in
//! `HostNames` (`[<account>|<region>|<account>/<region>:]<name>`) where one name is in more
//! than one partition. A key must name exactly one server of the group; a run pins each entry
//! to its server's id when it is planned (`pinned`), so that every later check applies the
//! same entry to the same server without knowing host names.

use super::desired::{check_groups, check_subnet, Desired, Refusal, Settings};
use crate::selection::{HostName, ServerRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// What one `Servers` entry sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ServerSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
    /// The recovery instance's private IPv4 address, in its subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip_address: Option<String>,
}

impl ServerSettings {
    /// This entry's values over the partition's.
    pub(super) fn apply(&self, out: &mut Settings) {
        let set = |have: &mut Option<String>, own: &Option<String>| {
            if own.is_some() {
                have.clone_from(own);
            }
        };
        set(&mut out.instance_type, &self.instance_type);
        set(&mut out.subnet_id, &self.subnet_id);
        set(&mut out.private_ip_address, &self.private_ip_address);
        if self.security_group_ids.is_some() {
            out.security_group_ids.clone_from(&self.security_group_ids);
        }
    }

    pub(super) fn check(&self, key: &str, all: &Desired) -> Result<(), Refusal> {
        let at = |field: &str| format!("Servers.{key}.{field}");
        ServerKey::parse(key).map_err(|why| (format!("Servers.{key}"), why))?;
        if *self == ServerSettings::default() {
            return Err((
                format!("Servers.{key}"),
                "sets nothing: give InstanceType, SubnetId, SecurityGroupIds or PrivateIpAddress".into(),
            ));
        }
        if self.instance_type.is_some() && all.right_sizing.as_deref() != Some("NONE") {
            return Err((
                at("InstanceType"),
                "set LaunchSettings.RightSizing to NONE as well; with BASIC or IN_AWS, DRS chooses the instance type itself"
                    .into(),
            ));
        }
        if let Some(s) = &self.subnet_id {
            check_subnet(s).map_err(|why| (at("SubnetId"), why))?;
        }
        if let Some(g) = &self.security_group_ids {
            check_groups(g).map_err(|why| (at("SecurityGroupIds"), why))?;
        }
        if let Some(ip) = &self.private_ip_address {
            if ip.parse::<Ipv4Addr>().is_err() {
                return Err((at("PrivateIpAddress"), format!("'{ip}' is not an IPv4 address (as in 10.10.0.50)")));
            }
            if all.copy_private_ip == Some(true) {
                return Err((
                    at("PrivateIpAddress"),
                    "conflicts with LaunchSettings.CopyPrivateIp true: DRS would launch the server at its source's \
                     address, not this one; set CopyPrivateIp to false or leave it out"
                        .into(),
                ));
            }
        }
        Ok(())
    }
}

/// A `Servers` key: a source server id, or a host name with its qualifier.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerKey {
    Id(String),
    Host(HostName),
}

impl ServerKey {
    pub fn parse(key: &str) -> Result<ServerKey, String> {
        let id = key.strip_prefix("s-").is_some_and(|rest| rest.len() == 17 && rest.chars().all(|c| c.is_ascii_alphanumeric()));
        if id {
            return Ok(ServerKey::Id(key.to_owned()));
        }
        HostName::try_from(key.to_owned())
            .map(ServerKey::Host)
            .map_err(|why| format!("not a source server id (s-...) or a host name: {why}"))
    }

    /// A short name matches the host name or its first label; a dotted one the whole name.
    pub fn matches(&self, s: &ServerRef) -> bool {
        match self {
            ServerKey::Id(id) => *id == s.source_server_id,
            ServerKey::Host(h) => {
                if h.account.as_ref().is_some_and(|a| *a != s.account) || h.region.as_ref().is_some_and(|r| *r != s.region) {
                    return false;
                }
                let name = s.hostname.trim_end_matches('.').to_ascii_lowercase();
                if h.name.contains('.') {
                    name == h.name
                } else {
                    name.split('.').next() == Some(h.name.as_str())
                }
            }
        }
    }

    /// Which of two keys naming one server applies: the lower.
    pub fn rank(&self) -> u8 {
        match self {
            ServerKey::Id(_) => 0,
            ServerKey::Host(h) if h.account.is_some() && h.region.is_some() => 1,
            ServerKey::Host(h) if h.account.is_some() || h.region.is_some() => 2,
            ServerKey::Host(_) => 3,
        }
    }
}

/// A `Servers` key that does not name exactly one server, or a server named twice.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "problem")]
pub enum KeyProblem {
    /// The key names no server of the group.
    NoServer { key: String },
    /// The key names several servers: a per-server entry is for one.
    Several { key: String, servers: Vec<ServerRef> },
    /// One server is named by more than one key; the most specific applies.
    NamedTwice { server: ServerRef, keys: Vec<String>, applies: String },
}

impl KeyProblem {
    /// Whether it stops a run (else it is a warning).
    pub fn blocks(&self) -> bool {
        !matches!(self, KeyProblem::NamedTwice { .. })
    }
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyProblem::NoServer { key } => write!(
                f,
                "LaunchSettings.Servers.{key}: names no server of the resource's group (give a host name, \
                 qualified as <account>/<region>:<name> where needed, or a source server id)"
            ),
            KeyProblem::Several { key, servers } => {
                let named: Vec<String> = servers.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "LaunchSettings.Servers.{key}: names {} servers ({}); qualify it as <account>/<region>:<name> or use the source server id",
                    servers.len(),
                    named.join(", ")
                )
            }
            KeyProblem::NamedTwice { server, keys, applies } => write!(
                f,
                "LaunchSettings.Servers: {server} is named by {}; {applies} applies",
                keys.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(" and ")
            ),
        }
    }
}

/// What the keys of `want.Servers` name in `group` (every server the selection found,
/// those left out as not ready too).
pub fn key_problems(want: &Desired, group: &[ServerRef]) -> Vec<KeyProblem> {
    let Some(servers) = &want.servers else { return vec![] };
    let mut out = vec![];
    let mut by_server: BTreeMap<&ServerRef, Vec<String>> = BTreeMap::new();
    for key in servers.keys() {
        let Ok(k) = ServerKey::parse(key) else { continue };
        let named: Vec<&ServerRef> = group.iter().filter(|s| k.matches(s)).collect();
        match named.len() {
            0 => out.push(KeyProblem::NoServer { key: key.clone() }),
            1 => by_server.entry(named[0]).or_default().push(key.clone()),
            _ => out.push(KeyProblem::Several { key: key.clone(), servers: named.into_iter().cloned().collect() }),
        }
    }
    for (server, keys) in by_server.into_iter().filter(|(_, k)| k.len() > 1) {
        let applies = want.entry_for(server).map(|(k, _)| format!("'{k}'")).unwrap_or_default();
        out.push(KeyProblem::NamedTwice { server: server.clone(), keys, applies });
    }
    out
}

/// `want` with each `Servers` entry keyed by the source server id of the one server of
/// `group` it names (a run's plan keeps this); a key naming several servers is refused,
/// and one naming none has nothing to apply to.
pub fn pinned(want: &Desired, group: &[ServerRef]) -> Result<Desired, Vec<KeyProblem>> {
    if want.servers.is_none() {
        return Ok(want.clone());
    }
    let refused: Vec<KeyProblem> =
        key_problems(want, group).into_iter().filter(|p| matches!(p, KeyProblem::Several { .. })).collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    let servers: BTreeMap<String, ServerSettings> =
        group.iter().filter_map(|s| want.entry_for(s).map(|(_, v)| (s.source_server_id.clone(), v.clone()))).collect();
    Ok(Desired { servers: Some(servers).filter(|m| !m.is_empty()), ..want.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::DrsResource;
    use serde_json::json;

    fn server(account: &str, region: &str, host: &str, id: &str) -> ServerRef {
        ServerRef { account: account.into(), region: region.into(), hostname: host.into(), source_server_id: id.into() }
    }

    fn settings(v: serde_json::Value) -> Result<Desired, String> {
        let p = json!({"Tags": {"Tier": "db"}, "LaunchSettings": v});
        DrsResource::new("Db", &p).map(|r| r.launch.unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn each_field_of_an_entry_is_checked_and_named() {
        let e = |v| settings(v).unwrap_err();
        let bad_ip = e(json!({"Servers": {"db-01": {"PrivateIpAddress": "10.10.0.300"}}}));
        assert!(
            bad_ip.contains("parameters.LaunchSettings.Servers.db-01.PrivateIpAddress: '10.10.0.300' is not an IPv4"),
            "{bad_ip}"
        );
        let copy = e(json!({"CopyPrivateIp": true, "Servers": {"db-01": {"PrivateIpAddress": "10.10.0.50"}}}));
        assert!(copy.contains("Servers.db-01.PrivateIpAddress: conflicts with LaunchSettings.CopyPrivateIp true"), "{copy}");
        let sizing = e(json!({"Servers": {"db-01": {"InstanceType": "r5.large"}}}));
        assert!(sizing.contains("Servers.db-01.InstanceType: set LaunchSettings.RightSizing to NONE"), "{sizing}");
        assert!(e(json!({"Servers": {"db-01": {}}})).contains("Servers.db-01: sets nothing"));
        assert!(e(json!({"Servers": {"db 01": {"SubnetId": "subnet-1"}}})).contains("Servers.db 01: not a source server id"));
        assert!(e(json!({"Servers": {"db-01": {"SubnetId": "vpc-1"}}})).contains("Servers.db-01.SubnetId: 'vpc-1'"));
        assert!(e(json!({"Servers": {"db-01": {"Colour": "red"}}})).contains("Colour"));
    }

    #[test]
    fn an_entry_applies_to_the_one_server_it_names() {
        let d = settings(json!({
            "SubnetId": {"us-east-1": "subnet-e"},
            "Servers": {
                "db-01": {"PrivateIpAddress": "10.10.0.50"},
                "200000000002/us-east-1:db-02": {"SubnetId": "subnet-0ff", "PrivateIpAddress": "10.10.0.51"},
                "s-0123456789abcdefg": {"SecurityGroupIds": ["sg-1"]}
            }
        }))
        .unwrap();
        let db01 = server("200000000001", "us-east-1", "db-01.corp.example.com", "s-aaaaaaaaaaaaaaaaa");
        let w = d.for_server(&db01);
        assert_eq!((w.subnet_id.as_deref(), w.private_ip_address.as_deref()), (Some("subnet-e"), Some("10.10.0.50")));
        assert_eq!(w.copy_private_ip, Some(false), "a static address means DRS must not copy the source's");
        let db02 = server("200000000002", "us-east-1", "db-02", "s-bbbbbbbbbbbbbbbbb");
        assert_eq!(d.for_server(&db02).subnet_id.as_deref(), Some("subnet-0ff"));
        let other = server("200000000003", "us-east-1", "db-02", "s-0123456789abcdefg");
        let o = d.for_server(&other);
        assert_eq!((o.private_ip_address, o.security_group_ids), (None, Some(vec!["sg-1".to_string()])));
        assert_eq!(o.copy_private_ip, None, "nothing static: copyPrivateIp is not asked");

        // Keys: one names nothing, one names two servers.
        let twin = server("200000000003", "us-west-2", "db-01", "s-ccccccccccccccccc");
        let problems = key_problems(&d, &[db01.clone(), db02.clone(), twin.clone()]);
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(shown.iter().any(|p| p.starts_with("LaunchSettings.Servers.db-01: names 2 servers")), "{shown:?}");
        assert!(shown.iter().any(|p| p.starts_with("LaunchSettings.Servers.s-0123456789abcdefg: names no server")), "{shown:?}");
        assert!(pinned(&d, &[db01.clone(), db02.clone(), twin]).is_err());
        let pin = pinned(&d, &[db01.clone(), db02.clone()]).unwrap();
        let keys: Vec<&String> = pin.servers.as_ref().unwrap().keys().collect();
        assert_eq!(keys, ["s-aaaaaaaaaaaaaaaaa", "s-bbbbbbbbbbbbbbbbb"]);
        // A pinned entry applies by id, whatever the host name the run knows.
        let by_id = ServerRef { hostname: db01.source_server_id.clone(), ..db01 };
        assert_eq!(pin.for_server(&by_id).private_ip_address.as_deref(), Some("10.10.0.50"));
    }
}

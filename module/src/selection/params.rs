//! A DRS resource's selection: which servers (HostNames, Tags, within accounts and regions)
//! and what a miss, a conflict or a server not ready does. Built by `resource::DrsResource`
//! from the parameters it deserialized once; `HostName` and the `Selection` policy check
//! themselves as they are deserialized, so an error names the field.

use crate::resource::values::{is_account, is_region};
use serde::{de, Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSelection {
    pub resource_name: String,
    /// AccountId plus Accounts; empty means every discovered account.
    pub accounts: Vec<String>,
    /// Empty means every discovered region.
    pub regions: Vec<String>,
    pub host_names: Vec<HostName>,
    /// Each key with the values it accepts (any of them).
    pub tags: BTreeMap<String, Vec<String>>,
    pub policy: Policy,
}

impl ResourceSelection {
    /// Whether its accounts and regions (none named: all) take this account and region.
    pub fn reaches(&self, account: &str, region: &str) -> bool {
        (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
    }

    /// What selects the servers, with every way of writing the same selection made one:
    /// sets sorted and deduplicated, host names lower case with their qualifier, tag values
    /// as sets (a value and a one-element list are one). The policy is left out: it judges
    /// the group, it does not choose it.
    pub fn canonical(&self) -> serde_json::Value {
        use std::collections::BTreeSet;
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
        let hosts: BTreeSet<String> = self
            .host_names
            .iter()
            .map(|h| format!("{}/{}:{}", h.account.as_deref().unwrap_or("*"), h.region.as_deref().unwrap_or("*"), h.name))
            .collect();
        let tags: BTreeMap<&String, BTreeSet<String>> = self.tags.iter().map(|(k, v)| (k, set(v))).collect();
        serde_json::json!({
            "accounts": set(&self.accounts),
            "regions": set(&self.regions),
            "hostNames": hosts,
            "tags": tags,
        })
    }
}

/// One `HostNames` entry: `[<account>|<region>|<account>/<region>:]<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "String")]
pub struct HostName {
    /// As written, for messages.
    pub entry: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Lower case: names compare case-insensitively.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Fail,
    Warn,
    /// Only for servers not ready: leave them out of the group.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Policy {
    #[serde(deserialize_with = "fail_or_warn")]
    pub on_miss: Action,
    #[serde(deserialize_with = "fail_or_warn")]
    pub on_conflict: Action,
    #[serde(deserialize_with = "fail_warn_or_skip")]
    pub on_not_ready: Action,
    /// None (null): lag is not checked.
    pub max_lag_seconds: Option<u64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { on_miss: Action::Fail, on_conflict: Action::Fail, on_not_ready: Action::Fail, max_lag_seconds: Some(300) }
    }
}

impl TryFrom<String> for HostName {
    type Error = String;
    fn try_from(entry: String) -> Result<Self, String> {
        host_name(&entry)
    }
}

fn host_name(entry: &str) -> Result<HostName, String> {
    let (qualifier, name) = match entry.split_once(':') {
        Some((q, n)) => (Some(q), n),
        None => (None, entry),
    };
    let (account, region) = match qualifier.map(|q| (q, q.split_once('/'))) {
        None => (None, None),
        Some((_, Some((a, r)))) if is_account(a) && is_region(r) => (Some(a), Some(r)),
        Some((q, None)) if is_account(q) => (Some(q), None),
        Some((q, None)) if is_region(q) => (None, Some(q)),
        Some((q, _)) => {
            return Err(format!(
                "'{q}' in '{entry}' is not <account>, <region> or <account>/<region> (as in 200000000001/us-west-2:web-01)"
            ))
        }
    };
    let label_ok = |l: &str| {
        let edge = |c: char| c.is_ascii_alphanumeric() || c == '_';
        l.starts_with(edge) && l.ends_with(edge) && l.chars().all(|c| edge(c) || c == '-')
    };
    if !name.split('.').all(label_ok) {
        let whose = if qualifier.is_some() { format!(" in '{entry}'") } else { String::new() };
        let wildcard =
            if name.contains(['*', '?']) { "; patterns are not matched: name each server, or select by Tags" } else { "" };
        return Err(format!(
            "'{name}'{whose} is not a host name (labels of letters, digits, '-' and '_' joined by '.', not starting or ending with '-'){wildcard}"
        ));
    }
    Ok(HostName {
        entry: entry.to_owned(),
        account: account.map(str::to_owned),
        region: region.map(str::to_owned),
        name: name.to_ascii_lowercase(),
    })
}

fn action<'de, D: Deserializer<'de>>(d: D, skip_allowed: bool) -> Result<Action, D::Error> {
    let v = String::deserialize(d)?;
    match v.as_str() {
        "fail" => Ok(Action::Fail),
        "warn" => Ok(Action::Warn),
        "skip" if skip_allowed => Ok(Action::Skip),
        _ if skip_allowed => Err(de::Error::custom(format_args!("expected \"fail\", \"warn\" or \"skip\", not \"{v}\""))),
        _ => Err(de::Error::custom(format_args!("expected \"fail\" or \"warn\", not \"{v}\""))),
    }
}

fn fail_or_warn<'de, D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
    action(d, false)
}

fn fail_warn_or_skip<'de, D: Deserializer<'de>>(d: D) -> Result<Action, D::Error> {
    action(d, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{DrsResource, ResourceError, SCHEMA};
    use serde_json::{json, Value};

    fn from_parameters(name: &str, p: &Value) -> Result<ResourceSelection, ResourceError> {
        DrsResource::new(name, p).map(|r| r.selection)
    }

    fn from_resource(r: &Value) -> Result<ResourceSelection, ResourceError> {
        DrsResource::from_value(r).map(|r| r.selection)
    }

    fn err(p: Value) -> String {
        from_parameters("Web", &p).unwrap_err().to_string()
    }

    #[test]
    fn one_selection_written_two_ways_is_one_identity() {
        let id = |p: Value| DrsResource::new("Web", &p).unwrap().identity();
        let a = id(json!({"Tags": {"Tier": "web", "App": ["b", "a"]}, "HostNames": ["Web-01", "web-02"]}));
        let b = id(json!({"HostNames": ["web-02", "WEB-01"], "Tags": {"App": ["a", "b"], "Tier": ["web"]}}));
        assert_eq!(a, b, "a value and a one-element list, case and order are one selection");
        assert_ne!(a, id(json!({"Tags": {"Tier": "web", "App": ["b"]}, "HostNames": ["Web-01", "web-02"]})));
        assert_ne!(a, id(json!({"Tags": {"Tier": "web", "App": ["b", "a"]}, "HostNames": ["200000000001:web-01", "web-02"]})));
        let scoped = |p: Value, acct: &str| DrsResource::from_event("Web", Some(acct), &p).unwrap().identity();
        let p = json!({"Tags": {"Tier": "web"}});
        assert_eq!(scoped(p.clone(), "111111111111"), id(json!({"Tags": {"Tier": "web"}, "AccountId": "111111111111"})));
        assert_ne!(scoped(p.clone(), "111111111111"), scoped(p, "222222222222"), "the resolved scope is part of it");
        assert_ne!(
            a,
            DrsResource::new("Db", &json!({"Tags": {"Tier": "web", "App": ["b", "a"]}, "HostNames": ["Web-01", "web-02"]}))
                .unwrap()
                .identity()
        );
    }

    #[test]
    fn the_platform_sketch_parses() {
        let p = json!({"AccountId": "111111111111", "HostNames": ["web-01", "web-02"], "Tags": {"Wave": "1"}});
        let s = from_parameters("WebServers", &p).unwrap();
        assert_eq!(s.resource_name, "WebServers");
        assert_eq!(s.accounts, ["111111111111"]);
        assert_eq!(s.host_names.len(), 2);
        assert_eq!(s.tags["Wave"], ["1"]);
        assert_eq!(s.policy, Policy::default());
    }

    #[test]
    fn resources_parse_whole() {
        let r = json!({"action": "DRS", "resourceName": "Db", "parameters": {"Tags": {"Tier": ["db", "app"]}}});
        let s = from_resource(&r).unwrap();
        assert_eq!((s.resource_name.as_str(), s.tags["Tier"].clone()), ("Db", vec!["db".to_owned(), "app".to_owned()]));
        assert!(from_resource(&json!({"parameters": {}})).unwrap_err().to_string().contains("resourceName"));
    }

    #[test]
    fn host_name_qualifiers() {
        let h = host_name("200000000001/us-west-2:WEB-01.corp.example.com").unwrap();
        assert_eq!(
            (h.account.as_deref(), h.region.as_deref(), h.name.as_str()),
            (Some("200000000001"), Some("us-west-2"), "web-01.corp.example.com")
        );
        assert_eq!(host_name("200000000001:web-01").unwrap().account.as_deref(), Some("200000000001"));
        assert_eq!(host_name("us-gov-west-1:web-01").unwrap().region.as_deref(), Some("us-gov-west-1"));
        assert!(host_name("prod:web-01").unwrap_err().contains("'prod'"));
        assert!(host_name("us-west-2/200000000001:web-01").is_err());
        for bad in ["", "web 01", "-web", "web..corp", "web-01.", "a:b:c"] {
            assert!(host_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        let e = err(json!({"HostNames": ["web-01", "db-01", "web 03"]}));
        assert!(e.starts_with("resource Web: parameters.HostNames[2]: 'web 03' is not a host name"), "{e}");
        let e = err(json!({"HostNames": ["web-*"]}));
        assert!(e.contains("'web-*' is not a host name") && e.contains("patterns are not matched"), "{e}");
        let e = err(json!({"HostNames": ["us-east-1:web 1"]}));
        assert!(e.contains("'web 1' in 'us-east-1:web 1' is not a host name"), "{e}");
        let e = err(json!({"HostNames": ["web-01", "WEB-01"]}));
        assert!(e.contains("parameters.HostNames[1]: 'WEB-01' repeats HostNames[0] 'web-01'"), "{e}");
        let e = err(json!({"AccountId": "200000000001", "HostNames": ["200000000002:web-01"]}));
        assert!(e.contains("parameters.HostNames[0]: account 200000000002 is outside"), "{e}");
        let e = err(json!({"Regions": ["us-east-1"], "HostNames": ["us-west-2:web-01"]}));
        assert!(e.contains("parameters.HostNames[0]: region us-west-2 is outside"), "{e}");
        assert!(err(json!({"Tags": {"Wave": 1}})).contains("parameters.Tags.Wave: tag values are strings: write \"1\""));
        assert!(err(json!({"Tags": {"Tier": ["web", 2]}})).contains("parameters.Tags.Tier[1]"));
        assert!(err(json!({"Tags": {"Tier": []}})).contains("parameters.Tags.Tier: an empty list"));
        assert!(err(json!({"AccountId": "12345"})).contains("parameters.AccountId: '12345'"));
        assert!(err(json!({"Accounts": ["200000000001", "x"], "Tags": {"a": "b"}})).contains("parameters.Accounts[1]"));
        assert!(err(json!({"Regions": ["mars-1"], "Tags": {"a": "b"}})).contains("parameters.Regions[0]"));
        assert!(err(json!({"AccountId": "200000000001"})).contains("needs HostNames or Tags"));
        assert!(err(json!({"HostNames": []})).contains("parameters.HostNames: empty"));
        assert!(err(json!({"Tags": {}})).contains("parameters.Tags: empty"));
    }

    #[test]
    fn selection_policy() {
        let p = json!({"Tags": {"a": "b"}, "Selection": {"onMiss": "warn", "onNotReady": "skip", "maxLagSeconds": null}});
        let s = from_parameters("Web", &p).unwrap();
        assert_eq!(
            s.policy,
            Policy { on_miss: Action::Warn, on_not_ready: Action::Skip, max_lag_seconds: None, ..Policy::default() }
        );
        assert!(err(json!({"Tags": {"a": "b"}, "Selection": {"onMiss": "skip"}}))
            .contains("parameters.Selection.onMiss: expected \"fail\" or \"warn\""));
        assert!(err(json!({"Tags": {"a": "b"}, "Selection": {"onMis": "warn"}}))
            .contains("at /Selection/onMis: not a known parameter (did you mean onMiss?)"));
        assert!(
            err(json!({"Tags": {"a": "b"}, "Selection": {"maxLagSeconds": -1}})).contains("parameters.Selection.maxLagSeconds")
        );
    }

    #[test]
    fn the_schema_agrees_with_the_parser() {
        let good = [
            json!({"AccountId": "200000000001", "Accounts": ["200000000002"], "Regions": ["us-east-1", "us-gov-west-1"],
                   "HostNames": ["web-01", "WEB-02.corp.example.com", "200000000001:a", "us-east-1:b", "200000000002/us-east-1:c_d"],
                   "Tags": {"Wave": "1", "Tier": ["web", ""]},
                   "Selection": {"onMiss": "warn", "onConflict": "fail", "onNotReady": "skip", "maxLagSeconds": 60},
                   "Tenant": "shop-team", "Hooks": ["skip-tagged"]}),
            json!({"Tags": {"dr:tier": "db"}, "Selection": {"maxLagSeconds": null}}),
        ];
        for p in good {
            SCHEMA.validate(&p, "good").unwrap();
            from_parameters("Web", &p).unwrap();
        }
        let bad = [
            json!({"HostNames": ["web 01"]}),
            json!({"HostNames": ["prod:web-01"]}),
            json!({"HostNames": ["web-01."]}),
            json!({"HostNames": []}),
            json!({"Tags": {"Wave": 1}}),
            json!({"Tags": {"Wave": []}}),
            json!({"Tags": {}}),
            json!({"AccountId": "1"}),
            json!({"Regions": ["us-east"], "Tags": {"a": "b"}}),
            json!({"Tags": {"a": "b"}, "Selection": {"onConflict": "skip"}}),
            json!({"Tags": {"a": "b"}, "Selection": {"other": 1}}),
            json!({"Tags": {"a": "b"}, "Selection": {"maxLagSeconds": 1.5}}),
        ];
        for p in bad {
            assert!(SCHEMA.validate(&p, "bad").is_err(), "schema accepts {p}");
            assert!(from_parameters("Web", &p).is_err(), "parser accepts {p}");
        }
    }
}

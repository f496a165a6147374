//! A DRS resource's selection, read from its manifest `parameters`: which servers (HostNames,
//! Tags, within accounts and regions) and what a miss, a conflict or a server not ready does.
//! Errors name the field (`parameters.HostNames[2]: ...`); the schema then checks the rest.

use super::SCHEMA;
use anyhow::{anyhow, bail, Context};
use serde::Serialize;
use serde_json::{Map, Value};
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

/// One `HostNames` entry: `[<account>|<region>|<account>/<region>:]<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub on_miss: Action,
    pub on_conflict: Action,
    pub on_not_ready: Action,
    /// None: lag is not checked.
    pub max_lag_seconds: Option<u64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { on_miss: Action::Fail, on_conflict: Action::Fail, on_not_ready: Action::Fail, max_lag_seconds: Some(300) }
    }
}

impl ResourceSelection {
    /// A manifest resource: `{"action": "DRS", "resourceName": ..., "parameters": {...}}`.
    pub fn from_resource(resource: &Value) -> anyhow::Result<ResourceSelection> {
        let name = resource.get("resourceName").and_then(Value::as_str).context("resourceName: missing or not a string")?;
        let params = resource.get("parameters").ok_or_else(|| anyhow!("resource {name}: parameters: missing"))?;
        Self::from_parameters(name, params)
    }

    pub fn from_parameters(resource_name: &str, parameters: &Value) -> anyhow::Result<ResourceSelection> {
        let mut sel = parse(parameters).map_err(|e| anyhow!("resource {resource_name}: {e}"))?;
        // The hand parse gives the clearer message; the schema is the contract and catches the rest.
        crate::schema::validate(SCHEMA, parameters, &format!("resource {resource_name}: parameters"))?;
        sel.resource_name = resource_name.to_owned();
        Ok(sel)
    }
}

fn parse(p: &Value) -> anyhow::Result<ResourceSelection> {
    let p = p.as_object().context("parameters: expected an object")?;
    let mut accounts = vec![];
    if let Some(v) = p.get("AccountId") {
        accounts.push(account(v, "parameters.AccountId")?);
    }
    for (i, v) in list(p, "Accounts")?.iter().enumerate() {
        let a = account(v, &format!("parameters.Accounts[{i}]"))?;
        if !accounts.contains(&a) {
            accounts.push(a);
        }
    }
    let mut regions = vec![];
    for (i, v) in list(p, "Regions")?.iter().enumerate() {
        let r = string(v, &format!("parameters.Regions[{i}]"))?;
        if !is_region(r) {
            bail!("parameters.Regions[{i}]: '{r}' is not a region (as in us-east-1)");
        }
        regions.push(r.to_owned());
    }
    let mut host_names: Vec<HostName> = vec![];
    for (i, v) in list(p, "HostNames")?.iter().enumerate() {
        let at = format!("parameters.HostNames[{i}]");
        let h = host_name(string(v, &at)?).map_err(|e| anyhow!("{at}: {e}"))?;
        if let Some(j) = host_names.iter().position(|o| (&o.account, &o.region, &o.name) == (&h.account, &h.region, &h.name)) {
            bail!("{at}: '{}' repeats HostNames[{j}] '{}'", h.entry, host_names[j].entry);
        }
        outside(&h.account, &accounts, "account", "AccountId/Accounts").map_err(|e| anyhow!("{at}: {e}"))?;
        outside(&h.region, &regions, "region", "Regions").map_err(|e| anyhow!("{at}: {e}"))?;
        host_names.push(h);
    }
    if p.get("HostNames").is_some_and(|v| v.as_array().is_some_and(Vec::is_empty)) {
        bail!("parameters.HostNames: empty; leave it out to select by Tags alone");
    }
    let tags = match p.get("Tags") {
        Some(v) => tags(v)?,
        None => BTreeMap::new(),
    };
    if host_names.is_empty() && tags.is_empty() {
        bail!("parameters: a DRS resource needs HostNames or Tags to select its servers");
    }
    let policy = match p.get("Selection") {
        Some(v) => policy(v)?,
        None => Policy::default(),
    };
    Ok(ResourceSelection { resource_name: String::new(), accounts, regions, host_names, tags, policy })
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
        return Err(format!(
            "'{name}' in '{entry}' is not a host name (labels of letters, digits, '-' and '_' joined by '.', not starting or ending with '-')"
        ));
    }
    Ok(HostName {
        entry: entry.to_owned(),
        account: account.map(str::to_owned),
        region: region.map(str::to_owned),
        name: name.to_ascii_lowercase(),
    })
}

fn tags(v: &Value) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let m = v.as_object().context("parameters.Tags: expected an object of tag key to value(s)")?;
    if m.is_empty() {
        bail!("parameters.Tags: empty; leave it out to select by HostNames alone");
    }
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let at = format!("parameters.Tags.{k}");
        if k.is_empty() {
            bail!("parameters.Tags: a tag key is empty");
        }
        let values = match v {
            Value::Array(vs) if vs.is_empty() => bail!("{at}: an empty list matches nothing"),
            Value::Array(vs) => {
                vs.iter().enumerate().map(|(i, v)| tag_value(v, &format!("{at}[{i}]"))).collect::<Result<_, _>>()?
            }
            v => vec![tag_value(v, &at)?],
        };
        out.insert(k.clone(), values);
    }
    Ok(out)
}

fn tag_value(v: &Value, at: &str) -> anyhow::Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        // Tag values are strings: say how to write the number rather than guess.
        Value::Number(n) => bail!("{at}: tag values are strings: write \"{n}\", not {n}"),
        _ => bail!("{at}: expected a string or a list of strings"),
    }
}

fn policy(v: &Value) -> anyhow::Result<Policy> {
    let m = v.as_object().context("parameters.Selection: expected an object")?;
    let mut p = Policy::default();
    for (k, v) in m {
        let at = format!("parameters.Selection.{k}");
        match k.as_str() {
            "onMiss" => p.on_miss = action(v, &at, false)?,
            "onConflict" => p.on_conflict = action(v, &at, false)?,
            "onNotReady" => p.on_not_ready = action(v, &at, true)?,
            "maxLagSeconds" if v.is_null() => p.max_lag_seconds = None,
            "maxLagSeconds" => {
                p.max_lag_seconds = Some(v.as_u64().with_context(|| format!("{at}: expected a whole number of seconds or null"))?)
            }
            _ => bail!("{at}: unknown setting (onMiss, onConflict, onNotReady, maxLagSeconds)"),
        }
    }
    Ok(p)
}

fn action(v: &Value, at: &str, skip_allowed: bool) -> anyhow::Result<Action> {
    match v.as_str() {
        Some("fail") => Ok(Action::Fail),
        Some("warn") => Ok(Action::Warn),
        Some("skip") if skip_allowed => Ok(Action::Skip),
        _ if skip_allowed => bail!("{at}: expected \"fail\", \"warn\" or \"skip\", not {v}"),
        _ => bail!("{at}: expected \"fail\" or \"warn\", not {v}"),
    }
}

/// A qualifier outside an explicit scope could never match: say so now, not as a miss later.
fn outside(q: &Option<String>, scope: &[String], what: &str, field: &str) -> Result<(), String> {
    match q {
        Some(q) if !scope.is_empty() && !scope.contains(q) => {
            Err(format!("{what} {q} is outside the resource's {field} ({})", scope.join(", ")))
        }
        _ => Ok(()),
    }
}

fn list<'a>(p: &'a Map<String, Value>, key: &str) -> anyhow::Result<&'a [Value]> {
    match p.get(key) {
        None => Ok(&[]),
        Some(Value::Array(vs)) => Ok(vs),
        Some(_) => bail!("parameters.{key}: expected a list"),
    }
}

fn string<'a>(v: &'a Value, at: &str) -> anyhow::Result<&'a str> {
    v.as_str().with_context(|| format!("{at}: expected a string, not {v}"))
}

fn account(v: &Value, at: &str) -> anyhow::Result<String> {
    let a = string(v, at)?;
    if !is_account(a) {
        bail!("{at}: '{a}' is not a 12-digit account id");
    }
    Ok(a.to_owned())
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// As the schema's region pattern: `us-east-1`, `us-gov-west-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let (cc, rest) = match parts.as_slice() {
        [cc, "gov", w, n] => (cc, [w, n]),
        [cc, w, n] => (cc, [w, n]),
        _ => return false,
    };
    cc.len() == 2 && lower(cc) && lower(rest[0]) && rest[1].len() == 1 && rest[1].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(p: Value) -> String {
        ResourceSelection::from_parameters("Web", &p).unwrap_err().to_string()
    }

    #[test]
    fn the_platform_sketch_parses() {
        let p = json!({"AccountId": "111111111111", "HostNames": ["web-01", "web-02"], "Tags": {"Wave": "1"}});
        let s = ResourceSelection::from_parameters("WebServers", &p).unwrap();
        assert_eq!(s.resource_name, "WebServers");
        assert_eq!(s.accounts, ["111111111111"]);
        assert_eq!(s.host_names.len(), 2);
        assert_eq!(s.tags["Wave"], ["1"]);
        assert_eq!(s.policy, Policy::default());
    }

    #[test]
    fn resources_parse_whole() {
        let r = json!({"action": "DRS", "resourceName": "Db", "parameters": {"Tags": {"Tier": ["db", "app"]}}});
        let s = ResourceSelection::from_resource(&r).unwrap();
        assert_eq!((s.resource_name.as_str(), s.tags["Tier"].clone()), ("Db", vec!["db".to_owned(), "app".to_owned()]));
        assert!(ResourceSelection::from_resource(&json!({"parameters": {}})).unwrap_err().to_string().contains("resourceName"));
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
        assert!(e.starts_with("resource Web: parameters.HostNames[2]: 'web 03'"), "{e}");
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
        let s = ResourceSelection::from_parameters("Web", &p).unwrap();
        assert_eq!(
            s.policy,
            Policy { on_miss: Action::Warn, on_not_ready: Action::Skip, max_lag_seconds: None, ..Policy::default() }
        );
        assert!(err(json!({"Tags": {"a": "b"}, "Selection": {"onMiss": "skip"}}))
            .contains("parameters.Selection.onMiss: expected \"fail\" or \"warn\""));
        assert!(err(json!({"Tags": {"a": "b"}, "Selection": {"onMis": "warn"}})).contains("parameters.Selection.onMis: unknown"));
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
            crate::schema::validate(SCHEMA, &p, "good").unwrap();
            ResourceSelection::from_parameters("Web", &p).unwrap();
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
            assert!(crate::schema::validate(SCHEMA, &p, "bad").is_err(), "schema accepts {p}");
            assert!(ResourceSelection::from_parameters("Web", &p).is_err(), "parser accepts {p}");
        }
    }
}

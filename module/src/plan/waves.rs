//! Waves of one resource's group: none (one wave), ordered by a tag's values
//! (`"Waves": {"ByTag": "Wave"}`), or an explicit list whose entries select servers by Tags
//! or HostNames and may depend on earlier waves.

use crate::discovery::DiscoveredServer;
use crate::selection::ServerRef;
use anyhow::{anyhow, bail};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wave {
    pub name: String,
    pub servers: Vec<ServerRef>,
}

/// A tag's value on a server: its DRS tag, else its source instance's EC2 tag.
fn tag<'a>(s: &'a DiscoveredServer, key: &str) -> Option<&'a str> {
    s.tags.get(key).or_else(|| s.instance.as_ref().and_then(|i| i.tags.get(key))).map(String::as_str)
}

type Found<'a> = BTreeMap<String, &'a DiscoveredServer>;

fn lookup<'a>(found: &Found<'a>, r: &ServerRef) -> anyhow::Result<&'a DiscoveredServer> {
    found.get(&r.source_server_id).copied().ok_or_else(|| anyhow!("{r} was not discovered"))
}

/// Splits `group` into ordered waves as the resource's `Waves` parameter says.
pub fn waves(params: &Value, group: &[ServerRef], found: &Found) -> anyhow::Result<Vec<Wave>> {
    let server = |r: &ServerRef| lookup(found, r);
    match params.get("Waves") {
        None | Some(Value::Null) => Ok(vec![Wave { name: "all".into(), servers: group.to_vec() }]),
        Some(Value::Object(o)) => {
            let key = o
                .get("ByTag")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("parameters.Waves: expected {{\"ByTag\": \"<tag key>\"}} or a list"))?;
            let mut by: BTreeMap<String, Vec<ServerRef>> = BTreeMap::new();
            let mut untagged = vec![];
            for r in group {
                match tag(server(r)?, key) {
                    Some(v) => by.entry(v.to_owned()).or_default().push(r.clone()),
                    None => untagged.push(r.hostname.clone()),
                }
            }
            if !untagged.is_empty() {
                bail!("parameters.Waves.ByTag: servers without the tag {key}: {}", untagged.join(", "));
            }
            let mut values: Vec<String> = by.keys().cloned().collect();
            // Numbers order as numbers (2 before 10); anything else as text.
            if values.iter().all(|v| v.parse::<f64>().is_ok()) {
                values.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
            }
            Ok(values
                .into_iter()
                .map(|v| Wave { name: format!("{key}={v}"), servers: by.remove(&v).unwrap_or_default() })
                .collect())
        }
        Some(Value::Array(list)) => explicit(list, group, found),
        Some(_) => bail!("parameters.Waves: expected {{\"ByTag\": ...}} or a list of waves"),
    }
}

fn explicit(list: &[Value], group: &[ServerRef], found: &Found) -> anyhow::Result<Vec<Wave>> {
    struct Spec<'a> {
        name: String,
        tags: BTreeMap<String, Vec<String>>,
        hosts: Vec<String>,
        depends: Vec<&'a str>,
    }
    let mut specs = vec![];
    for (i, w) in list.iter().enumerate() {
        let at = format!("parameters.Waves[{i}]");
        let name = w.get("Name").and_then(Value::as_str).ok_or_else(|| anyhow!("{at}.Name: missing"))?.to_owned();
        let tags = match w.get("Tags") {
            None => BTreeMap::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), vec![s.clone()])),
                    Value::Array(a) => Ok((k.clone(), a.iter().filter_map(Value::as_str).map(str::to_owned).collect())),
                    _ => Err(anyhow!("{at}.Tags.{k}: a string or a list of strings")),
                })
                .collect::<anyhow::Result<_>>()?,
            Some(_) => bail!("{at}.Tags: expected an object"),
        };
        let hosts = w
            .get("HostNames")
            .map(|h| h.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_lowercase).collect()))
            .unwrap_or(Some(vec![]))
            .ok_or_else(|| anyhow!("{at}.HostNames: expected a list"))?;
        let depends: Vec<&str> = w
            .get("DependsOn")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if tags.is_empty() && hosts.is_empty() {
            bail!("{at}: select its servers with Tags or HostNames");
        }
        specs.push(Spec { name, tags, hosts, depends });
    }
    // Order by DependsOn, keeping the written order where it is free.
    let mut order: Vec<usize> = vec![];
    while order.len() < specs.len() {
        let next = (0..specs.len())
            .find(|i| !order.contains(i) && specs[*i].depends.iter().all(|d| order.iter().any(|o| specs[*o].name == *d)));
        match next {
            Some(i) => order.push(i),
            None => {
                let stuck: Vec<&str> = (0..specs.len()).filter(|i| !order.contains(i)).map(|i| specs[i].name.as_str()).collect();
                bail!("parameters.Waves: DependsOn names an unknown wave or forms a cycle among {}", stuck.join(", "));
            }
        }
    }
    let mut waves: Vec<Wave> = order.iter().map(|i| Wave { name: specs[*i].name.clone(), servers: vec![] }).collect();
    let mut unplaced = vec![];
    for r in group {
        let s = lookup(found, r)?;
        let host_ok = |h: &Vec<String>| {
            h.is_empty()
                || h.iter()
                    .any(|n| s.hostname.eq_ignore_ascii_case(n) || s.fqdn.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(n)))
        };
        let tags_ok =
            |t: &BTreeMap<String, Vec<String>>| t.iter().all(|(k, vs)| tag(s, k).is_some_and(|v| vs.iter().any(|x| x == v)));
        // A server joins the first wave (in run order) that selects it.
        match order.iter().position(|i| host_ok(&specs[*i].hosts) && tags_ok(&specs[*i].tags)) {
            Some(w) => waves[w].servers.push(r.clone()),
            None => unplaced.push(r.hostname.clone()),
        }
    }
    if !unplaced.is_empty() {
        bail!("parameters.Waves: no wave selects {}", unplaced.join(", "));
    }
    Ok(waves)
}

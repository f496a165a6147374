//! Waves of one resource's group: none (one wave), ordered by a tag's values
//! (`"Waves": {"ByTag": "Wave"}`), or an explicit list whose entries select servers by Tags
//! or HostNames and may depend on earlier waves.

use crate::discovery::DiscoveredServer;
use crate::resource::values::TagValues;
use crate::resource::{WaveSpec, WavesSpec};
use crate::selection::ServerRef;
use anyhow::{anyhow, bail};
use serde::Serialize;
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
pub fn waves(spec: Option<&WavesSpec>, group: &[ServerRef], found: &Found) -> anyhow::Result<Vec<Wave>> {
    match spec {
        None => Ok(vec![Wave { name: "all".into(), servers: group.to_vec() }]),
        Some(WavesSpec::ByTag(key)) => by_tag(key, group, found),
        Some(WavesSpec::List(list)) => explicit(list, group, found),
    }
}

fn by_tag(key: &str, group: &[ServerRef], found: &Found) -> anyhow::Result<Vec<Wave>> {
    let mut by: BTreeMap<String, Vec<ServerRef>> = BTreeMap::new();
    let mut untagged = vec![];
    for r in group {
        match tag(lookup(found, r)?, key) {
            Some(v) => by.entry(v.to_owned()).or_default().push(r.clone()),
            None => untagged.push(r.hostname.clone()),
        }
    }
    if !untagged.is_empty() {
        bail!("parameters.Waves.ByTag: {} servers without the tag {key}: {}", untagged.len(), some(&untagged));
    }
    let mut values: Vec<String> = by.keys().cloned().collect();
    // Numbers order as numbers (2 before 10); anything else as text.
    if values.iter().all(|v| v.parse::<f64>().is_ok()) {
        values.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
    }
    Ok(values.into_iter().map(|v| Wave { name: format!("{key}={v}"), servers: by.remove(&v).unwrap_or_default() }).collect())
}

fn explicit(specs: &[WaveSpec], group: &[ServerRef], found: &Found) -> anyhow::Result<Vec<Wave>> {
    for (i, w) in specs.iter().enumerate() {
        if w.tags.is_empty() && w.host_names.is_empty() {
            bail!("parameters.Waves[{i}]: select its servers with Tags or HostNames");
        }
    }
    // Order by DependsOn, keeping the written order where it is free.
    let mut order: Vec<usize> = vec![];
    while order.len() < specs.len() {
        let next = (0..specs.len())
            .find(|i| !order.contains(i) && specs[*i].depends_on.iter().all(|d| order.iter().any(|o| specs[*o].name == *d)));
        match next {
            Some(i) => order.push(i),
            None => {
                let stuck: Vec<&str> = (0..specs.len()).filter(|i| !order.contains(i)).map(|i| specs[i].name.as_str()).collect();
                bail!("parameters.Waves: DependsOn forms a cycle among {}", stuck.join(", "));
            }
        }
    }
    let hosts: Vec<Vec<String>> = specs.iter().map(WaveSpec::host_names_lower).collect();
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
            |t: &BTreeMap<String, TagValues>| t.iter().all(|(k, vs)| tag(s, k).is_some_and(|v| vs.0.iter().any(|x| x == v)));
        // A server joins the first wave (in run order) that selects it.
        match order.iter().position(|i| host_ok(&hosts[*i]) && tags_ok(&specs[*i].tags)) {
            Some(w) => waves[w].servers.push(r.clone()),
            None => unplaced.push(r.hostname.clone()),
        }
    }
    if !unplaced.is_empty() {
        bail!("parameters.Waves: no wave selects {} servers: {}", unplaced.len(), some(&unplaced));
    }
    Ok(waves)
}

/// Host names for a message: the first 20, and how many more (a fleet has thousands).
fn some(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let more = if names.len() > SHOWN { format!(" and {} more", names.len() - SHOWN) } else { String::new() };
    format!("{}{more}", names[..names.len().min(SHOWN)].join(", "))
}

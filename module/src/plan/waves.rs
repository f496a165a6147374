//! Waves of one resource's group: none (one wave), a line ordered by a tag's values
//! (`"Waves": {"ByTag": "Wave"}`), or an explicit list whose entries select servers by Tags
//! or HostNames and wait for the waves they depend on: a graph. Waves come out in an order
//! where each follows the waves it depends on (written order where free), each naming them.

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
    /// The waves this one waits for: indexes of earlier waves in the same list.
    pub depends_on: Vec<usize>,
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
        None => Ok(vec![Wave { name: "all".into(), servers: group.to_vec(), depends_on: vec![] }]),
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
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, v)| Wave {
            name: format!("{key}={v}"),
            servers: by.remove(&v).unwrap_or_default(),
            depends_on: i.checked_sub(1).into_iter().collect(),
        })
        .collect())
}

fn explicit(specs: &[WaveSpec], group: &[ServerRef], found: &Found) -> anyhow::Result<Vec<Wave>> {
    for (i, w) in specs.iter().enumerate() {
        if w.tags.is_empty() && w.host_names.is_empty() {
            bail!("parameters.Waves[{i}]: select its servers with Tags or HostNames");
        }
    }
    let deps = dependencies(specs);
    // Each wave after the waves it waits for, keeping the written order where it is free.
    let mut order: Vec<usize> = vec![];
    while order.len() < specs.len() {
        let next = (0..specs.len()).find(|i| !order.contains(i) && deps[*i].iter().all(|d| order.contains(d)));
        match next {
            Some(i) => order.push(i),
            None => {
                let stuck: Vec<&str> = (0..specs.len()).filter(|i| !order.contains(i)).map(|i| specs[i].name.as_str()).collect();
                bail!(
                    "parameters.Waves: DependsOn forms a cycle among {} (a wave without DependsOn follows the wave written \
                     before it; DependsOn: [] starts a wave with the run)",
                    stuck.join(", ")
                );
            }
        }
    }
    let hosts: Vec<Vec<String>> = specs.iter().map(WaveSpec::host_names_lower).collect();
    let position = |spec: usize| order.iter().position(|o| *o == spec).unwrap_or(0);
    let mut waves: Vec<Wave> = order
        .iter()
        .map(|i| Wave {
            name: specs[*i].name.clone(),
            servers: vec![],
            depends_on: deps[*i].iter().map(|d| position(*d)).collect(),
        })
        .collect();
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

/// Each wave's dependencies (indexes into `specs`): its DependsOn, or when it has none, the
/// nearest wave written before it that does not itself wait for it (so a list without
/// DependsOn is a line, and one written out of order keeps the order DependsOn gives it).
fn dependencies(specs: &[WaveSpec]) -> Vec<Vec<usize>> {
    let index: BTreeMap<&str, usize> = specs.iter().enumerate().map(|(i, w)| (w.name.as_str(), i)).collect();
    let mut deps: Vec<Option<Vec<usize>>> = specs
        .iter()
        .map(|w| w.depends_on.as_ref().map(|names| names.iter().filter_map(|n| index.get(n.as_str()).copied()).collect()))
        .collect();
    for i in 0..specs.len() {
        if deps[i].is_none() {
            let before = (0..i).rev().find(|j| !waits_for(&deps, *j, i));
            deps[i] = Some(before.into_iter().collect());
        }
    }
    deps.into_iter().map(Option::unwrap_or_default).collect()
}

/// Whether wave `from` waits for wave `on`, directly or through others (as far as known).
fn waits_for(deps: &[Option<Vec<usize>>], from: usize, on: usize) -> bool {
    let mut seen = vec![false; deps.len()];
    let mut todo = vec![from];
    while let Some(w) = todo.pop() {
        if w == on {
            return true;
        }
        if !std::mem::replace(&mut seen[w], true) {
            todo.extend(deps[w].iter().flatten().copied());
        }
    }
    false
}

/// Host names for a message: the first 20, and how many more (a fleet has thousands).
fn some(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let more = if names.len() > SHOWN { format!(" and {} more", names.len() - SHOWN) } else { String::new() };
    format!("{}{more}", names[..names.len().min(SHOWN)].join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, depends_on: Option<&[&str]>) -> WaveSpec {
        WaveSpec {
            name: name.into(),
            tags: BTreeMap::new(),
            host_names: vec![format!("{name}-host")],
            depends_on: depends_on.map(|d| d.iter().map(|s| s.to_string()).collect()),
            pause_before: None,
            failure_policy: None,
            target_rto_minutes: None,
            target_rpo_minutes: None,
        }
    }

    fn graph(specs: &[WaveSpec]) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        let waves = explicit(specs, &[], &BTreeMap::new())?;
        Ok(waves.iter().map(|w| (w.name.clone(), w.depends_on.iter().map(|d| waves[*d].name.clone()).collect())).collect())
    }

    fn named(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        list.iter().map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn a_list_without_depends_on_is_a_line() {
        let g = graph(&[spec("db", None), spec("app", None), spec("web", None)]).unwrap();
        assert_eq!(g, named(&[("db", &[]), ("app", &["db"]), ("web", &["app"])]));
    }

    #[test]
    fn an_empty_depends_on_starts_a_branch_with_the_run() {
        let g = graph(&[
            spec("a-db", Some(&[])),
            spec("a-app", Some(&["a-db"])),
            spec("b-db", Some(&[])),
            spec("b-app", Some(&["b-db"])),
            spec("report", Some(&["a-app", "b-app"])),
        ])
        .unwrap();
        assert_eq!(
            g,
            named(&[("a-db", &[]), ("a-app", &["a-db"]), ("b-db", &[]), ("b-app", &["b-db"]), ("report", &["a-app", "b-app"])])
        );
    }

    #[test]
    fn a_wave_written_before_the_one_it_depends_on_still_follows_it() {
        // "db" has no DependsOn and is written after "app", which waits for it: db does not
        // follow app (that would be a cycle), it starts with the run.
        let g = graph(&[spec("app", Some(&["db"])), spec("db", None), spec("web", None)]).unwrap();
        assert_eq!(g, named(&[("db", &[]), ("app", &["db"]), ("web", &["db"])]));
    }

    #[test]
    fn a_cycle_is_named_with_the_rule_that_may_have_made_it() {
        let e = graph(&[spec("a", Some(&["b"])), spec("b", Some(&["a"]))]).unwrap_err().to_string();
        assert!(e.contains("cycle among a, b") && e.contains("DependsOn: []"), "{e}");
    }
}

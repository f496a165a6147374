//! `Waves`: how a resource's group is split into waves. `{"ByTag": key}` (a line, in the
//! tag's value order), or a list whose entries select servers by Tags or HostNames and wait
//! for the waves they depend on: a graph, whose independent branches run at once. The
//! planner (`plan/waves.rs`) applies it to the servers found.

use super::recovery::{PauseSpec, PolicySpec};
use super::values::TagValues;
use serde::de::Visitor;
use serde::de::{self, value::MapAccessDeserializer, value::SeqAccessDeserializer, Deserializer, MapAccess, SeqAccess};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum WavesSpec {
    /// One wave per value of this tag (DRS tag, else the source instance's EC2 tag).
    ByTag(String),
    /// Waves as a graph of DependsOn (a wave without DependsOn follows the one written before).
    List(Vec<WaveSpec>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct WaveSpec {
    pub name: String,
    #[serde(default)]
    pub tags: BTreeMap<String, TagValues>,
    #[serde(default)]
    pub host_names: Vec<String>,
    /// The waves this one waits for. Absent: the wave written before it (the nearest one that
    /// does not itself wait for this one), so a list without DependsOn is a line; `[]`: none,
    /// the wave starts with the run.
    #[serde(default)]
    pub depends_on: Option<Vec<String>>,
    #[serde(default)]
    pub pause_before: Option<PauseSpec>,
    #[serde(default)]
    pub failure_policy: Option<PolicySpec>,
    /// The wave's own objectives, in minutes (checked by `params.rs`).
    #[serde(default)]
    pub target_rto_minutes: Option<u64>,
    #[serde(default)]
    pub target_rpo_minutes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ByTag {
    #[serde(rename = "ByTag")]
    by_tag: String,
}

impl<'de> Deserialize<'de> for WavesSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WavesSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("{\"ByTag\": \"<tag key>\"} or a list of waves")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<WavesSpec, A::Error> {
                let b = ByTag::deserialize(MapAccessDeserializer::new(map))?;
                if b.by_tag.is_empty() {
                    return Err(de::Error::custom("ByTag: name a tag key"));
                }
                Ok(WavesSpec::ByTag(b.by_tag))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<WavesSpec, A::Error> {
                let list = Vec::<WaveSpec>::deserialize(SeqAccessDeserializer::new(seq))?;
                if list.is_empty() {
                    return Err(de::Error::custom("an empty list of waves: leave Waves out for one wave"));
                }
                Ok(WavesSpec::List(list))
            }
        }
        d.deserialize_any(V)
    }
}

/// Each wave's name is its own, and DependsOn names waves of the list other than itself (a
/// cycle among several is the planner's to name, as it orders them).
/// Err: (where in Waves, why).
pub(super) fn names_and_dependencies(list: &[WaveSpec]) -> Result<(), (String, String)> {
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, w) in list.iter().enumerate() {
        if let Some(j) = names.insert(&w.name, i) {
            return Err((
                format!("[{i}].Name"),
                format!("'{}' is also the name of Waves[{j}]: a wave's name is its own", w.name),
            ));
        }
    }
    for (i, w) in list.iter().enumerate() {
        for (k, d) in w.depends_on.iter().flatten().enumerate() {
            if *d == w.name {
                return Err((format!("[{i}].DependsOn[{k}]"), format!("wave '{d}' depends on itself")));
            }
            if !names.contains_key(d.as_str()) {
                let known: Vec<&str> = list.iter().take(10).map(|w| w.name.as_str()).collect();
                let more = if list.len() > 10 { format!(" and {} more", list.len() - 10) } else { String::new() };
                return Err((
                    format!("[{i}].DependsOn[{k}]"),
                    format!("'{d}' is no wave's name (the waves: {}{more})", known.join(", ")),
                ));
            }
        }
    }
    Ok(())
}

impl WaveSpec {
    /// The wave's host names, lower case: names compare case-insensitively.
    pub fn host_names_lower(&self) -> Vec<String> {
        self.host_names.iter().map(|h| h.to_lowercase()).collect()
    }
}

//! `Waves`: how a resource's group is split into ordered waves. `{"ByTag": key}`, or a list
//! whose entries select servers by Tags or HostNames and may depend on earlier waves. The
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
    /// Waves in DependsOn order (written order where free).
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
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub pause_before: Option<PauseSpec>,
    #[serde(default)]
    pub failure_policy: Option<PolicySpec>,
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

impl WaveSpec {
    /// The wave's host names, lower case: names compare case-insensitively.
    pub fn host_names_lower(&self) -> Vec<String> {
        self.host_names.iter().map(|h| h.to_lowercase()).collect()
    }
}

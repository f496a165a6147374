//! The platform's application manifest: an array of layers run in order, each with
//! resources run in parallel. This module's resources say `"action": "DRS"` (older manifests
//! say `resourceType`; both are accepted). Each DRS resource is read here, once, into a
//! `DrsResource`; other modules' resources are left out.

use crate::resource::DrsResource;
use anyhow::{bail, Context};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Layer {
    pub layer: u64,
    /// The DRS resources of the layer, in manifest order.
    pub resources: Vec<DrsResource>,
}

pub fn is_drs(resource: &Value) -> bool {
    let kind = resource.get("action").or_else(|| resource.get("resourceType")).and_then(Value::as_str);
    kind.is_some_and(|k| k.eq_ignore_ascii_case("DRS"))
}

/// The manifest's layers in run order, keeping only DRS resources. A resource's name is its
/// identity (its jobs, its cleanup): two DRS resources of one name are refused.
pub fn layers(manifest: &Value) -> anyhow::Result<Vec<Layer>> {
    let Some(list) = manifest.as_array() else { bail!("the manifest: expected an array of layers") };
    let mut out = Vec::with_capacity(list.len());
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (i, l) in list.iter().enumerate() {
        let layer = l.get("layer").and_then(Value::as_u64).with_context(|| format!("[{i}].layer: missing or not a number"))?;
        let resources =
            l.get("resources").and_then(Value::as_array).with_context(|| format!("[{i}].resources: missing or not a list"))?;
        let mut drs = vec![];
        for (j, r) in resources.iter().enumerate() {
            let at = format!("[{i}].resources[{j}]");
            if r.get("action").or_else(|| r.get("resourceType")).and_then(Value::as_str).is_none() {
                bail!("{at}: needs `action` (or `resourceType`) naming its module");
            }
            if !is_drs(r) {
                continue;
            }
            let resource = DrsResource::from_value(r).with_context(|| at.clone())?;
            if let Some(first) = names.insert(resource.name.clone(), at.clone()) {
                bail!("{at}.resourceName: '{}' repeats {first}: a DRS resource's name must be unique", resource.name);
            }
            drs.push(resource);
        }
        out.push(Layer { layer, resources: drs });
    }
    out.sort_by_key(|l| l.layer);
    Ok(out)
}

/// Sets `parameters.<key>` of every DRS resource of the manifest to `value` (a CLI flag
/// such as `drill --recover-before` that holds for the whole manifest), before it is read.
pub fn set_parameter(manifest: &mut Value, key: &str, value: Value) {
    let layers = manifest.as_array_mut().into_iter().flatten();
    let resources = layers.filter_map(|l| l.get_mut("resources").and_then(Value::as_array_mut)).flatten();
    for r in resources.filter(|r| is_drs(r)) {
        if let Some(map) = r.as_object_mut() {
            let params = map.entry("parameters").or_insert_with(|| Value::Object(Default::default()));
            if let Some(params) = params.as_object_mut() {
                params.insert(key.to_owned(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_parameter_set_for_the_manifest_reaches_every_drs_resource_only() {
        let mut m = json!([
            {"layer": 1, "resources": [{"action": "DRS", "resourceName": "a", "parameters": {"Tags": {"T": "2"}}},
                                       {"action": "Lambda", "resourceName": "f"}]},
            {"layer": 2, "resources": [{"resourceType": "drs", "resourceName": "b", "parameters": {"Tags": {"T": "1"}}}]}
        ]);
        super::set_parameter(&mut m, "RecoverBefore", json!("2026-12-01T02:10:00Z"));
        let l = super::layers(&m).unwrap();
        assert!(l.iter().flat_map(|l| &l.resources).all(|r| r.recovery.recover_before.is_some()));
        assert!(m[0]["resources"][1].get("parameters").is_none());
    }

    #[test]
    fn layers_sort_and_keep_drs_resources_in_both_spellings() {
        let m = json!([
            {"layer": 2, "resources": [{"resourceType": "drs", "resourceName": "b", "parameters": {"Tags": {"T": "1"}}}]},
            {"layer": 1, "resources": [{"action": "DRS", "resourceName": "a", "parameters": {"Tags": {"T": "2"}}},
                                       {"action": "Route53", "resourceName": "dns", "parameters": {}}]}
        ]);
        let l = super::layers(&m).unwrap();
        assert_eq!(l.iter().map(|l| l.layer).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(l[0].resources.len(), 1);
        assert_eq!(l[1].resources[0].name, "b");
    }

    #[test]
    fn a_resource_without_module_is_named() {
        let e = super::layers(&json!([{"layer": 1, "resources": [{"resourceName": "x"}]}])).unwrap_err();
        assert!(e.to_string().contains("[0].resources[0]"), "{e}");
    }

    #[test]
    fn bad_parameters_and_repeated_names_name_the_resource_and_field() {
        let e = super::layers(&json!([{"layer": 1, "resources": [
            {"action": "DRS", "resourceName": "a", "parameters": {"Tags": {"T": "1"}}},
            {"action": "DRS", "resourceName": "b", "parameters": {"Tags": {"T": 1}}}]}]))
        .unwrap_err();
        assert!(format!("{e:#}").contains("[0].resources[1]: resource b: parameters.Tags.T"), "{e:#}");
        let e = super::layers(&json!([
            {"layer": 1, "resources": [{"action": "DRS", "resourceName": "Web", "parameters": {"Tags": {"T": "1"}}}]},
            {"layer": 2, "resources": [{"action": "DRS", "resourceName": "Web", "parameters": {"Tags": {"T": "2"}}}]}]))
        .unwrap_err();
        assert!(e.to_string().contains("[1].resources[0].resourceName: 'Web' repeats [0].resources[0]"), "{e}");
    }
}

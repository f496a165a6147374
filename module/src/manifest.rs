//! The platform's application manifest: an array of layers run in order, each with
//! resources run in parallel. This module's resources say `"action": "DRS"` (older manifests
//! say `resourceType`; both are accepted).

use anyhow::{bail, Context};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Layer {
    pub layer: u64,
    /// The DRS resources of the layer, as written (other modules' resources are left out).
    pub resources: Vec<Value>,
}

pub fn is_drs(resource: &Value) -> bool {
    let kind = resource.get("action").or_else(|| resource.get("resourceType")).and_then(Value::as_str);
    kind.is_some_and(|k| k.eq_ignore_ascii_case("DRS"))
}

/// The manifest's layers in run order, keeping only DRS resources.
pub fn layers(manifest: &Value) -> anyhow::Result<Vec<Layer>> {
    let Some(list) = manifest.as_array() else { bail!("the manifest: expected an array of layers") };
    let mut out = Vec::with_capacity(list.len());
    for (i, l) in list.iter().enumerate() {
        let layer = l.get("layer").and_then(Value::as_u64).with_context(|| format!("[{i}].layer: missing or not a number"))?;
        let resources =
            l.get("resources").and_then(Value::as_array).with_context(|| format!("[{i}].resources: missing or not a list"))?;
        for (j, r) in resources.iter().enumerate() {
            if r.get("action").or_else(|| r.get("resourceType")).and_then(Value::as_str).is_none() {
                bail!("[{i}].resources[{j}]: needs `action` (or `resourceType`) naming its module");
            }
        }
        out.push(Layer { layer, resources: resources.iter().filter(|r| is_drs(r)).cloned().collect() });
    }
    out.sort_by_key(|l| l.layer);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn layers_sort_and_keep_drs_resources_in_both_spellings() {
        let m = json!([
            {"layer": 2, "resources": [{"resourceType": "drs", "resourceName": "b", "parameters": {}}]},
            {"layer": 1, "resources": [{"action": "DRS", "resourceName": "a", "parameters": {}},
                                       {"action": "Route53", "resourceName": "dns", "parameters": {}}]}
        ]);
        let l = super::layers(&m).unwrap();
        assert_eq!(l.iter().map(|l| l.layer).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(l[0].resources.len(), 1);
        assert_eq!(l[1].resources[0]["resourceName"], "b");
    }

    #[test]
    fn a_resource_without_module_is_named() {
        let e = super::layers(&json!([{"layer": 1, "resources": [{"resourceName": "x"}]}])).unwrap_err();
        assert!(e.to_string().contains("[0].resources[0]"), "{e}");
    }
}

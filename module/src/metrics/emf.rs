//! CloudWatch Embedded Metric Format: one JSON log line that CloudWatch Logs turns into
//! metrics, so the Lambda needs no cloudwatch:PutMetricData permission and makes no call.

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "drs-orch";

/// An EMF document: `dimensions` (name, value) set as one dimension set and, separately,
/// each `rollups` subset (e.g. by Mode alone, for alarms across resources); `metrics`
/// (name, unit, value); `properties` kept as searchable fields, not metrics.
pub fn document(
    timestamp_ms: i64,
    dimensions: &[(&str, &str)],
    rollups: &[&[&str]],
    metrics: &[(&str, &str, f64)],
    properties: &[(&str, Value)],
) -> Value {
    let mut sets: Vec<Vec<&str>> = vec![dimensions.iter().map(|(k, _)| *k).collect()];
    sets.extend(rollups.iter().map(|r| r.to_vec()));
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": sets,
                "Metrics": metrics.iter().map(|(n, u, _)| json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).into(), json!(v));
    }
    for (n, _, v) in metrics {
        doc.insert((*n).into(), json!(v));
    }
    for (k, v) in properties {
        doc.insert((*k).into(), v.clone());
    }
    Value::Object(doc)
}

//! `bench scale --recovery`: after the real recovery, the replicate phase driven as the
//! platform drives it (its own task token, status checks with the simulator's clock moved),
//! with what its phase call and checks cost: one ReverseReplication per instance, which must
//! fit in the hub Lambda's timeout.

use drs_module::aws::Clients;
use drs_module::driver::event;
use drs_module::lifecycle::handle_detailed;
use drs_sim::client::Control;
use serde_json::{json, Value};
use std::time::Instant;

/// What the replicate phase cost.
pub struct ReplicateCost {
    /// The phase call (the first pass, which reverses every instance it can in its budget).
    pub phase_s: f64,
    pub slowest_check_s: f64,
    pub checks: usize,
    pub reverse_calls: usize,
    pub instances: u64,
}

pub async fn drive(clients: &Clients, control: &Control, sp: &Value, poll_seconds: u64) -> anyhow::Result<ReplicateCost> {
    let token = control.ok("POST", "tokens", Some(&json!({"timeoutSeconds": 86400}))).await?["taskToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let seq = control.calls().await?.len();
    let call = event(sp, "replicate", Some(&token));
    let t = Instant::now();
    let first = handle_detailed(clients, &call).await.map_err(|e| anyhow::anyhow!("replicate: {e}"))?;
    let phase_s = t.elapsed().as_secs_f64();
    let instances = first.answer["instances"].as_u64().unwrap_or(0);
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    let (mut checks, mut slowest_check_s) = (0, 0.0_f64);
    loop {
        anyhow::ensure!(checks < 1000, "replicate still running after {checks} checks");
        control.advance(poll_seconds as f64).await?;
        let t = Instant::now();
        let h = handle_detailed(clients, &check).await.map_err(|e| anyhow::anyhow!("replicate check {}: {e}", checks + 1))?;
        slowest_check_s = slowest_check_s.max(t.elapsed().as_secs_f64());
        checks += 1;
        if h.answer == Value::Bool(true) {
            break;
        }
    }
    let v = control.ok("GET", &format!("calls?since={seq}"), None).await?;
    let reverse_calls = v["calls"].as_array().into_iter().flatten().filter(|c| c["operation"] == "ReverseReplication").count();
    Ok(ReplicateCost { phase_s, slowest_check_s, checks, reverse_calls, instances })
}

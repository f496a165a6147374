//! `bench scale --opening-sizes 10000,50000,100000`: the run's opening at several fleet sizes,
//! side by side: activate (discovery, the plan, the run's record and plan written to the
//! ledger in one transaction, the first wave started), then one status check (the run read
//! back from the ledger). Figures per size: the lifecycle payload's bytes (a reference: the
//! same at every size), the run's bytes in the ledger (its record and plan chunks, as the
//! simulator holds them) and per server, and the two calls' wall times.

use super::child_sim::ChildSim;
use super::generated::Shape;
use anyhow::Context;
use drs_module::aws::{static_hub, Clients};
use drs_module::driver::event;
use drs_module::lifecycle::handle_detailed;
use drs_sim::client::Control;
use drs_sim::generate;
use serde_json::json;
use std::time::Instant;

/// One size's figures.
struct Opening {
    servers: usize,
    payload_bytes: usize,
    ledger_bytes: usize,
    chunks: usize,
    activate_s: f64,
    check_s: f64,
}

pub async fn run(shape: &Shape, sizes: &[usize], waves: usize) -> anyhow::Result<()> {
    let mut rows = vec![];
    for &servers in sizes {
        let row = one(&Shape { servers, ..shape.clone() }, waves).await.with_context(|| format!("{servers} servers"))?;
        println!(
            "  {:>7} servers: payload {} bytes; ledger {} bytes in {} items ({:.1} a server); activate {:.2} s, check {:.2} s",
            row.servers,
            row.payload_bytes,
            row.ledger_bytes,
            row.chunks + 1,
            row.ledger_bytes as f64 / row.servers.max(1) as f64,
            row.activate_s,
            row.check_s
        );
        rows.push(row);
    }
    let join = |f: &dyn Fn(&Opening) -> String| rows.iter().map(f).collect::<Vec<_>>().join(",");
    let max_payload = rows.iter().map(|r| r.payload_bytes).max().unwrap_or(0);
    println!(
        "bench scale: opening_servers={} payload_bytes={} ledger_kib={} ledger_bytes_per_server={} activate_s={} check_s={} max_payload_bytes={max_payload}",
        join(&|r| r.servers.to_string()),
        join(&|r| r.payload_bytes.to_string()),
        join(&|r| format!("{:.0}", r.ledger_bytes as f64 / 1024.0)),
        join(&|r| format!("{:.1}", r.ledger_bytes as f64 / r.servers.max(1) as f64)),
        join(&|r| format!("{:.2}", r.activate_s)),
        join(&|r| format!("{:.2}", r.check_s)),
    );
    anyhow::ensure!(max_payload < 2048, "a payload of {max_payload} bytes, over 2 KiB");
    Ok(())
}

async fn one(shape: &Shape, waves: usize) -> anyhow::Result<Opening> {
    let fleet = shape.fleet()?;
    let regions = fleet.accounts[0].regions.clone();
    let sim = ChildSim::spawn(&fleet)?;
    drop(fleet);
    let control = Control::new(&sim.endpoint);
    control.ok("POST", "clock", Some(&json!({"speed": 0}))).await?;
    let cfg = shape.config(&regions, &sim.endpoint)?;
    let clients = Clients::new(cfg, static_hub(&regions[0], generate::HUB_ACCESS_KEY, generate::HUB_SECRET), "bench-opening");
    let wave_values: Vec<String> = (1..=waves).map(|w| w.to_string()).collect();
    let sp = json!({"action": "DRS", "resourceName": "Everything", "parameters": {
        "Tags": {"Wave": wave_values}, "Waves": {"ByTag": "Wave"}, "FailurePolicy": "continue",
        "TimeoutMinutes": 1440, "Selection": {"onNotReady": "skip"}}});
    let call = event(&sp, "activate", None);
    let started = Instant::now();
    let first = handle_detailed(&clients, &call).await.map_err(|e| anyhow::anyhow!("activate: {e}"))?;
    let activate_s = started.elapsed().as_secs_f64();
    let payload_bytes = first.answer.to_string().len();
    let run = drs_module::recovery::run::of_payload(&clients, &first.answer).await?;
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    control.advance(30.0).await?;
    let started = Instant::now();
    handle_detailed(&clients, &check).await.map_err(|e| anyhow::anyhow!("status check: {e}"))?;
    let check_s = started.elapsed().as_secs_f64();
    let items = control.ok("GET", "tables/drs-orch-runs", None).await?;
    let ours: Vec<&serde_json::Value> = items["items"]
        .as_array()
        .context("the simulator lists the ledger's items")?
        .iter()
        .filter(|i| i["pk"]["S"] == run.record.pk.as_str())
        .collect();
    let ledger_bytes = ours.iter().map(|i| i.to_string().len()).sum();
    let chunks = ours.iter().filter(|i| i["sk"]["S"].as_str().is_some_and(|sk| sk.starts_with("plan#"))).count();
    anyhow::ensure!(chunks > 0, "the run's plan is not in the ledger");
    Ok(Opening { servers: run.plan.server_count(), payload_bytes, ledger_bytes, chunks, activate_s, check_s })
}

//! `bench handoff`: the demo drill (3 waves over 3 accounts x 2 regions) played as the
//! platform plays it, with the simulator's clock moving one poll interval per wait. From the
//! execution's jobs: the hand-off between a wave's last launch (its last job's end) and the
//! next wave's first StartRecovery, in simulated seconds (goal: at most one poll interval);
//! from the simulator's call log: the AWS calls the module made per wave and per check.

use drs_module::aws::{static_hub, Clients};
use drs_module::config::ModuleConfig;
use drs_module::driver::Driver;
use drs_sim::client::Control;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// The platform's Wait between status checks, in (simulated) seconds.
    #[arg(long, default_value_t = 30)]
    poll_seconds: u64,
    /// The manifest whose first DRS resource is played.
    #[arg(long, default_value = "manifests/demo-drill.json")]
    manifest: std::path::PathBuf,
}

/// A job's time in seconds; an error naming the job and the field where DRS gave none (a
/// job not ended has no `endDateTime`), so that no hand-off is measured from a missing time.
fn secs(job: &str, field: &str, t: Option<&str>) -> anyhow::Result<f64> {
    let t = t.ok_or_else(|| anyhow::anyhow!("job {job} has no {field}: the hand-off is not measured"))?;
    let d = chrono::DateTime::parse_from_rfc3339(t).map_err(|e| anyhow::anyhow!("job {job}: {field} '{t}': {e}"))?;
    Ok(d.timestamp_millis() as f64 / 1000.0)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(&args.manifest)?)?;
    let layers = drs_module::manifest::layers(&manifest)?;
    let resource =
        layers.iter().flat_map(|l| l.resources.iter()).next().ok_or_else(|| anyhow::anyhow!("no DRS resource"))?.clone();
    let mut params = resource.source["parameters"].clone();
    // Approvals would measure the approver, not the module.
    params.as_object_mut().map(|p| p.remove("PauseBefore"));
    if let Some(ws) = params["Waves"].as_array_mut() {
        ws.iter_mut().for_each(|w| {
            w.as_object_mut().map(|o| o.remove("PauseBefore"));
        });
    }
    let sp = json!({"action": "DRS", "resourceName": resource.name, "parameters": params});

    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await?;
    let control = Control::new(&sim.endpoint);
    control.ok("POST", "clock", Some(&json!({"speed": 0}))).await?;
    let mut cfg = ModuleConfig::parse(drs_module::config::DEMO)?;
    cfg.hub.endpoint_url = Some(sim.endpoint.clone());
    let h = &sim.world.hub;
    let clients = Clients::new(Arc::new(cfg), static_hub("us-east-1", &h.access_key_id, &h.secret_access_key), "bench");
    let token = control.ok("POST", "tokens", Some(&json!({"timeoutSeconds": 86400}))).await?["taskToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let before = control.calls().await?.len();
    let wait_control = control.clone();
    let wait = move |d: Duration| {
        let c = wait_control.clone();
        Box::pin(async move {
            let _ = c.advance(d.as_secs_f64()).await;
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
    };
    let driver = Driver { clients: &clients, poll: Duration::from_secs(args.poll_seconds), max_checks: 100_000 };
    let run = driver.run(&sp, "activate", Some(&token), &wait, |_| {}).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let calls: Vec<Value> = control.calls().await?.into_iter().skip(before).collect();

    // Per wave: first creation, last end, from the execution's launch jobs.
    let mut waves: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
    for p in clients.config().partitions() {
        let drs = clients.drs(&p).await?;
        let mut pages = drs.describe_jobs().max_results(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            for j in page?.items() {
                let Some(w) = j.tags().and_then(|t| t.get("drs-orch:wave")).and_then(|w| w.parse::<usize>().ok()) else {
                    continue;
                };
                let id = j.job_id();
                let e = waves.entry(w).or_insert((f64::MAX, f64::MIN));
                e.0 = e.0.min(secs(id, "creationDateTime", j.creation_date_time())?);
                e.1 = e.1.max(secs(id, "endDateTime", j.end_date_time())?);
            }
        }
    }
    // A hand-off is measured between two waves that both launched: fewer waves in the jobs
    // than the run planned leaves one unmeasured, and the maximum would be of the others.
    let planned = drs_module::recovery::run::of_payload(&clients, &run.payload).await?.plan;
    anyhow::ensure!(
        waves.len() >= planned.waves.len(),
        "the jobs show {} of the run's {} waves ({:?}): handoff_s is not measured",
        waves.len(),
        planned.waves.len(),
        waves.keys().collect::<Vec<_>>()
    );
    let handoffs: Vec<f64> = waves.values().zip(waves.values().skip(1)).map(|(a, b)| b.0 - a.1).collect();
    let aws_calls = calls.iter().filter(|c| c["service"] != "sts" && c["service"] != "states").count();
    let by_op = calls.iter().fold(BTreeMap::<String, usize>::new(), |mut m, c| {
        *m.entry(format!("{}:{}", c["service"].as_str().unwrap_or(""), c["operation"].as_str().unwrap_or(""))).or_default() += 1;
        m
    });
    for (op, n) in &by_op {
        println!("  {op:<40} {n}");
    }
    for (i, h) in handoffs.iter().enumerate() {
        println!("  hand-off wave {} -> {}: {h:.1} s", i + 1, i + 2);
    }
    let n_waves = waves.len().max(1);
    let servers = planned.server_count();
    let max_handoff = handoffs.iter().cloned().fold(0.0, f64::max);
    println!(
        "bench handoff: handoff_s={max_handoff:.1} poll_s={} calls_per_wave={:.1} checks={} calls_per_check={:.1} waves={n_waves} servers={}",
        args.poll_seconds,
        aws_calls as f64 / n_waves as f64,
        run.checks,
        aws_calls as f64 / (run.checks + 1) as f64,
        servers,
    );
    anyhow::ensure!(max_handoff <= args.poll_seconds as f64, "a hand-off took longer than one poll interval");
    Ok(())
}

//! `bench handoff`: the demo drill (3 waves over 3 accounts x 2 regions) played as the
//! platform plays it, with the simulator's clock moving one poll interval per wait. From the
//! execution's jobs: the hand-off between a wave's last launch (the last job's end of the
//! waves it depends on) and its first StartRecovery, in simulated seconds (goal: at most one
//! poll interval); from the simulator's call log: the AWS calls the module made per wave and
//! per check. Then waves as a graph: `manifests/two-applications.json` (two independent
//! applications of three waves each) played as written, and again as a line (its DependsOn
//! removed): the branches' run takes about the longer application's time (`run_s`, `longer_s`)
//! where the line takes their sum (`line_s`; `sum_s` adds the branches' own spans).

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
    /// The manifest of independent applications (waves as a graph).
    #[arg(long, default_value = "manifests/two-applications.json")]
    branches: std::path::PathBuf,
}

/// One resource's run, played to its end in a simulator of its own.
struct Played {
    run: drs_module::driver::PhaseRun,
    /// Per wave (its index): the first job's creation and the last job's end, in seconds.
    waves: BTreeMap<usize, (f64, f64)>,
    plan: drs_module::recovery::payload::Payload,
    /// The AWS calls the run made, from the simulator's call log.
    calls: Vec<Value>,
}

/// A job's time in seconds; an error naming the job and the field where DRS gave none (a
/// job not ended has no `endDateTime`), so that no hand-off is measured from a missing time.
fn secs(job: &str, field: &str, t: Option<&str>) -> anyhow::Result<f64> {
    let t = t.ok_or_else(|| anyhow::anyhow!("job {job} has no {field}: the hand-off is not measured"))?;
    let d = chrono::DateTime::parse_from_rfc3339(t).map_err(|e| anyhow::anyhow!("job {job}: {field} '{t}': {e}"))?;
    Ok(d.timestamp_millis() as f64 / 1000.0)
}

/// The first DRS resource of `manifest`, as the platform sends it, without approvals (they
/// would measure the approver, not the module); `line` drops every DependsOn, so the waves
/// follow one another as written.
fn resource_of(manifest: &std::path::Path, line: bool) -> anyhow::Result<Value> {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(manifest)?)?;
    let layers = drs_module::manifest::layers(&manifest)?;
    let resource =
        layers.iter().flat_map(|l| l.resources.iter()).next().ok_or_else(|| anyhow::anyhow!("no DRS resource"))?.clone();
    let mut params = resource.source["parameters"].clone();
    params.as_object_mut().map(|p| p.remove("PauseBefore"));
    if let Some(ws) = params["Waves"].as_array_mut() {
        ws.iter_mut().for_each(|w| {
            w.as_object_mut().map(|o| o.remove("PauseBefore"));
            if line {
                w.as_object_mut().map(|o| o.remove("DependsOn"));
            }
        });
    }
    Ok(json!({"action": "DRS", "resourceName": resource.name, "parameters": params}))
}

async fn play(sp: &Value, poll_seconds: u64) -> anyhow::Result<Played> {
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
    let driver = Driver { clients: &clients, poll: Duration::from_secs(poll_seconds), max_checks: 100_000 };
    let run = driver.run(sp, "activate", Some(&token), &wait, |_| {}).await.map_err(|e| anyhow::anyhow!("{e}"))?;
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
    let plan = drs_module::recovery::run::of_payload(&clients, &run.payload).await?.plan;
    anyhow::ensure!(
        waves.len() >= plan.waves.len(),
        "the jobs show {} of the run's {} waves ({:?}): handoff_s is not measured",
        waves.len(),
        plan.waves.len(),
        waves.keys().collect::<Vec<_>>()
    );
    Ok(Played { run, waves, plan, calls })
}

impl Played {
    /// Each wave's hand-off: its first start after the last end of the waves it depends on.
    fn handoffs(&self) -> Vec<(usize, f64)> {
        (0..self.plan.waves.len())
            .filter_map(|w| {
                let ends = self.plan.depends_on(w).iter().filter_map(|d| self.waves.get(d).map(|s| s.1)).fold(f64::MIN, f64::max);
                (ends > f64::MIN).then(|| (w, self.waves.get(&w).map_or(0.0, |s| s.0) - ends))
            })
            .collect()
    }

    /// From the first job's creation to the last job's end.
    fn seconds(&self, waves: impl Iterator<Item = usize> + Clone) -> f64 {
        let start = waves.clone().filter_map(|w| self.waves.get(&w)).map(|s| s.0).fold(f64::MAX, f64::min);
        let end = waves.filter_map(|w| self.waves.get(&w)).map(|s| s.1).fold(f64::MIN, f64::max);
        (end - start).max(0.0)
    }

    /// The waves reachable from root wave `r` through its dependents: one branch.
    fn branch(&self, r: usize) -> Vec<usize> {
        let mut out = vec![r];
        let mut i = 0;
        while i < out.len() {
            for d in self.plan.dependents(out[i]) {
                if !out.contains(&d) {
                    out.push(d);
                }
            }
            i += 1;
        }
        out
    }
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let demo = play(&resource_of(&args.manifest, false)?, args.poll_seconds).await?;
    let aws_calls = demo.calls.iter().filter(|c| c["service"] != "sts" && c["service"] != "states").count();
    let by_op = demo.calls.iter().fold(BTreeMap::<String, usize>::new(), |mut m, c| {
        *m.entry(format!("{}:{}", c["service"].as_str().unwrap_or(""), c["operation"].as_str().unwrap_or(""))).or_default() += 1;
        m
    });
    for (op, n) in &by_op {
        println!("  {op:<40} {n}");
    }
    let handoffs = demo.handoffs();
    for (w, h) in &handoffs {
        println!("  hand-off to wave {}: {h:.1} s", w + 1);
    }
    let n_waves = demo.waves.len().max(1);
    let servers = demo.plan.server_count();
    let max_handoff = handoffs.iter().map(|h| h.1).fold(0.0, f64::max);

    // Waves as a graph: the same applications as branches, then as a line.
    let graph = play(&resource_of(&args.branches, false)?, args.poll_seconds).await?;
    let line = play(&resource_of(&args.branches, true)?, args.poll_seconds).await?;
    let roots: Vec<usize> = (0..graph.plan.waves.len()).filter(|w| graph.plan.depends_on(*w).is_empty()).collect();
    let apps: Vec<f64> = roots.iter().map(|r| graph.seconds(graph.branch(*r).into_iter())).collect();
    for (r, s) in roots.iter().zip(&apps) {
        println!("  branch from wave {}: {s:.0} s", graph.plan.waves[*r].name);
    }
    let all = |p: &Played| p.seconds(0..p.plan.waves.len());
    let (run_s, line_s) = (all(&graph), all(&line));
    let (sum_s, longer_s) = (apps.iter().sum::<f64>(), apps.iter().cloned().fold(0.0, f64::max));
    let graph_handoff = graph.handoffs().iter().map(|h| h.1).fold(0.0, f64::max);
    println!(
        "bench handoff: handoff_s={max_handoff:.1} poll_s={} calls_per_wave={:.1} checks={} calls_per_check={:.1} waves={n_waves} \
         servers={} branches={} run_s={run_s:.0} longer_s={longer_s:.0} sum_s={sum_s:.0} line_s={line_s:.0} \
         branch_handoff_s={graph_handoff:.1}",
        args.poll_seconds,
        aws_calls as f64 / n_waves as f64,
        demo.run.checks,
        aws_calls as f64 / (demo.run.checks + 1) as f64,
        servers,
        roots.len(),
    );
    anyhow::ensure!(max_handoff <= args.poll_seconds as f64, "a hand-off took longer than one poll interval");
    anyhow::ensure!(graph_handoff <= args.poll_seconds as f64, "a branch's hand-off took longer than one poll interval");
    anyhow::ensure!(
        run_s <= longer_s + args.poll_seconds as f64,
        "the branches took {run_s:.0} s, more than the longer one ({longer_s:.0} s) and a poll interval"
    );
    Ok(())
}

//! `bench scale`: a 10,000-server drill (20 accounts x 3 regions, 5 waves, the generated
//! fleet's launch times of 420 to 1,020 s, a few failed launches, DRS's quotas per account x
//! region) driven through the module's Lambda entry as the platform drives it: activate,
//! then a status check with the activate's payload after each poll interval, the
//! simulator's clock moved between checks. The simulator runs in a child process, so the
//! memory and time measured are the module's. Figures: the payload's size, each check's wall
//! time and AWS calls, the process's peak memory beside the hub's Lambda memory, the
//! hand-off between waves, and the run's simulated length against its critical path.

use super::child_sim::{peak_rss_mib, reset_peak_rss, rss_mib, ChildSim};
use super::generated::Shape;
use anyhow::Context;
use drs_module::aws::{static_hub, Clients};
use drs_module::config::{ModuleConfig, Quotas};
use drs_module::driver::event;
use drs_module::lifecycle::handle_detailed;
use drs_sim::client::Control;
use drs_sim::fleet::{LaunchOutcome, Server};
use drs_sim::generate;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    fleet: Shape,
    #[arg(long, default_value_t = 5)]
    waves: usize,
    /// Servers whose launch fails (spread over the fleet); the waves' policy is `continue`.
    #[arg(long, default_value_t = 10)]
    failures: usize,
    /// The platform's Wait between status checks, in simulated seconds.
    #[arg(long, default_value_t = 30)]
    poll_seconds: u64,
    /// Source server ids as the simulator makes them (17 alphanumerics) instead of AWS's
    /// hexadecimal form: the payload then costs 17 bytes a server instead of 11.4.
    #[arg(long)]
    alphanumeric_ids: bool,
    /// Milliseconds added to every AWS call's reply (0: the check's own cost alone; AWS's
    /// calls take tens of milliseconds, where a check's sequential calls add up).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// A real recovery instead of a drill, then its replicate phase (one ReverseReplication
    /// per instance) driven to its end.
    #[arg(long)]
    recovery: bool,
    /// Only the run's opening, at each of these fleet sizes (comma-separated): activate (plan,
    /// the run and its plan written to the ledger, the first wave started) and one status
    /// check (the run read back), with the payload's bytes and the run's bytes in the ledger.
    #[arg(long, value_delimiter = ',')]
    opening_sizes: Vec<usize>,
}

/// What one status check cost.
struct CheckCost {
    wall_s: f64,
    /// DRS and EC2 calls (AssumeRole and the task-token heartbeat aside).
    aws_calls: usize,
    by_operation: BTreeMap<String, usize>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    if !args.opening_sizes.is_empty() {
        return super::scale_opening::run(&args.fleet, &args.opening_sizes, args.waves).await;
    }
    let fleet = scale_fleet(&args)?;
    let critical_path_s = critical_path(&fleet.servers, &Quotas::default());
    let regions = fleet.accounts[0].regions.clone();
    let sim = ChildSim::spawn(&fleet)?;
    drop(fleet);
    let control = Control::new(&sim.endpoint);
    control.ok("POST", "clock", Some(&json!({"speed": 0}))).await?;
    let cfg = args.fleet.config(&regions, &sim.endpoint)?;
    let clients =
        Clients::new(cfg.clone(), static_hub(&regions[0], generate::HUB_ACCESS_KEY, generate::HUB_SECRET), "bench-scale");
    let token = control.ok("POST", "tokens", Some(&json!({"timeoutSeconds": 86400 * 7}))).await?["taskToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let wave_values: Vec<String> = (1..=args.waves).map(|w| w.to_string()).collect();
    let sp = json!({"action": "DRS", "resourceName": "Everything", "parameters": {
        "Tags": {"Wave": wave_values}, "Waves": {"ByTag": "Wave"},
        "FailurePolicy": "continue", "TimeoutMinutes": 1440,
        "Mode": if args.recovery { "recovery" } else { "drill" },
    }});
    let peak_reset = reset_peak_rss();
    let rss_before = rss_mib()?;

    // Activate: plan, size check, first wave started.
    let mut seq = control.calls().await?.len();
    let started = Instant::now();
    let first = handle_detailed(&clients, &event(&sp, "activate", Some(&token))).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let activate_s = started.elapsed().as_secs_f64();
    let (activate_calls, next) = calls_since(&control, seq).await?;
    let sim_start = activate_calls.first().map(|c| sim_secs(&c["simTime"])).unwrap_or(f64::NAN);
    seq = next;
    let payload_bytes = first.answer.to_string().len();
    let run = drs_module::recovery::run::of_payload(&clients, &first.answer).await?;
    let servers = run.plan.server_count();
    let ledger_bytes = ledger_bytes(&control, &run.record.pk).await?;

    // Status checks until the run ends, as the platform's loop does.
    let mut check = event(&sp, "activate", Some(&token));
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    let mut costs: Vec<CheckCost> = vec![];
    let mut last_detail = None;
    let sim_end = loop {
        anyhow::ensure!(costs.len() < 10_000, "still running after {} checks", costs.len());
        control.advance(args.poll_seconds as f64).await?;
        let t = Instant::now();
        let h = handle_detailed(&clients, &check).await.map_err(|e| anyhow::anyhow!("check {}: {e}", costs.len() + 1))?;
        let wall_s = t.elapsed().as_secs_f64();
        let (calls, next) = calls_since(&control, seq).await?;
        seq = next;
        costs.push(cost(wall_s, &calls));
        last_detail = h.detail.or(last_detail);
        if h.answer == Value::Bool(true) {
            break calls.last().map(|c| sim_secs(&c["simTime"])).unwrap_or(f64::NAN);
        }
    };
    let peak_mib = peak_rss_mib()?;
    let lambda_mib = hub_lambda_memory_mib()?;

    let handoffs = handoffs(&clients, &cfg).await?;
    let (launched, failed) = outcome(&last_detail);
    print_report(&costs, &handoffs, activate_s, &last_detail);
    let mut walls: Vec<f64> = costs.iter().map(|c| c.wall_s).collect();
    walls.sort_by(f64::total_cmp);
    let pct = |q: f64| walls.get(((walls.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    let busiest = costs.iter().map(|c| c.aws_calls).max().unwrap_or(0);
    let handoff_s = handoffs.iter().cloned().fold(0.0, f64::max);
    let total_s = sim_end - sim_start;
    println!(
        "  payload {payload_bytes} bytes for {servers} servers (a reference to the run ledger); the run's items in the ledger {ledger_bytes} bytes ({:.1} a server)",
        ledger_bytes as f64 / servers.max(1) as f64
    );
    println!(
        "  {} checks; run {total_s:.0} s simulated, critical path {critical_path_s:.0} s; {launched} launched, {failed} failed",
        costs.len()
    );
    let since = if peak_reset { "from activate on" } else { "since the process started, fleet generation included" };
    println!(
        "  peak memory {peak_mib:.0} MiB ({since}; {rss_before:.0} MiB resident before activate) of the hub Lambda's {lambda_mib} MiB"
    );
    let replicate = match args.recovery {
        true => {
            let r = super::replicate_phase::drive(&clients, &control, &sp, args.poll_seconds).await?;
            println!(
                "  replicate: {} instances, {} ReverseReplication calls; the phase call {:.3} s, then {} checks (slowest {:.3} s)",
                r.instances, r.reverse_calls, r.phase_s, r.checks, r.slowest_check_s
            );
            anyhow::ensure!(r.instances as usize == servers - args.failures, "replicate found {} instances", r.instances);
            format!(" replicate_s={:.3} replicate_check_s={:.3} reverse_calls={}", r.phase_s, r.slowest_check_s, r.reverse_calls)
        }
        false => String::new(),
    };
    println!(
        "bench scale: servers={servers} payload_bytes={payload_bytes} ledger_kib={:.1} ledger_bytes_per_server={:.1} check_p50_s={:.3} check_p99_s={:.3} calls_per_check={busiest} peak_mib={peak_mib:.0} lambda_mib={lambda_mib} handoff_s={handoff_s:.1} poll_s={} total_s={total_s:.0} bound_s={critical_path_s:.0} ratio={:.2} checks={} latency_ms={}{replicate}",
        ledger_bytes as f64 / 1024.0,
        ledger_bytes as f64 / servers.max(1) as f64,
        pct(0.5),
        pct(0.99),
        args.poll_seconds,
        total_s / critical_path_s,
        costs.len(),
        args.latency_ms,
    );
    anyhow::ensure!(payload_bytes <= 2048, "the payload is {payload_bytes} bytes, over 2 KiB");
    anyhow::ensure!(peak_mib < lambda_mib as f64, "the peak memory is over the Lambda's");
    anyhow::ensure!(handoff_s <= args.poll_seconds as f64, "a hand-off took longer than one poll interval");
    anyhow::ensure!(failed == args.failures, "{failed} servers failed, {} were set to fail", args.failures);
    Ok(())
}

/// The generated fleet with `waves` Wave tags spread over every account x region, AWS's
/// hexadecimal ids (unless asked otherwise) and `failures` launches set to fail.
fn scale_fleet(args: &Args) -> anyhow::Result<drs_sim::Fleet> {
    let mut fleet = args.fleet.fleet()?;
    fleet.clock.speed = 0.0;
    if args.latency_ms > 0 {
        fleet.faults.latency.push(drs_sim::faults::Latency { on: Default::default(), millis: args.latency_ms });
    }
    let partitions = args.fleet.accounts * args.fleet.regions;
    let every = (args.fleet.servers / args.failures.max(1)).max(1);
    for (i, s) in fleet.servers.iter_mut().enumerate() {
        // Server i is in partition i mod (accounts x regions): the wave follows the rank in it.
        s.tags.insert("Wave".into(), ((i / partitions) % args.waves + 1).to_string());
        if !args.alphanumeric_ids {
            s.source_server_id = Some(format!("s-{:017x}", 0x3b9_4010_0000_0000_u64 + i as u64 * 104_729));
        }
        if args.failures > 0 && i % every == every / 2 && i / every < args.failures {
            s.launch.outcome = LaunchOutcome::Failed;
            s.launch.failure_reason = Some("bench: the recovery instance failed its status checks".into());
        }
    }
    Ok(fleet)
}

/// The shortest the run could take: waves in order; in each, its slowest account x region.
/// There at most `at_once` servers run (servers in active jobs, capped by concurrent jobs x
/// servers a job), so it takes at least its slowest launch, its launch-seconds spread over
/// `at_once`, and, with more servers than `at_once`, one quickest launch a round of servers.
fn critical_path(servers: &[Server], q: &Quotas) -> f64 {
    let at_once = q.servers_in_active_jobs.min(q.concurrent_jobs * q.servers_per_job).max(1);
    #[derive(Default)]
    struct Part {
        n: usize,
        slowest: f64,
        quickest: f64,
        sum: f64,
    }
    let mut per: BTreeMap<(u64, &str, &str), Part> = BTreeMap::new();
    for s in servers {
        let wave = s.tags.get("Wave").and_then(|w| w.parse::<u64>().ok()).unwrap_or(0);
        let e = per.entry((wave, &s.account_id, &s.region)).or_insert(Part { quickest: f64::MAX, ..Part::default() });
        let t = s.launch.seconds as f64;
        (e.n, e.slowest, e.quickest, e.sum) = (e.n + 1, e.slowest.max(t), e.quickest.min(t), e.sum + t);
    }
    let mut waves: BTreeMap<u64, f64> = BTreeMap::new();
    for ((wave, _, _), p) in per {
        let rounds = p.n.div_ceil(at_once) as f64;
        let w = waves.entry(wave).or_insert(0.0);
        *w = w.max(p.slowest).max(p.sum / at_once as f64).max(rounds * p.quickest);
    }
    waves.values().sum()
}

/// The bytes of the run's items in the ledger as the simulator holds them (its control view:
/// each item as JSON, so the attribute types' markers count too: an upper bound of what
/// DynamoDB bills).
async fn ledger_bytes(control: &Control, pk: &str) -> anyhow::Result<usize> {
    let v = control.ok("GET", "tables/drs-orch-runs", None).await?;
    let items = v["items"].as_array().context("the simulator lists the ledger's items")?;
    let bytes: usize = items.iter().filter(|i| i["pk"]["S"] == pk).map(|i| i.to_string().len()).sum();
    anyhow::ensure!(bytes > 0, "the run has no items in the ledger");
    Ok(bytes)
}

/// The call log after sequence number `seq`, and the next one.
async fn calls_since(control: &Control, seq: usize) -> anyhow::Result<(Vec<Value>, usize)> {
    let v = control.ok("GET", &format!("calls?since={seq}"), None).await?;
    let calls = v["calls"].as_array().cloned().unwrap_or_default();
    let next = seq + calls.len();
    Ok((calls, next))
}

fn cost(wall_s: f64, calls: &[Value]) -> CheckCost {
    let mut by_operation = BTreeMap::new();
    for c in calls.iter().filter(|c| c["service"] == "drs" || c["service"] == "ec2") {
        *by_operation
            .entry(format!("{}:{}", c["service"].as_str().unwrap_or(""), c["operation"].as_str().unwrap_or("")))
            .or_default() += 1;
    }
    CheckCost { wall_s, aws_calls: by_operation.values().sum(), by_operation }
}

fn sim_secs(t: &Value) -> f64 {
    t.as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|d| d.timestamp_millis() as f64 / 1000.0)
        .unwrap_or(f64::NAN)
}

/// Per wave boundary: the next wave's first job created minus this wave's last job ended,
/// in simulated seconds, from the execution's launch jobs in every partition.
async fn handoffs(clients: &Clients, cfg: &ModuleConfig) -> anyhow::Result<Vec<f64>> {
    let mut waves: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
    for p in cfg.partitions() {
        let drs = clients.drs(&p).await?;
        let mut pages = drs.describe_jobs().max_results(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            for j in page?.items() {
                let Some(w) = j.tags().and_then(|t| t.get("drs-orch:wave")).and_then(|w| w.parse::<usize>().ok()) else {
                    continue;
                };
                let e = waves.entry(w).or_insert((f64::MAX, f64::MIN));
                e.0 = e.0.min(sim_secs(&json!(j.creation_date_time().unwrap_or_default())));
                e.1 = e.1.max(sim_secs(&json!(j.end_date_time().unwrap_or_default())));
            }
        }
    }
    Ok(waves.values().zip(waves.values().skip(1)).map(|(a, b)| b.0 - a.1).collect())
}

/// Launched and failed servers, from the last check's status.
fn outcome(detail: &Option<Value>) -> (usize, usize) {
    let sum = |key: &str| {
        detail
            .as_ref()
            .and_then(|d| d["waves"].as_array())
            .map_or(0, |ws| ws.iter().map(|w| w[key].as_u64().unwrap_or(0) as usize).sum())
    };
    (sum("launched"), sum("failed"))
}

fn print_report(costs: &[CheckCost], handoffs: &[f64], activate_s: f64, detail: &Option<Value>) {
    if let Some((i, c)) = costs.iter().enumerate().max_by_key(|(_, c)| c.aws_calls) {
        println!("  busiest check: #{} with {} DRS/EC2 calls in {:.3} s:", i + 1, c.aws_calls, c.wall_s);
        for (op, n) in &c.by_operation {
            println!("    {op:<40} {n}");
        }
    }
    if let Some((i, c)) = costs.iter().enumerate().max_by(|a, b| a.1.wall_s.total_cmp(&b.1.wall_s)) {
        println!("  slowest check: #{} with {} DRS/EC2 calls in {:.3} s:", i + 1, c.aws_calls, c.wall_s);
        for (op, n) in &c.by_operation {
            println!("    {op:<40} {n}");
        }
    }
    println!("  activate {activate_s:.3} s");
    for (i, h) in handoffs.iter().enumerate() {
        println!("  hand-off wave {} -> {}: {h:.1} s", i + 1, i + 2);
    }
    if let Some(d) = detail {
        println!("  outcome: {}", d.get("outcome").unwrap_or(&Value::Null));
    }
}

/// The hub template's Lambda memory (MiB): what the module may use per invocation.
fn hub_lambda_memory_mib() -> anyhow::Result<u64> {
    let hub: Value = serde_json::from_str(include_str!("../../cloudformation/hub.json"))?;
    let sizes: Vec<u64> = hub["Resources"]
        .as_object()
        .map(|r| {
            r.values()
                .filter(|v| v["Type"] == "AWS::Lambda::Function")
                .filter_map(|v| v["Properties"]["MemorySize"].as_u64())
                .collect()
        })
        .unwrap_or_default();
    sizes.into_iter().min().ok_or_else(|| anyhow::anyhow!("cloudformation/hub.json has no Lambda MemorySize"))
}

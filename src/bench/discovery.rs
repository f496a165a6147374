//! `bench discovery`: a generated fleet (10,000 servers, 20 accounts x 3 regions) behind
//! 50 ms of latency per call and 10 requests a second per account x region (DRS and EC2),
//! served by the simulator in a child process. Measured in one run: the lower bound (the
//! slowest partition's round trips x latency, or its rate limit), our concurrent discovery,
//! and the sequential account-by-account, region-by-region loop; then, beside them, the same
//! discovery with no latency (`cpu_floor_s`: what reading the responses costs here).
//! Against what is physically there: `floor_s`, the higher of the latency bound and that CPU
//! floor, and `ratio_floor` (goal at most 1.25); the client's CPU per server discovered; and
//! against what a user would otherwise run: the same discovery in Python with boto3, one
//! thread per account x region (`scripts/boto3_discovery.py`), with the same latency and
//! rate limits in the same run (`vs_boto3`, goal at least 5).

use super::child_sim::{cpu_seconds, peak_rss_mib, ChildSim};
use super::generated::Shape;
use aws_config::SdkConfig;
use drs_module::aws::Clients;
use drs_module::config::{ModuleConfig, Partition};
use drs_module::discovery::{discover, one_partition, Limits};
use drs_sim::faults::{FaultSet, Latency, Selector, Throttle};
use drs_sim::generate;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    fleet: Shape,
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Rounds of our discovery and of the zero-latency one, in turn, each with new clients
    /// (new connections and credentials); the median of each is printed, as one run swings
    /// by a third on this shared machine.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Leaves out the sequential loop (for profiling our own discovery).
    #[arg(long)]
    skip_sequential: bool,
    /// Leaves out the boto3 discovery.
    #[arg(long)]
    skip_boto3: bool,
}

/// DRS and EC2 page sizes the module asks for (discovery/list.rs, discovery/enrich.rs).
const DRS_PAGE: usize = 1000;
const EC2_IDS_PER_CALL: usize = 200;

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut fleet = args.fleet.fleet()?;
    fleet.clock.speed = 0.0;
    fleet.faults.latency.push(Latency { on: Selector::default(), millis: args.latency_ms });
    for service in ["drs", "ec2"] {
        fleet.faults.throttle.push(Throttle {
            on: Selector { service: Some(service.into()), ..Default::default() },
            requests_per_second: args.rate,
            burst: Some(args.rate),
            retry_after_seconds: 1,
            per_partition: true,
        });
    }
    let bound_s = lower_bound(&fleet, &args);
    let sim = ChildSim::spawn(&fleet)?;
    let endpoint = sim.endpoint.clone();
    let regions: Vec<String> = {
        let mut r: Vec<String> = fleet.accounts[0].regions.clone();
        r.sort();
        r
    };
    drop(fleet);

    let sim_pid = sim.pid().to_string();
    let cfg = args.fleet.config(&regions, &endpoint)?;
    let partitions = cfg.partitions();

    // Our discovery and the same with the latency removed (throttling kept: the CPU cost of
    // reading 10,000 servers and their instances on this machine, shared with the simulator),
    // round by round, so that both medians see the same load on a shared machine.
    let control = drs_sim::client::Control::new(&endpoint);
    let with_latency: FaultSet = serde_json::from_value(control.ok("GET", "faults", None).await?)?;
    let without_latency = FaultSet { latency: vec![], ..with_latency.clone() };
    let (mut ours, mut floor) = (vec![], vec![]);
    // CPU spent by our discovery and by the simulator (which shares this machine's cores, as
    // AWS's servers would not), over the rounds with latency.
    let (mut client_cpu_s, mut sim_cpu_s) = (0.0, 0.0);
    for _ in 0..args.rounds.max(1) {
        control.ok("PUT", "faults", Some(&serde_json::to_value(&with_latency)?)).await?;
        let cpu_before = (cpu_seconds("self")?, cpu_seconds(&sim_pid)?);
        ours.push(one_discovery(&cfg, &regions[0], &args, "bench-ours").await?);
        client_cpu_s += cpu_seconds("self")? - cpu_before.0;
        sim_cpu_s += cpu_seconds(&sim_pid)? - cpu_before.1;
        control.ok("PUT", "faults", Some(&serde_json::to_value(&without_latency)?)).await?;
        floor.push(one_discovery(&cfg, &regions[0], &args, "bench-cpu").await?);
    }
    control.ok("PUT", "faults", Some(&serde_json::to_value(&with_latency)?)).await?;
    let rounds = args.rounds.max(1) as f64;
    let (client_cpu_s, sim_cpu_s) = (client_cpu_s / rounds, sim_cpu_s / rounds);
    // The ratio to the floor is taken round by round (each pair saw the same load), then its
    // median: the ratio of the two medians swung from 1.2 to 1.4 between runs.
    let ratios: Vec<f64> = ours.iter().zip(&floor).map(|(o, f)| o / bound_s.max(*f)).collect();
    let (ours_s, cpu_floor_s, ratio_floor) = (median(ours), median(floor), median(ratios));
    let peak_mib = peak_rss_mib()?;

    // The seed's loop: one account after another, one region after another.
    let clients = Clients::new(cfg.clone(), hub_config(&regions[0]), "bench-sequential");
    let limits = Limits::from(&clients);
    let t = Instant::now();
    let mut found = 0;
    for p in partitions.iter().filter(|_| !args.skip_sequential) {
        let (report, servers) = one_partition(&clients, p.clone(), &limits).await;
        anyhow::ensure!(report.error.is_none(), "sequential loop failed in {p}: {:?}", report.error);
        found += servers.len();
    }
    let sequential_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        args.skip_sequential || found == args.fleet.servers,
        "the sequential loop found {found} of {} servers",
        args.fleet.servers
    );

    // The same discovery as a Python user would write it, under the same latency and limits.
    let boto3 =
        if args.skip_boto3 { Err("left out (--skip-boto3)".to_owned()) } else { boto3_discovery(&endpoint, &cfg, &args).await };
    drop(sim);

    let floor_s = bound_s.max(cpu_floor_s);
    let client_us_per_server = client_cpu_s * 1e6 / args.fleet.servers.max(1) as f64;
    let (boto3_s, vs_boto3) = match &boto3 {
        Ok(b) => {
            println!("  boto3: {:.3} s, {:.3} s CPU, {} threads", b.seconds, b.cpu_s, b.threads);
            (format!("{:.3}", b.seconds), format!("{:.1}", b.seconds / ours_s))
        }
        Err(why) => {
            println!("  boto3: not measured: {why}");
            ("NA".to_owned(), "NA".to_owned())
        }
    };
    println!(
        "  floor {floor_s:.3} s (the higher of the latency bound {bound_s:.3} s and the zero-latency run {cpu_floor_s:.3} s); client CPU {client_us_per_server:.0} us a server, the simulator's {:.0}",
        sim_cpu_s * 1e6 / args.fleet.servers.max(1) as f64
    );
    // No client can parse anything before two round trips (AssumeRole, then the first DRS
    // page): the floor above assumes the CPU work overlaps every trip, which it cannot.
    let serial_s = 2.0 * args.latency_ms as f64 / 1000.0;
    // Never below the latency bound: with little to read, the trips are the floor.
    let reachable_s = bound_s.max(serial_s + cpu_floor_s);
    println!(
        "  reachable floor {reachable_s:.3} s: the {serial_s:.3} s of AssumeRole and the first DRS page, before which there is nothing to read, then the zero-latency run (at least the latency bound)"
    );
    println!(
        "bench discovery: ours_s={ours_s:.3} bound_s={bound_s:.3} ratio={:.2} floor_s={floor_s:.3} ratio_floor={:.2} client_us_per_server={client_us_per_server:.0} boto3_s={boto3_s} vs_boto3={vs_boto3} sequential_s={sequential_s:.2} speedup={:.1} reachable_s={reachable_s:.3} ratio_reachable={:.2} peak_mib={peak_mib:.0} cpu_floor_s={cpu_floor_s:.3} client_cpu_s={client_cpu_s:.3} sim_cpu_s={sim_cpu_s:.3} servers={} partitions={}",
        ours_s / bound_s,
        ratio_floor,
        sequential_s / ours_s,
        ours_s / reachable_s,
        args.fleet.servers,
        partitions.len()
    );
    Ok(())
}

/// What the boto3 script reports.
#[derive(serde::Deserialize)]
struct Boto3Run {
    seconds: f64,
    cpu_s: f64,
    servers: usize,
    instances: usize,
    threads: usize,
}

/// Runs `scripts/boto3_discovery.py` against the simulator; Err says why it could not run.
async fn boto3_discovery(endpoint: &str, cfg: &ModuleConfig, args: &Args) -> Result<Boto3Run, String> {
    let has_boto3 = tokio::process::Command::new("python3").args(["-c", "import boto3"]).output().await;
    match has_boto3 {
        Ok(o) if o.status.success() => {}
        Ok(_) => return Err("boto3 is not installed (python3 -c 'import boto3' failed)".into()),
        Err(e) => return Err(format!("python3 did not start: {e}")),
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/boto3_discovery.py");
    let accounts: Vec<String> = cfg.accounts.iter().map(|a| a.account_id.to_string()).collect();
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .args(["--endpoint", endpoint, "--accounts", &accounts.join(","), "--regions", &cfg.regions.join(",")])
        .args(["--role", generate::TARGET_ROLE, "--external-id-rule", "drsorch-demo-{accountId}"])
        // The simulator's hub key, handed as a user's credentials are: in the environment.
        .env("AWS_ACCESS_KEY_ID", generate::HUB_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", generate::HUB_SECRET)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .map_err(|e| format!("{} did not start: {e}", script.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{} failed: {}", script.display(), err.lines().last().unwrap_or("")));
    }
    let run: Boto3Run = serde_json::from_slice(&out.stdout).map_err(|e| format!("its output: {e}"))?;
    if run.servers != args.fleet.servers || run.instances != args.fleet.servers {
        return Err(format!("it found {} servers and {} instances of {}", run.servers, run.instances, args.fleet.servers));
    }
    Ok(run)
}

/// The slowest partition's critical path: AssumeRole, its DRS pages, then the EC2 calls
/// for its servers' source instances, each one round trip of `latency`; or, if slower, the
/// calls it receives at the rate limit.
fn lower_bound(fleet: &drs_sim::Fleet, args: &Args) -> f64 {
    let mut servers: HashMap<Partition, usize> = HashMap::new();
    for s in &fleet.servers {
        *servers.entry(Partition { account: s.account_id.clone(), region: s.region.clone() }).or_default() += 1;
    }
    let latency = args.latency_ms as f64 / 1000.0;
    servers
        .values()
        .map(|n| {
            let drs_pages = n.div_ceil(DRS_PAGE).max(1);
            let ec2_calls = n.div_ceil(EC2_IDS_PER_CALL).max(1);
            let trips = (1 + drs_pages + ec2_calls) as f64 * latency;
            let rate = (drs_pages.max(ec2_calls) as f64 - args.rate).max(0.0) / args.rate;
            trips.max(rate)
        })
        .fold(0.0, f64::max)
}

fn hub_config(region: &str) -> SdkConfig {
    drs_module::aws::static_hub(region, generate::HUB_ACCESS_KEY, generate::HUB_SECRET)
}

/// One discovery with new clients (new connections and credentials), required to find every
/// server with no partition failing; its seconds.
async fn one_discovery(cfg: &Arc<ModuleConfig>, region: &str, args: &Args, label: &str) -> anyhow::Result<f64> {
    let clients = Clients::new(cfg.clone(), hub_config(region), label);
    let t = Instant::now();
    let found = discover(&clients, &cfg.partitions(), |_| {}).await;
    let seconds = t.elapsed().as_secs_f64();
    anyhow::ensure!(found.failed().next().is_none(), "{label}: failures: {:?}", found.failed().collect::<Vec<_>>());
    anyhow::ensure!(
        found.servers.len() == args.fleet.servers,
        "{label}: found {} of {} servers",
        found.servers.len(),
        args.fleet.servers
    );
    Ok(seconds)
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied().unwrap_or(f64::NAN)
}

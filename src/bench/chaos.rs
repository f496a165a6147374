//! `bench chaos`: drills run to their end (activate, then cleanup) as the platform drives
//! them, on the worst day: a throttling storm (one call in three answered 429, every service),
//! one account x region dark for 10 simulated minutes mid-wave, every assumed-role session
//! ended mid-run, and one event re-delivered per phase (the phase call sent twice, and one
//! status check sent twice at once). Runs alternate the demo drill (60 servers over 3 accounts
//! x 2 regions) and a generated 20-account x 3-region drill. Each run is judged against the
//! simulator: completed (activate done, cleanup done), servers launched more than once,
//! drill instances left after cleanup (orphans), and outcomes other than "every server
//! launched" (wrong outcomes).

use drs_module::aws::{static_hub, Clients};
use drs_module::config::ModuleConfig;
use drs_module::driver::event;
use drs_module::lifecycle::handle_detailed;
use drs_sim::client::Control;
use drs_sim::generate::{self, Spec};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// How many drills (alternately the demo and the 20 x 3 one).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Servers of the 20-account x 3-region drill.
    #[arg(long, default_value_t = 600)]
    servers: usize,
    /// The platform's Wait between status checks, in simulated seconds.
    #[arg(long, default_value_t = 30)]
    poll_seconds: u64,
}

/// The check at which the dark partition goes dark, and for how many checks (10 minutes).
const DARK_FROM: usize = 3;
/// When every session ends.
const SESSIONS_END_AT: usize = 6;
/// Checks a run may take before it counts as not completed.
const MAX_CHECKS: usize = 2_000;

#[derive(Default)]
struct RunResult {
    completed: bool,
    duplicate_launches: usize,
    orphans: usize,
    wrong_outcome: bool,
    servers: usize,
    checks: usize,
    seconds: f64,
    throttled: usize,
    /// Calls the dark partition refused (503), and calls refused for an ended session.
    dark: usize,
    expired: usize,
    note: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let dark_checks = (600 / args.poll_seconds.max(1)) as usize;
    let mut results = vec![];
    for i in 0..args.runs {
        let big = i % 2 == 1;
        let r = one(&args, big, dark_checks).await?;
        println!(
            "  run {:>2} {:<10} servers={:<5} completed={} duplicate_launches={} orphans={} wrong_outcome={} checks={} throttled={} dark={} expired={} {:.1}s {}",
            i + 1,
            if big { "20x3" } else { "demo" },
            r.servers,
            r.completed,
            r.duplicate_launches,
            r.orphans,
            r.wrong_outcome,
            r.checks,
            r.throttled,
            r.dark,
            r.expired,
            r.seconds,
            r.note
        );
        results.push(r);
    }
    let sum = |f: fn(&RunResult) -> usize| results.iter().map(f).sum::<usize>();
    println!(
        "bench chaos: runs={} completed={} duplicate_launches={} orphans={} wrong_outcomes={} throttled_calls={} dark_calls={} expired_session_calls={} dark_minutes={} poll_s={}",
        results.len(),
        results.iter().filter(|r| r.completed).count(),
        sum(|r| r.duplicate_launches),
        sum(|r| r.orphans),
        results.iter().filter(|r| r.wrong_outcome).count(),
        sum(|r| r.throttled),
        sum(|r| r.dark),
        sum(|r| r.expired),
        dark_checks as u64 * args.poll_seconds / 60,
        args.poll_seconds
    );
    Ok(())
}

/// The fleet, the module configuration and the resource of one run.
fn setup(big: bool, servers: usize) -> anyhow::Result<(drs_sim::Fleet, Value, Value)> {
    let params = json!({
        "Tags": {"Application": ["shop", "billing"]},
        "Waves": [
            {"Name": "databases", "Tags": {"Tier": "db"}},
            {"Name": "applications", "Tags": {"Tier": "app"}, "DependsOn": ["databases"]},
            {"Name": "web", "Tags": {"Tier": "web"}, "DependsOn": ["applications"]}
        ]
    });
    let resource = json!({"action": "DRS", "resourceName": "Chaos", "parameters": params});
    if !big {
        let cfg: Value = serde_json::from_str(drs_module::config::DEMO)?;
        return Ok((drs_sim::Fleet::demo(), cfg, resource));
    }
    let fleet = generate::fleet(&Spec { servers, accounts: 20, regions: 3 })?;
    let regions: Vec<String> = fleet.accounts[0].regions.clone();
    let cfg = json!({
        "project": "drsorch", "environment": "demo",
        "hub": {"region": regions[0]},
        "roleName": generate::TARGET_ROLE,
        "externalId": {"rule": "{project}-{environment}-{accountId}"},
        "ledger": {"payloadKey": super::generated::PAYLOAD_KEY},
        "regions": regions,
        "accounts": (0..20).map(|a| json!({"accountId": generate::account_id(a)})).collect::<Vec<_>>(),
    });
    Ok((fleet, cfg, resource))
}

async fn one(args: &Args, big: bool, dark_checks: usize) -> anyhow::Result<RunResult> {
    let started = Instant::now();
    let (mut fleet, mut cfg, resource) = setup(big, args.servers)?;
    fleet.clock.speed = 0.0;
    let servers = fleet.servers.len();
    let dark = (fleet.servers[0].account_id.clone(), fleet.servers[0].region.clone());
    let sim = drs_sim::start(fleet, 0).await?;
    let control = Control::new(&sim.endpoint);
    cfg["hub"]["endpointUrl"] = json!(sim.endpoint);
    // Retries as a tuned deployment would set them: short first backoff, enough attempts.
    cfg["retry"] = json!({"maxAttempts": 6, "initialBackoffMillis": 20});
    let cfg = ModuleConfig::from_value(cfg)?;
    let h = &sim.world.hub;
    let clients = Clients::new(Arc::new(cfg), static_hub(&h.region, &h.access_key_id, &h.secret_access_key), "chaos");
    let storm = json!({"every": 3});
    let faults = |dark_on: bool| {
        let mut f = json!({"storms": [storm.clone()]});
        if dark_on {
            f["outages"] = json!([{"account": dark.0, "region": dark.1, "status": 503}]);
        }
        f
    };
    control.ok("PUT", "faults", Some(&faults(false))).await?;
    let mut result = RunResult { servers, ..Default::default() };

    // Activate, re-delivered once.
    let call = event(&resource, "activate", None);
    let first = handle_detailed(&clients, &call).await;
    let again = handle_detailed(&clients, &call).await;
    let payload = match (first, again) {
        (Ok(a), Ok(b)) if a.answer["execution"] == b.answer["execution"] => a.answer,
        (a, b) => {
            result.note = format!("activate: {:?} / {:?}", a.err(), b.err());
            result.wrong_outcome = true;
            return Ok(finish(result, started, &control).await);
        }
    };
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": payload});
    let mut last = None;
    for n in 0..MAX_CHECKS {
        control.advance(args.poll_seconds as f64).await?;
        if n == DARK_FROM {
            control.ok("PUT", "faults", Some(&faults(true))).await?;
        }
        if n == DARK_FROM + dark_checks {
            control.ok("PUT", "faults", Some(&faults(false))).await?;
        }
        if n == SESSIONS_END_AT {
            control.ok("POST", "credentials/expire", None).await?;
        }
        // One check re-delivered while the first is running.
        let answer = if n == 1 {
            let (a, b) = tokio::join!(handle_detailed(&clients, &check), handle_detailed(&clients, &check));
            a.and(b)
        } else {
            handle_detailed(&clients, &check).await
        };
        result.checks = n + 1;
        match answer {
            Ok(h) if h.answer == json!(true) => {
                last = h.detail;
                break;
            }
            Ok(_) => {}
            Err(e) => {
                result.note = format!("activate check {}: {e}", n + 1);
                result.wrong_outcome = true;
                return Ok(finish(result, started, &control).await);
            }
        }
    }
    let Some(status) = last else {
        result.note = "activate never ended".into();
        return Ok(finish(result, started, &control).await);
    };
    let launched: u64 = status["waves"].as_array().into_iter().flatten().filter_map(|w| w["launched"].as_u64()).sum();
    result.wrong_outcome = status["outcome"]["state"] != "done" || launched != servers as u64;

    // Cleanup, re-delivered once; the storm goes on.
    let call = event(&resource, "cleanup", None);
    let first = handle_detailed(&clients, &call).await;
    let _ = handle_detailed(&clients, &call).await;
    let mut cleaned = false;
    if let Ok(first) = first {
        let mut check = call.clone();
        check["status"] = json!(true);
        check["lifecycle_output"] = json!({"Payload": first.answer});
        for _ in 0..MAX_CHECKS {
            control.advance(args.poll_seconds as f64).await?;
            match handle_detailed(&clients, &check).await {
                Ok(h) if h.answer == json!(true) => {
                    cleaned = true;
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    result.note = format!("cleanup: {e}");
                    break;
                }
            }
        }
    }
    // Counted with the faults lifted, so that the count itself is not throttled.
    control.ok("PUT", "faults", Some(&json!({}))).await?;
    let per_server = launches(&clients).await?;
    result.duplicate_launches = per_server.values().filter(|n| **n > 1).count();
    let instances = control.ok("GET", "recovery-instances", None).await?;
    result.orphans = instances["recoveryInstances"].as_array().into_iter().flatten().filter(|i| i["isDrill"] == true).count();
    result.completed = cleaned && !result.wrong_outcome;
    Ok(finish(result, started, &control).await)
}

async fn finish(mut r: RunResult, started: Instant, control: &Control) -> RunResult {
    r.seconds = started.elapsed().as_secs_f64();
    let calls = control.calls().await.unwrap_or_default();
    r.throttled = calls.iter().filter(|c| c["status"] == 429).count();
    r.dark = calls.iter().filter(|c| c["status"] == 503).count();
    r.expired = calls.iter().filter(|c| c["error"].as_str().is_some_and(|e| e.starts_with("Expired"))).count();
    r
}

/// How many launch jobs each server was in, over every partition.
async fn launches(clients: &Clients) -> anyhow::Result<BTreeMap<String, usize>> {
    let mut out = BTreeMap::new();
    for p in clients.config().partitions() {
        let drs = clients.drs(&p).await?;
        let mut pages = drs.describe_jobs().max_results(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            for j in page?.items().iter().filter(|j| j.r#type().is_some_and(|t| t.as_str() == "LAUNCH")) {
                for s in j.participating_servers() {
                    *out.entry(s.source_server_id().unwrap_or_default().to_owned()).or_insert(0) += 1;
                }
            }
        }
    }
    Ok(out)
}

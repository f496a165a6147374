//! The run kinds beyond the worst day, each a drill the platform drives to its end (activate,
//! then cleanup), with what it should launch (`Expect`) for the judge and the ends it calls
//! for. A phase that ends otherwise than it should is a wrong outcome (activate, the
//! approvals, a refusal) or leaves the run not completed (cleanup).

use super::judge::Expect;
use super::runner::{check_of, demo_config, generated_config, ids, resource, End, Rig, Step, MAX_CHECKS};
use super::worst_day::shop_parameters;
use super::{Args, Drive};
use drs_module::driver::event;
use drs_sim::generate::{self, Spec};
use serde_json::{json, Value};

/// region-dark: the check at which the region goes dark, and for how long.
const REGION_DARK_FROM: usize = 3;
const REGION_DARK_MINUTES: u64 = 5;
/// ...well within the grace an account x region unreachable has before its servers fail.
const REGION_GRACE_MINUTES: u64 = 15;
/// hooks-outage: checks the account x region stays dark.
const HOOKS_DARK_CHECKS: usize = 4;

/// A phase that should end done; a wrong outcome otherwise.
fn want_done(d: &mut Drive, what: &str, end: &End) -> bool {
    if !end.is_done() {
        d.wrong.push(format!("{what} {}", end.describe()));
    }
    end.is_done()
}

/// A cleanup that should end done; the run is not completed otherwise.
fn cleaned(d: &mut Drive, what: &str, end: &End) -> bool {
    if !end.is_done() {
        d.notes.push(format!("{what} {}", end.describe()));
    }
    end.is_done()
}

async fn demo(args: &Args) -> anyhow::Result<Rig> {
    Rig::start(drs_sim::Fleet::demo(), demo_config()?, args.poll_seconds).await
}

/// One status check of a phase still running; its end once it ended.
async fn step(rig: &Rig, check: &Value) -> Option<End> {
    match rig.check(check).await {
        Step::Ended(e) => Some(e),
        Step::Running(_) => None,
    }
}

/// Two resources of one manifest (Tier=db and Tier=web, each a wave with PauseBefore) given
/// one ExecutionId: two runs, two approvals. Db's is answered: Db runs to its end while Web,
/// whose approval is not answered, starts nothing; then Web's is answered and Web ends too.
pub async fn shared_execution(args: &Args, nth: usize) -> anyhow::Result<Drive> {
    let rig = demo(args).await?;
    let servers = rig.servers().await?;
    let tier = |t: &str| ids(&servers, |s| s.tier() == t);
    let (db_ids, web_ids) = (tier("db"), tier("web"));
    let expect = Expect { once: db_ids.union(&web_ids).cloned().collect(), never: tier("app") };
    let mut d = Drive::new(rig, "demo", expect);
    let rig = &d.rig;
    let id = format!("shared-{}", nth + 1);
    let gated = |t: &str| {
        json!({"Tags": {"Tier": t}, "ExecutionId": id,
               "Waves": [{"Name": t, "Tags": {"Tier": t}, "PauseBefore": "sign-off"}]})
    };
    let (db, web) = (resource("Db", gated("db")), resource("Web", gated("web")));
    let (db_call, web_call) = (event(&db, "activate", None), event(&web, "activate", None));
    let (mut db_end, mut web_end) = (None, None);
    let db_check = match rig.call(&db_call).await {
        Ok(h) => check_of(&db_call, &h.answer),
        Err(e) => {
            db_end = Some(Rig::ended(e));
            Value::Null
        }
    };
    let web_check = match rig.call(&web_call).await {
        Ok(h) => check_of(&web_call, &h.answer),
        Err(e) => {
            web_end = Some(Rig::ended(e));
            Value::Null
        }
    };
    let approvals = rig.approvals().await?;
    let gate = |name: &str| approvals.iter().find(|a| a["input"]["resource"] == name).cloned();
    let (db_gate, web_gate) = (gate("Db"), gate("Web"));
    if approvals.len() != 2 || db_gate.is_none() || web_gate.is_none() {
        let of: Vec<String> = approvals.iter().map(|a| a["input"]["resource"].to_string()).collect();
        d.wrong.push(format!("two approvals expected, Db's and Web's; found {}: {of:?}", approvals.len()));
    }
    if let Some(g) = &db_gate {
        rig.approve(g).await?;
    }

    // Db to its end, Web checked alongside; then five more checks of Web alone.
    let mut after = 0;
    for n in 0.. {
        if db_end.is_some() && (after >= 5 || web_end.is_some()) {
            break;
        }
        if n >= MAX_CHECKS {
            db_end.get_or_insert(End::Unended);
            break;
        }
        rig.wait().await?;
        match db_end {
            None => db_end = step(rig, &db_check).await,
            Some(_) => after += 1,
        }
        if web_end.is_none() {
            web_end = step(rig, &web_check).await;
        }
    }
    if let Some(e) = &web_end {
        d.wrong.push(format!("Web ended before its approval was answered: {}", e.describe()));
    }
    let early = rig.started().await?.into_iter().filter(|s| web_ids.contains(s)).count();
    if early > 0 {
        d.wrong.push(format!("Web started {early} servers before its approval was answered"));
    }
    if let (None, Some(g)) = (&web_end, &web_gate) {
        rig.approve(g).await?;
        web_end = Some(rig.to_end(&web_check).await?);
    }
    let db_end = db_end.unwrap_or(End::Unended);
    let web_end = web_end.unwrap_or(End::Unended);
    let ended = want_done(&mut d, "Db's activate", &db_end) & want_done(&mut d, "Web's activate", &web_end);
    let db_cleanup = d.rig.phase(&db, "cleanup").await?;
    let web_cleanup = d.rig.phase(&web, "cleanup").await?;
    d.completed = ended & cleaned(&mut d, "Db's cleanup", &db_cleanup) & cleaned(&mut d, "Web's cleanup", &web_cleanup);
    Ok(d)
}

/// Activated with `"Tags": {"Tier": "web"}`, cleaned up with `"Tags": {"Tier": ["web"]}`:
/// the same selection, so cleanup terminates every drill instance.
pub async fn rewritten_selection(args: &Args) -> anyhow::Result<Drive> {
    let rig = demo(args).await?;
    let servers = rig.servers().await?;
    let expect = Expect { once: ids(&servers, |s| s.tier() == "web"), never: ids(&servers, |s| s.tier() != "web") };
    let mut d = Drive::new(rig, "demo", expect);
    let activated = d.rig.phase(&resource("Web", json!({"Tags": {"Tier": "web"}})), "activate").await?;
    let cleanup = d.rig.phase(&resource("Web", json!({"Tags": {"Tier": ["web"]}})), "cleanup").await?;
    d.completed = want_done(&mut d, "activate", &activated) & cleaned(&mut d, "cleanup", &cleanup);
    Ok(d)
}

/// The demo drill, fail-fast, its db-01 failing 10 s into its launch: activate fails
/// (WaveFailed) while the other databases still launch; cleanup waits for them and leaves no
/// instance, an hour on included. Nothing past the first wave starts.
pub async fn fail_fast_cleanup(args: &Args) -> anyhow::Result<Drive> {
    let rig = demo(args).await?;
    rig.control.ok("POST", "servers/db-01", Some(&json!({"launchOutcome": "FAILED", "launchSeconds": 10}))).await?;
    let servers = rig.servers().await?;
    let expect = Expect { once: ids(&servers, |s| s.tier() == "db"), never: ids(&servers, |s| s.tier() != "db") };
    let mut d = Drive::new(rig, "demo", expect);
    let mut params = shop_parameters();
    params["FailurePolicy"] = json!("fail-fast");
    let shop = resource("ShopStack", params);
    let activated = d.rig.phase(&shop, "activate").await?;
    let failed = activated.failed_with("WaveFailed");
    if !failed {
        d.wrong.push(format!("activate {} (WaveFailed expected)", activated.describe()));
    }
    let cleanup = d.rig.phase(&shop, "cleanup").await?;
    // An hour on: nothing the drill launched appears after cleanup ended.
    d.rig.control.advance(3600.0).await?;
    d.completed = failed & cleaned(&mut d, "cleanup", &cleanup);
    Ok(d)
}

/// A generated fleet of 50 accounts x 2 regions; the second region's DRS and EC2 dark in
/// every account for five minutes mid-run (well within the grace): the run completes, and
/// no TagResource is refused (the partitions down are recorded without 50-tag errors).
pub async fn region_dark(args: &Args) -> anyhow::Result<Drive> {
    let fleet = generate::fleet(&Spec { servers: args.region_servers, accounts: 50, regions: 2 })?;
    let cfg = generated_config(&fleet);
    let region = fleet.accounts[0].regions[1].clone();
    let rig = Rig::start(fleet, cfg, args.poll_seconds).await?;
    let expect = Expect { once: ids(&rig.servers().await?, |_| true), ..Default::default() };
    let mut d = Drive::new(rig, "50x2", expect);
    let rig = &d.rig;
    let dark = json!({"outages": [{"service": "drs", "region": region, "status": 503},
                                  {"service": "ec2", "region": region, "status": 503}]});
    let dark_checks = (REGION_DARK_MINUTES * 60 / args.poll_seconds.max(1)) as usize;
    let mut params = shop_parameters();
    params["UnreachableGraceMinutes"] = json!(REGION_GRACE_MINUTES);
    let fleet_drill = resource("Fleet", params);
    let call = event(&fleet_drill, "activate", None);
    let activated = match rig.call(&call).await {
        Ok(h) => {
            let check = check_of(&call, &h.answer);
            let mut end = End::Unended;
            for n in 0..MAX_CHECKS {
                rig.wait().await?;
                if n == REGION_DARK_FROM {
                    rig.faults(&dark).await?;
                }
                if n == REGION_DARK_FROM + dark_checks {
                    rig.faults(&json!({})).await?;
                }
                if let Some(e) = step(rig, &check).await {
                    end = e;
                    break;
                }
            }
            end
        }
        Err(e) => Rig::ended(e),
    };
    rig.faults(&json!({})).await?;
    let cleanup = rig.phase(&fleet_drill, "cleanup").await?;
    d.completed = want_done(&mut d, "activate", &activated) & cleaned(&mut d, "cleanup", &cleanup);
    Ok(d)
}

/// The demo drill with an explicit ExecutionId run to its end and cleaned up, then activated
/// again: refused (InvalidParameters naming the id), starting nothing.
pub async fn rerun(args: &Args, nth: usize) -> anyhow::Result<Drive> {
    let rig = demo(args).await?;
    let expect = Expect { once: ids(&rig.servers().await?, |_| true), ..Default::default() };
    let mut d = Drive::new(rig, "demo", expect);
    let id = format!("rerun-{}", nth + 1);
    let mut params = shop_parameters();
    params["ExecutionId"] = json!(id);
    let shop = resource("ShopStack", params);
    let activated = d.rig.phase(&shop, "activate").await?;
    let cleanup = d.rig.phase(&shop, "cleanup").await?;
    let before = d.rig.started().await?.len();
    let call = event(&shop, "activate", None);
    let refused = match d.rig.call(&call).await {
        Err(e) if e.code.as_str() == "InvalidParameters" && e.message.contains(&id) => true,
        Err(e) => {
            d.wrong.push(format!("the re-run failed otherwise than refused naming '{id}': {}", Rig::ended(e).describe()));
            false
        }
        Ok(h) => {
            d.wrong.push(format!("the re-run of '{id}' was accepted"));
            // As the platform would: to its end, and cleaned up.
            d.rig.to_end(&check_of(&call, &h.answer)).await?;
            d.rig.phase(&shop, "cleanup").await?;
            false
        }
    };
    let again = d.rig.started().await?.len().saturating_sub(before);
    if again > 0 {
        d.wrong.push(format!("the re-run started {again} servers"));
    }
    d.completed = want_done(&mut d, "activate", &activated) & cleaned(&mut d, "cleanup", &cleanup) & refused;
    Ok(d)
}

/// The demo drill with the tenant's skip-tagged hook (web-01 carries `dr:skip`), web-01's
/// account x region dark for four checks from the check where the applications wave has
/// launched its first servers, so its end and the hooks' crossing to the web wave fall in or
/// right after the outage: the run completes, every server but the skipped launched once.
pub async fn hooks_outage(args: &Args) -> anyhow::Result<Drive> {
    let rig = demo(args).await?;
    let servers = rig.servers().await?;
    let skipped = |s: &super::runner::SimServer| s.tags.get("dr:skip").is_some_and(|v| !v.eq_ignore_ascii_case("false"));
    let expect = Expect { once: ids(&servers, |s| !skipped(s)), never: ids(&servers, skipped) };
    let dark_at = servers.iter().find(|s| skipped(s)).or(servers.first()).map(|s| (s.account.clone(), s.region.clone()));
    let (account, region) = dark_at.ok_or_else(|| anyhow::anyhow!("the demo fleet has no server"))?;
    let mut d = Drive::new(rig, "demo", expect);
    let rig = &d.rig;
    let dark = json!({"outages": [{"account": account, "region": region, "status": 503}]});
    let mut params = shop_parameters();
    params["Tenant"] = json!("shop-team");
    params["Hooks"] = json!(["skip-tagged"]);
    let shop = resource("ShopStack", params);
    let call = event(&shop, "activate", None);
    let (mut began, mut dark_left) = (false, 0);
    let activated = match rig.call(&call).await {
        Ok(h) => {
            let check = check_of(&call, &h.answer);
            let mut end = End::Unended;
            for _ in 0..MAX_CHECKS {
                rig.wait().await?;
                let step = rig.check(&check).await;
                if dark_left > 0 {
                    dark_left -= 1;
                    if dark_left == 0 {
                        rig.faults(&json!({})).await?;
                    }
                }
                match step {
                    Step::Ended(e) => {
                        end = e;
                        break;
                    }
                    Step::Running(detail) => {
                        let apps = detail.as_ref().and_then(|v| v["waves"][1]["launched"].as_u64()).unwrap_or(0);
                        if !began && apps > 0 {
                            began = true;
                            dark_left = HOOKS_DARK_CHECKS;
                            rig.faults(&dark).await?;
                        }
                    }
                }
            }
            end
        }
        Err(e) => Rig::ended(e),
    };
    rig.faults(&json!({})).await?;
    if !began {
        d.wrong.push("the outage never began: the applications wave was never seen launching".into());
    } else {
        d.notes.push(format!("{account}/{region} dark {HOOKS_DARK_CHECKS} checks"));
    }
    let cleanup = d.rig.phase(&shop, "cleanup").await?;
    d.completed = want_done(&mut d, "activate", &activated) & cleaned(&mut d, "cleanup", &cleanup);
    Ok(d)
}

/// The module configuration names eu-west-1, where the first account never initialized
/// DRS (and the others have no DRS): the drill and its cleanup end.
pub async fn uninitialized_region(args: &Args) -> anyhow::Result<Drive> {
    const REGION: &str = "eu-west-1";
    let mut fleet = drs_sim::Fleet::demo();
    fleet.accounts[0].uninitialized_regions = vec![REGION.into()];
    let mut cfg = demo_config()?;
    cfg["regions"].as_array_mut().ok_or_else(|| anyhow::anyhow!("the demo configuration has no regions"))?.push(json!(REGION));
    let rig = Rig::start(fleet, cfg, args.poll_seconds).await?;
    let expect = Expect { once: ids(&rig.servers().await?, |_| true), ..Default::default() };
    let mut d = Drive::new(rig, "demo", expect);
    let shop = resource("ShopStack", shop_parameters());
    let activated = d.rig.phase(&shop, "activate").await?;
    let cleanup = d.rig.phase(&shop, "cleanup").await?;
    d.completed = want_done(&mut d, "activate", &activated) & cleaned(&mut d, "cleanup", &cleanup);
    Ok(d)
}

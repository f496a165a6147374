//! The worst day: a throttling storm (one call in three answered 429, every service) for the
//! whole run, one account x region dark for 10 simulated minutes mid-wave, every assumed-role
//! session ended mid-run, and one event re-delivered per phase (the phase call sent twice,
//! and one status check sent twice at once). The demo drill (60 servers over 3 accounts x
//! 2 regions) or a generated 20-account x 3-region one; every server launched once.

use super::judge::Expect;
use super::runner::{check_of, demo_config, generated_config, ids, resource, End, Rig, Step, MAX_CHECKS};
use super::{Args, Drive};
use drs_module::driver::event;
use drs_sim::generate::{self, Spec};
use serde_json::{json, Value};

/// The check at which the dark partition goes dark.
const DARK_FROM: usize = 3;
/// When every session ends.
const SESSIONS_END_AT: usize = 6;

/// The demo drill: the shop and billing applications in three waves, databases first.
pub fn shop_parameters() -> Value {
    json!({
        "Tags": {"Application": ["shop", "billing"]},
        "Waves": [
            {"Name": "databases", "Tags": {"Tier": "db"}},
            {"Name": "applications", "Tags": {"Tier": "app"}, "DependsOn": ["databases"]},
            {"Name": "web", "Tags": {"Tier": "web"}, "DependsOn": ["applications"]}
        ]
    })
}

pub async fn run(args: &Args, big: bool) -> anyhow::Result<Drive> {
    let (fleet, cfg, label) = if big {
        let fleet = generate::fleet(&Spec { servers: args.servers, accounts: 20, regions: 3 })?;
        let cfg = generated_config(&fleet);
        (fleet, cfg, "20x3")
    } else {
        (drs_sim::Fleet::demo(), demo_config()?, "demo")
    };
    let dark = (fleet.servers[0].account_id.clone(), fleet.servers[0].region.clone());
    let rig = Rig::start(fleet, cfg, args.poll_seconds).await?;
    let once = ids(&rig.servers().await?, |_| true);
    let mut d = Drive::new(rig, label, Expect { once, ..Default::default() });
    let faults = |dark_on: bool| {
        let mut f = json!({"storms": [{"every": 3}]});
        if dark_on {
            f["outages"] = json!([{"account": dark.0, "region": dark.1, "status": 503}]);
        }
        f
    };
    let dark_checks = args.dark_checks();
    // The faults of check `n` of the run (activate's and cleanup's checks counted together).
    let schedule = |n: usize| -> Option<Value> {
        if n == DARK_FROM {
            Some(faults(true))
        } else if n == DARK_FROM + dark_checks {
            Some(faults(false))
        } else {
            None
        }
    };
    let rig = &d.rig;
    rig.faults(&faults(false)).await?;
    // The run's waits so far, activate's and cleanup's.
    let mut tick = 0;
    let chaos = resource("Chaos", shop_parameters());

    // Activate, re-delivered once.
    let call = event(&chaos, "activate", None);
    let first = rig.call(&call).await;
    let again = rig.call(&call).await;
    let activated = match (first, again) {
        (Ok(a), Ok(b)) if a.answer["execution"] == b.answer["execution"] => {
            let check = check_of(&call, &a.answer);
            let mut end = End::Unended;
            for n in 0..MAX_CHECKS {
                rig.wait().await?;
                tick += 1;
                if let Some(f) = schedule(n) {
                    rig.faults(&f).await?;
                }
                if n == SESSIONS_END_AT {
                    rig.control.ok("POST", "credentials/expire", None).await?;
                }
                // One check re-delivered while the first is running.
                let step = if n == 1 {
                    match tokio::join!(rig.check(&check), rig.check(&check)) {
                        (failed @ Step::Ended(End::Failed { .. }), _) => failed,
                        (_, second) => second,
                    }
                } else {
                    rig.check(&check).await
                };
                if let Step::Ended(e) = step {
                    end = e;
                    break;
                }
            }
            end
        }
        (Ok(a), Ok(b)) => End::Failed {
            code: "(bench)".into(),
            message: format!("the re-delivered activate answered another run: {} / {}", a.answer, b.answer),
        },
        (Err(e), _) | (_, Err(e)) => Rig::ended(e),
    };
    if !activated.is_done() {
        d.wrong.push(format!("activate {}", activated.describe()));
    }

    // Cleanup, re-delivered once; the storm goes on, and the schedule with it.
    let call = event(&chaos, "cleanup", None);
    let first = rig.call(&call).await;
    let _ = rig.call(&call).await;
    let cleaned = match first {
        Ok(h) => {
            let check = check_of(&call, &h.answer);
            let mut end = End::Unended;
            for _ in 0..MAX_CHECKS {
                rig.wait().await?;
                if let Some(f) = schedule(tick) {
                    rig.faults(&f).await?;
                }
                tick += 1;
                if let Step::Ended(e) = rig.check(&check).await {
                    end = e;
                    break;
                }
            }
            end
        }
        Err(e) => Rig::ended(e),
    };
    if !cleaned.is_done() {
        d.notes.push(format!("cleanup {}", cleaned.describe()));
    }
    d.completed = activated.is_done() && cleaned.is_done();
    Ok(d)
}

//! One run's rig and the platform's moves. The simulator runs in this process with its clock
//! stopped; the module's clients follow that clock (`Clients::with_clock`), so the module's
//! deadlines, grace and records agree with the jobs' times. The platform's moves: a phase
//! call through `lifecycle::handle_detailed`, then status checks carrying the phase's payload,
//! the clock moved one poll interval before each; approvals answered through Step Functions.

use drs_module::aws::{static_hub, Clients};
use drs_module::config::ModuleConfig;
use drs_module::driver::event;
use drs_module::lifecycle::{handle_detailed, Handled, LifecycleError};
use drs_sim::client::Control;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Status checks a phase may take before it counts as never ended.
pub const MAX_CHECKS: usize = 2_000;

/// How a phase ended, as the platform sees it.
#[derive(Debug, Clone)]
pub enum End {
    /// The phase answered `true`.
    Done,
    /// The phase call or a status check failed with this code.
    Failed { code: String, message: String },
    /// Still running after `MAX_CHECKS` checks.
    Unended,
}

impl End {
    pub fn is_done(&self) -> bool {
        matches!(self, End::Done)
    }

    pub fn failed_with(&self, want: &str) -> bool {
        matches!(self, End::Failed { code, .. } if code == want)
    }

    fn of(e: LifecycleError) -> End {
        End::Failed { code: e.code.as_str().to_owned(), message: e.message }
    }

    /// One line: `done`, `failed (Code): message` (cut), or `never ended`.
    pub fn describe(&self) -> String {
        match self {
            End::Done => "done".into(),
            End::Failed { code, message } => {
                let cut: String = message.chars().take(240).collect();
                format!("failed ({code}): {cut}")
            }
            End::Unended => format!("never ended ({MAX_CHECKS} checks)"),
        }
    }
}

/// What one status check answered.
pub enum Step {
    Running(Option<Value>),
    Ended(End),
}

/// A source server as the simulator holds it.
#[derive(Debug, Clone)]
pub struct SimServer {
    pub id: String,
    pub hostname: String,
    pub account: String,
    pub region: String,
    pub tags: BTreeMap<String, String>,
}

impl SimServer {
    pub fn tier(&self) -> &str {
        self.tags.get("Tier").map_or("", String::as_str)
    }
}

/// The ids of the servers `pick` keeps.
pub fn ids(servers: &[SimServer], pick: impl Fn(&SimServer) -> bool) -> BTreeSet<String> {
    servers.iter().filter(|s| pick(s)).map(|s| s.id.clone()).collect()
}

/// A DRS resource as the platform sends it in `StatePayload`.
pub fn resource(name: &str, parameters: Value) -> Value {
    json!({"action": "DRS", "resourceName": name, "parameters": parameters})
}

/// The status check of a phase call `call` that answered `payload`.
pub fn check_of(call: &Value, payload: &Value) -> Value {
    let mut c = call.clone();
    c["status"] = json!(true);
    c["lifecycle_output"] = json!({"Payload": payload});
    c
}

/// The demo fleet's module configuration (`module/config/demo.json`).
pub fn demo_config() -> anyhow::Result<Value> {
    Ok(serde_json::from_str(drs_module::config::DEMO)?)
}

/// A module configuration that reaches every account of a generated fleet, in the regions
/// of its first account (the hub in the first of them).
pub fn generated_config(fleet: &drs_sim::Fleet) -> Value {
    let regions: Vec<String> = fleet.accounts[0].regions.clone();
    json!({
        "project": "drsorch", "environment": "demo",
        "hub": {"region": regions[0]},
        "roleName": drs_sim::generate::TARGET_ROLE,
        "externalId": {"rule": "{project}-{environment}-{accountId}"},
        "ledger": {"payloadKey": super::super::generated::PAYLOAD_KEY},
        "regions": regions,
        "accounts": fleet.accounts.iter().map(|a| json!({"accountId": a.account_id})).collect::<Vec<_>>(),
    })
}

pub struct Rig {
    pub sim: drs_sim::SimServer,
    pub control: Control,
    pub clients: Clients,
    pub config: Arc<ModuleConfig>,
    poll_seconds: u64,
    checks: AtomicUsize,
}

impl Rig {
    /// The simulator on `fleet` (its clock stopped) and the module configured by `cfg`
    /// pointed at it. Without a `retry` of its own, retries as a tuned deployment would set
    /// them: a short first backoff, enough attempts.
    pub async fn start(mut fleet: drs_sim::Fleet, mut cfg: Value, poll_seconds: u64) -> anyhow::Result<Rig> {
        fleet.clock.speed = 0.0;
        let sim = drs_sim::start(fleet, 0).await?;
        let control = Control::new(&sim.endpoint);
        cfg["hub"]["endpointUrl"] = json!(sim.endpoint);
        if cfg.get("retry").is_none() {
            cfg["retry"] = json!({"maxAttempts": 6, "initialBackoffMillis": 20});
        }
        let config = Arc::new(ModuleConfig::from_value(cfg)?);
        let h = &sim.world.hub;
        let world = sim.world.clone();
        let clients = Clients::new(config.clone(), static_hub(&h.region, &h.access_key_id, &h.secret_access_key), "chaos")
            .with_clock(Arc::new(move || world.clock.now()));
        Ok(Rig { sim, control, clients, config, poll_seconds, checks: AtomicUsize::new(0) })
    }

    /// Status checks made so far, every phase of the run.
    pub fn checks(&self) -> usize {
        self.checks.load(Ordering::Relaxed)
    }

    /// The platform's wait between checks: the simulator's clock moved one poll interval.
    pub async fn wait(&self) -> anyhow::Result<()> {
        self.control.advance(self.poll_seconds as f64).await.map(|_| ())
    }

    /// Replaces every fault.
    pub async fn faults(&self, faults: &Value) -> anyhow::Result<()> {
        self.control.ok("PUT", "faults", Some(faults)).await.map(|_| ())
    }

    /// One event as the platform delivers it.
    pub async fn call(&self, event: &Value) -> Result<Handled, LifecycleError> {
        handle_detailed(&self.clients, event).await
    }

    /// A phase call that failed ends the phase there.
    pub fn ended(e: LifecycleError) -> End {
        End::of(e)
    }

    /// One status check.
    pub async fn check(&self, check: &Value) -> Step {
        self.checks.fetch_add(1, Ordering::Relaxed);
        match handle_detailed(&self.clients, check).await {
            Ok(h) if h.answer == json!(true) => Step::Ended(End::Done),
            Ok(h) => Step::Running(h.detail),
            Err(e) => Step::Ended(End::of(e)),
        }
    }

    /// Status checks of `check` until the phase ends, the clock moving before each.
    pub async fn to_end(&self, check: &Value) -> anyhow::Result<End> {
        for _ in 0..MAX_CHECKS {
            self.wait().await?;
            if let Step::Ended(end) = self.check(check).await {
                return Ok(end);
            }
        }
        Ok(End::Unended)
    }

    /// A phase of `resource` run to its end: the phase call (a fresh run's event), then its
    /// status checks.
    pub async fn phase(&self, resource: &Value, phase: &str) -> anyhow::Result<End> {
        let call = event(resource, phase, None);
        match self.call(&call).await {
            Ok(h) => self.to_end(&check_of(&call, &h.answer)).await,
            Err(e) => Ok(End::of(e)),
        }
    }

    /// Every source server, as the simulator's control view lists them.
    pub async fn servers(&self) -> anyhow::Result<Vec<SimServer>> {
        let v = self.control.ok("GET", "servers", None).await?;
        let list = v["servers"].as_array().cloned().unwrap_or_default();
        let text = |s: &Value| s.as_str().unwrap_or_default().to_owned();
        Ok(list
            .iter()
            .map(|s| SimServer {
                id: text(&s["sourceServerID"]),
                hostname: text(&s["sourceProperties"]["identificationHints"]["hostname"]),
                account: text(&s["accountId"]),
                region: text(&s["region"]),
                tags: serde_json::from_value(s["tags"].clone()).unwrap_or_default(),
            })
            .collect())
    }

    /// The approvals waiting (Step Functions executions RUNNING).
    pub async fn approvals(&self) -> anyhow::Result<Vec<Value>> {
        let v = self.control.ok("GET", "executions?status=RUNNING", None).await?;
        Ok(v["executions"].as_array().cloned().unwrap_or_default())
    }

    /// Answers an approval as an approver does: SendTaskSuccess on its task token.
    pub async fn approve(&self, approval: &Value) -> anyhow::Result<()> {
        let token = approval["taskToken"].as_str().ok_or_else(|| anyhow::anyhow!("an approval without a token: {approval}"))?;
        let sfn = aws_sdk_sfn::Client::new(self.clients.hub());
        sfn.send_task_success().task_token(token).output("{}").send().await?;
        Ok(())
    }

    /// The servers of every StartRecovery the simulator applied (its call log), repeats kept.
    pub async fn started(&self) -> anyhow::Result<Vec<String>> {
        let calls = self.control.calls().await?;
        Ok(calls
            .iter()
            .filter(|c| c["operation"] == "StartRecovery" && c["status"].as_u64().is_some_and(|s| s < 300))
            .flat_map(|c| c["request"]["sourceServers"].as_array().cloned().unwrap_or_default())
            .filter_map(|s| s["sourceServerID"].as_str().map(str::to_owned))
            .collect())
    }
}

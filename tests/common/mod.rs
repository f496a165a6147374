//! Shared by the end-to-end tests: a simulator with a fleet, the module's clients pointed
//! at it, task tokens minted in it, and the platform's loop played by `Driver` with the
//! simulator's clock moved forward instead of sleeping.
#![allow(dead_code)]

use drs_module::aws::{static_hub, Clients};
use drs_module::config::ModuleConfig;
use drs_module::driver::{Driver, PhaseRun};
use drs_module::lifecycle::LifecycleError;
use drs_sim::client::Control;
use drs_sim::generate;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const POLL_S: u64 = 30;

pub struct Rig {
    pub sim: drs_sim::SimServer,
    pub control: Control,
    pub clients: Clients,
}

pub async fn rig() -> Rig {
    rig_with(drs_sim::Fleet::demo()).await
}

pub async fn rig_with(fleet: drs_sim::Fleet) -> Rig {
    rig_configured(fleet, |_| {}).await
}

/// A rig whose module configuration `change` adjusts (tenants' hooks, say).
pub async fn rig_configured(fleet: drs_sim::Fleet, change: impl FnOnce(&mut ModuleConfig)) -> Rig {
    let sim = drs_sim::start(fleet, 0).await.unwrap();
    let control = Control::new(&sim.endpoint);
    // The clock moves only when a test moves it.
    control.ok("POST", "clock", Some(&json!({"speed": 0}))).await.unwrap();
    let mut cfg = ModuleConfig::parse(drs_module::config::DEMO).unwrap();
    cfg.hub.endpoint_url = Some(sim.endpoint.clone());
    change(&mut cfg);
    // The module's clock follows the simulator's, which the tests move.
    let world = sim.world.clone();
    let clients = Clients::new(Arc::new(cfg), static_hub("us-east-1", generate::HUB_ACCESS_KEY, generate::HUB_SECRET), "test")
        .with_clock(Arc::new(move || world.clock.now()));
    Rig { control, sim, clients }
}

/// A DRS resource as the platform sends it in `StatePayload`.
pub fn resource(name: &str, parameters: Value) -> Value {
    json!({"action": "DRS", "resourceName": name, "parameters": parameters})
}

/// The demo drill: the shop and billing applications over 3 accounts x 2 regions, in three waves.
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

impl Rig {
    pub async fn token(&self) -> String {
        let v = self.control.ok("POST", "tokens", Some(&json!({"timeoutSeconds": 86400}))).await.unwrap();
        v["taskToken"].as_str().unwrap().to_owned()
    }

    pub async fn token_state(&self, t: &str) -> Value {
        self.control.ok("GET", &format!("tokens/{t}"), None).await.unwrap()
    }

    pub fn driver(&self) -> Driver<'_> {
        Driver { clients: &self.clients, poll: Duration::from_secs(POLL_S), max_checks: 2000 }
    }

    /// Runs a phase to its end, the simulator's clock moving one poll interval per wait.
    pub async fn run(&self, state_payload: &Value, phase: &str, token: Option<&str>) -> Result<PhaseRun, LifecycleError> {
        let control = self.control.clone();
        let wait = move |d: Duration| {
            let c = control.clone();
            Box::pin(async move {
                c.advance(d.as_secs_f64()).await.unwrap();
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        };
        self.driver().run(state_payload, phase, token, &wait, |_| {}).await
    }

    /// Runs a phase to its end like `run`, approving every open pause gate as it waits.
    pub async fn run_approving(
        &self,
        state_payload: &Value,
        phase: &str,
        token: Option<&str>,
    ) -> Result<PhaseRun, LifecycleError> {
        let control = self.control.clone();
        let sfn = aws_sdk_sfn::Client::new(self.clients.hub());
        let wait = move |d: Duration| {
            let (c, sfn) = (control.clone(), sfn.clone());
            Box::pin(async move {
                approve_open_gates(&c, &sfn).await;
                c.advance(d.as_secs_f64()).await.unwrap();
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
        };
        self.driver().run(state_payload, phase, token, &wait, |_| {}).await
    }

    /// Successful StartRecovery calls, each with its server ids (from the call log).
    pub async fn start_recoveries(&self) -> Vec<Value> {
        self.control
            .calls()
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c["operation"] == "StartRecovery" && c["status"].as_u64().is_some_and(|s| s < 300))
            .collect()
    }

    /// Every recovery instance the simulator holds, as its control view lists them.
    pub async fn recovery_instances(&self) -> Vec<Value> {
        let v = self.control.ok("GET", "recovery-instances", None).await.unwrap();
        v["recoveryInstances"].as_array().or(v.as_array()).cloned().unwrap_or_default()
    }

    /// DescribeJobs of every partition through the SDK: (account/region, job).
    pub async fn all_jobs(&self) -> Vec<(String, aws_sdk_drs::types::Job)> {
        let mut out = vec![];
        for p in self.clients.config().partitions() {
            let drs = self.clients.drs(&p).await.unwrap();
            let page = drs.describe_jobs().max_results(1000).send().await.unwrap();
            out.extend(page.items().iter().map(|j| (p.to_string(), j.clone())));
        }
        out
    }
}

/// Approves every approval execution still running (each gate open now).
pub async fn approve_open_gates(control: &Control, sfn: &aws_sdk_sfn::Client) {
    let open = control.ok("GET", "executions", None).await.unwrap();
    for e in open["executions"].as_array().into_iter().flatten().filter(|e| e["status"] == "RUNNING") {
        let token = e["taskToken"].as_str().unwrap();
        sfn.send_task_success().task_token(token).output("{\"approved\":true}").send().await.unwrap();
    }
}

/// How many times each server was put in a launch job.
pub fn launches_per_server(jobs: &[(String, aws_sdk_drs::types::Job)]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, j) in jobs.iter().filter(|(_, j)| j.r#type().is_some_and(|t| t.as_str() == "LAUNCH")) {
        for s in j.participating_servers() {
            *out.entry(s.source_server_id().unwrap_or_default().to_owned()).or_insert(0) += 1;
        }
    }
    out
}

/// Checks one CloudWatch EMF document's shape (namespace, every metric a number, every
/// dimension a string) and returns its metric and dimension fields.
pub fn emf_fields(doc: &Value) -> &serde_json::Map<String, Value> {
    let m = &doc["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(m["Namespace"], "drs-orch", "{doc}");
    assert!(doc["_aws"]["Timestamp"].as_i64().is_some_and(|t| t > 0), "{doc}");
    for metric in m["Metrics"].as_array().unwrap() {
        let name = metric["Name"].as_str().unwrap();
        assert!(doc[name].is_number(), "metric {name} has a number: {doc}");
    }
    for set in m["Dimensions"].as_array().unwrap() {
        for d in set.as_array().unwrap() {
            assert!(doc[d.as_str().unwrap()].is_string(), "dimension {d} has a value: {doc}");
        }
    }
    doc.as_object().unwrap()
}

/// A rig whose AWS calls are sent twice at most: calls that fail after the SDK's retries
/// (an outage) come back fast.
pub async fn quick_rig() -> Rig {
    rig_configured(drs_sim::Fleet::demo(), |c| c.retry.max_attempts = 2).await
}

impl Rig {
    /// The module's clients on the same simulator and clock with a configuration `change`
    /// adjusted (the configuration changed between two phases of a run).
    pub fn clients_with(&self, change: impl FnOnce(&mut ModuleConfig)) -> Clients {
        let mut cfg = self.clients.config().clone();
        change(&mut cfg);
        let world = self.sim.world.clone();
        Clients::new(Arc::new(cfg), static_hub("us-east-1", generate::HUB_ACCESS_KEY, generate::HUB_SECRET), "test")
            .with_clock(Arc::new(move || world.clock.now()))
    }

    /// The reports bucket through the official client (path-style: the simulator is an address).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(self.clients.hub()).force_path_style(true).build())
    }

    /// One file of a run's report (`ext`: json, md, html) as the run wrote it.
    pub async fn report_file(&self, resource: &str, execution: &str, ext: &str) -> String {
        let key = format!("runs/{resource}/{execution}/report.{ext}");
        let got = self.s3().get_object().bucket("drs-orch-reports").key(&key).send().await;
        let got = got.unwrap_or_else(|e| panic!("{key}: {e:?}"));
        String::from_utf8(got.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
    }

    /// The run ledger's items as the simulator holds them (its control view, not the module's).
    pub async fn ledger_items(&self) -> Vec<Value> {
        let v = self.control.ok("GET", "tables/drs-orch-runs", None).await.unwrap();
        v["items"].as_array().cloned().unwrap_or_default()
    }

    /// Every DRS call in one account x region answered 503 (`on`), or no fault at all.
    pub async fn outage(&self, account: &str, region: &str, on: bool) {
        let faults = if on {
            json!({"outages": [{"account": account, "region": region, "service": "drs", "status": 503}]})
        } else {
            json!({})
        };
        self.control.ok("PUT", "faults", Some(&faults)).await.unwrap();
    }
}

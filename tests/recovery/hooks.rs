//! Tenants' hooks at the wave boundaries: a hook that skips servers (the skip-tagged example),
//! a hook that runs past its time limit under fail-closed and fail-open, and a hook that
//! cannot load (a component that does not match its pin, one over the size cap) under each.

#[path = "../../host/tests/common/build.rs"]
mod build;

use crate::common::{resource, rig_configured, shop_parameters, Rig};
use drs_module::config::{HookComponent, HookFailure, HooksConfig, ModuleConfig, Tenant};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The demo fleet's accounts: the tenant's scope.
const ACCOUNTS: [&str; 3] = ["200000000001", "200000000002", "200000000003"];

/// The Rust guests, built once per test binary.
pub(crate) fn guest(name: &str) -> (String, String) {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| build::build_rust_guests().unwrap_or_else(|e| panic!("build the hooks: {e}")));
    let path = dir.join(format!("{name}.wasm"));
    let bytes = std::fs::read(&path).unwrap();
    (path.display().to_string(), drs_host::sha256_hex(&bytes))
}

pub(crate) fn tenant(hooks: &[(&str, &str)], on_failure: HookFailure, pin: Option<&str>) -> impl FnOnce(&mut ModuleConfig) {
    let components: BTreeMap<String, HookComponent> = hooks
        .iter()
        .map(|(name, file)| {
            let (path, sha256) = guest(file);
            (name.to_string(), HookComponent { path, sha256: pin.map(str::to_owned).unwrap_or(sha256) })
        })
        .collect();
    let cache = std::env::temp_dir().join(format!("drs-orch-test-hooks-{}", std::process::id()));
    move |cfg: &mut ModuleConfig| {
        cfg.hooks = Some(HooksConfig {
            cache_dir: Some(cache.display().to_string()),
            max_component_bytes: None,
            compile_timeout_seconds: None,
            call_timeout_millis: None,
            tenants: BTreeMap::from([(
                "shop-team".to_owned(),
                Tenant { on_failure, components, accounts: ACCOUNTS.map(str::to_owned).to_vec(), ..Default::default() },
            )]),
        })
    }
}

pub(crate) fn with_tenant(mut params: Value, hooks: &[&str]) -> Value {
    params["Tenant"] = json!("shop-team");
    params["Hooks"] = json!(hooks);
    params
}

pub(crate) async fn tag_server(r: &Rig, host: &str, key: &str, value: &str) -> String {
    let servers = r.control.ok("GET", "servers", None).await.unwrap();
    let s = servers["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sourceProperties"]["identificationHints"]["hostname"] == host)
        .unwrap()
        .clone();
    let arn = s["arn"].as_str().unwrap();
    let parts: Vec<&str> = arn.split(':').collect();
    let p = drs_module::config::Partition { account: parts[4].into(), region: parts[3].into() };
    r.clients.drs(&p).await.unwrap().tag_resource().resource_arn(arn).tags(key, value).send().await.unwrap();
    s["sourceServerID"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_skip_hook_leaves_tagged_servers_out_and_the_decision_is_recorded() {
    let r =
        rig_configured(drs_sim::Fleet::demo(), tenant(&[("skip-tagged", "skip_tagged")], HookFailure::FailClosed, None)).await;
    let skipped = tag_server(&r, "db-01", "dr:skip", "true").await;
    let token = r.token().await;
    r.run(&resource("ShopStack", with_tenant(shop_parameters(), &["skip-tagged"])), "activate", Some(&token))
        .await
        .expect("the drill runs");
    let out = r.token_state(&token).await["output"].clone();
    // db-01, tagged here, and web-01, tagged in the demo fleet.
    assert_eq!((out["launched"].as_u64(), out["failed"].as_u64()), (Some(58), Some(0)), "{out}");
    assert_eq!((out["waves"][0]["skipped"].as_u64(), out["waves"][2]["skipped"].as_u64()), (Some(1), Some(1)), "{out}");

    let jobs = r.all_jobs().await;
    let launched = crate::common::launches_per_server(&jobs);
    assert!(!launched.contains_key(&skipped), "the skipped server was not launched");
    let first_wave_tag = jobs
        .iter()
        .filter_map(|(_, j)| j.tags())
        .find(|t| t.get("drs-orch:wave").map(String::as_str) == Some("0"))
        .and_then(|t| t.get("drs-orch:hooks").cloned())
        .unwrap();
    assert!(first_wave_tag.contains("skip-tagged:before-wave=skip"), "{first_wave_tag}");
    // The run's record holds the first wave's crossing: db-01 skipped by skip-tagged.
    let record = run_record(&r).await;
    assert_eq!(record["crossings"]["M"]["0"]["M"]["skip"]["M"][&skipped]["S"], "skip-tagged", "{record}");
    // With the component that decided, by its digest.
    let (_, sha256) = guest("skip_tagged");
    assert_eq!(record["crossings"]["M"]["0"]["M"]["components"]["M"]["skip-tagged"]["S"], sha256.as_str(), "{record}");
}

/// The run's ledger record, as the simulator holds it (the only run of the rig).
pub(crate) async fn run_record(r: &Rig) -> Value {
    let items = r.control.ok("GET", "tables/drs-orch-runs", None).await.unwrap();
    let runs: Vec<&Value> =
        items["items"].as_array().unwrap().iter().filter(|i| i["sk"]["S"].as_str().unwrap().starts_with("run#")).collect();
    assert_eq!(runs.len(), 1, "{items}");
    runs[0].clone()
}

#[tokio::test]
async fn a_hook_past_its_time_limit_aborts_under_fail_closed_and_is_recorded_under_fail_open() {
    // The hostile guest loops forever when the execution id says "loop".
    let mut params = with_tenant(shop_parameters(), &["hostile"]);
    params["ExecutionId"] = json!("loop");

    let r = rig_configured(drs_sim::Fleet::demo(), tenant(&[("hostile", "hostile_multi")], HookFailure::FailClosed, None)).await;
    let token = r.token().await;
    let e = r.run(&resource("ShopStack", params.clone()), "activate", Some(&token)).await.unwrap_err();
    assert_eq!(e.code, "HookFailed");
    assert!(e.message.contains("hostile") && e.message.contains("limit") && e.message.contains("fail-closed"), "{}", e.message);
    assert!(r.start_recoveries().await.is_empty(), "nothing started");
    assert_eq!(r.token_state(&token).await["error"], "HookFailed");

    let r = rig_configured(drs_sim::Fleet::demo(), tenant(&[("hostile", "hostile_multi")], HookFailure::FailOpen, None)).await;
    let token = r.token().await;
    let run = r.run(&resource("ShopStack", params), "activate", Some(&token)).await.expect("fail-open proceeds");
    let out = r.token_state(&token).await["output"].clone();
    assert_eq!(out["launched"], 60);
    let detail = run.detail.unwrap();
    let last = &detail["waves"][2]["hookDecisions"];
    assert!(last.to_string().contains("fail-open"), "the failure is recorded: {detail}");
}

/// Under fail-closed, a hook that cannot load (its file does not match its pin) fails the run
/// at the first boundary, naming the hook and why; nothing starts.
#[tokio::test]
async fn a_hook_that_cannot_load_fails_the_run_under_fail_closed_naming_it_and_why() {
    let pin = "0".repeat(64);
    let r =
        rig_configured(drs_sim::Fleet::demo(), tenant(&[("skip-tagged", "skip_tagged")], HookFailure::FailClosed, Some(&pin)))
            .await;
    let token = r.token().await;
    let shop = resource("ShopStack", with_tenant(shop_parameters(), &["skip-tagged"]));
    let e = r.run(&shop, "activate", Some(&token)).await.unwrap_err();
    assert_eq!(e.code, "HookFailed", "{}", e.message);
    assert!(
        e.message.contains("hook skip-tagged (before-wave) could not load and the tenant's policy is fail-closed")
            && e.message.contains(&format!("does not match its pin {pin}")),
        "{}",
        e.message
    );
    assert!(r.start_recoveries().await.is_empty(), "nothing started");
    assert_eq!(r.token_state(&token).await["error"], "HookFailed");
}

/// Under fail-open, the waves proceed without a hook that cannot load (here its file is over
/// the configuration's size cap, refused before it is read whole), and the record says at each
/// boundary that it could not load, and why: the run's detail and the jobs' tag. The crossing
/// names no component for it (none decided). It used to fail every run whatever the policy.
#[tokio::test]
async fn a_hook_that_cannot_load_is_recorded_and_the_waves_proceed_under_fail_open() {
    let hooks = tenant(&[("skip-tagged", "skip_tagged")], HookFailure::FailOpen, None);
    let r = rig_configured(drs_sim::Fleet::demo(), move |cfg: &mut ModuleConfig| {
        hooks(cfg);
        cfg.hooks.as_mut().unwrap().max_component_bytes = Some(1024);
    })
    .await;
    let token = r.token().await;
    let shop = resource("ShopStack", with_tenant(shop_parameters(), &["skip-tagged"]));
    let run = r.run(&shop, "activate", Some(&token)).await.expect("fail-open proceeds");
    let out = r.token_state(&token).await["output"].clone();
    // All 60, web-01 (tagged dr:skip) included: the hook that would skip it did not run.
    assert_eq!((out["launched"].as_u64(), out["failed"].as_u64()), (Some(60), Some(0)), "{out}");
    // The last check's detail: the last wave's after-wave, with why.
    let detail = run.detail.unwrap();
    let after = &detail["waves"][2]["hookDecisions"][0];
    assert_eq!((&after["hook"], &after["point"]), (&json!("skip-tagged"), &json!("after-wave")), "{detail}");
    assert_eq!(after["decision"], "could not load (fail-open: proceed)", "{detail}");
    assert!(after["detail"].as_str().unwrap().contains("over the 1024-byte cap for a hook"), "{detail}");
    // Each wave's jobs carry the decisions it crossed with.
    let jobs = r.all_jobs().await;
    for wave in ["0", "1", "2"] {
        let tags: Vec<&String> = jobs
            .iter()
            .filter_map(|(_, j)| j.tags())
            .filter(|t| t.get("drs-orch:wave").map(String::as_str) == Some(wave))
            .filter_map(|t| t.get("drs-orch:hooks"))
            .collect();
        let said = "skip-tagged:before-wave=could not load (fail-open: proceed)";
        assert!(!tags.is_empty() && tags.iter().all(|t| t.contains(said)), "wave {wave}: {tags:?}");
    }
    let record = run_record(&r).await;
    assert_eq!(record["crossings"]["M"]["0"]["M"]["components"]["M"], json!({}), "{record}");
}

#[tokio::test]
async fn a_delay_holds_each_wave_and_a_pause_waits_for_its_approval() {
    let cfg = || tenant(&[("hostile", "hostile_multi")], HookFailure::FailClosed, None);
    // Delay: each wave waits one second (by the module's clock, the simulator's) after the hook
    // first asked, recorded in the run's ledger record (a hold), then starts.
    let r = rig_configured(drs_sim::Fleet::demo(), cfg()).await;
    let mut params = with_tenant(shop_parameters(), &["hostile"]);
    params["ExecutionId"] = json!("delay-1");
    let run = r.run(&resource("ShopStack", params), "activate", None).await.expect("a delayed run ends");
    let record = run_record(&r).await;
    let holds: Vec<(usize, chrono::DateTime<chrono::Utc>)> = record["holds"]["M"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(w, until)| (w.parse().unwrap(), until["S"].as_str().unwrap().parse().unwrap()))
        .collect();
    assert_eq!(holds.len(), 3, "one hold per wave");
    // No wave's job was created before its hold had passed (the simulator's own times).
    for (_, job) in r.all_jobs().await {
        let wave: usize = job.tags().unwrap()["drs-orch:wave"].parse().unwrap();
        let created: chrono::DateTime<chrono::Utc> = job.creation_date_time().unwrap().parse().unwrap();
        let until = holds.iter().find(|(w, _)| *w == wave).unwrap().1;
        assert!(created >= until, "wave {wave}: a job created {created}, its hold until {until}");
    }
    assert!(run.detail.unwrap()["waves"][2]["state"] == "completed");

    // Pause: the hook's reason goes to the wave's approval gate; approving lets it run.
    let r = rig_configured(drs_sim::Fleet::demo(), cfg()).await;
    let mut params = with_tenant(shop_parameters(), &["hostile"]);
    params["ExecutionId"] = json!("hook-pause");
    let shop = resource("ShopStack", params);
    let first = drs_module::lifecycle::handle(&r.clients, &drs_module::driver::event(&shop, "activate", None)).await.unwrap();
    let mut check = drs_module::driver::event(&shop, "activate", None);
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first});
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    let mut approvals = 0;
    for _ in 0..500 {
        r.control.advance(crate::common::POLL_S as f64).await.unwrap();
        if drs_module::lifecycle::handle(&r.clients, &check).await.unwrap() == Value::Bool(true) {
            break;
        }
        let running = r.control.ok("GET", "executions?status=RUNNING", None).await.unwrap();
        for e in running["executions"].as_array().unwrap() {
            assert!(e["input"]["reason"].as_str().unwrap().contains("health probe is red"), "{e}");
            sfn.send_task_success().task_token(e["taskToken"].as_str().unwrap()).output("{}").send().await.unwrap();
            approvals += 1;
        }
    }
    assert_eq!(approvals, 3, "each wave paused once and was approved");
    assert_eq!(crate::common::launches_per_server(&r.all_jobs().await).len(), 60);
}

/// The JavaScript example hook (hooks/freeze-window-js), built when node and npm exist; None
/// (the test then says so) when they do not, unless DRS_REQUIRE_JS_HOOK=1 (CI).
fn freeze_window_hook() -> Option<(String, String)> {
    match build::build_js_hook().unwrap_or_else(|e| panic!("building the JavaScript hook: {e}")) {
        build::JsHook::Built { path, .. } => {
            let bytes = std::fs::read(&path).unwrap();
            Some((path.display().to_string(), drs_host::sha256_hex(&bytes)))
        }
        build::JsHook::Unavailable(why) if std::env::var("DRS_REQUIRE_JS_HOOK").is_ok_and(|v| v == "1") => {
            panic!("DRS_REQUIRE_JS_HOOK=1 but the JavaScript hook cannot be built: {why}")
        }
        build::JsHook::Unavailable(why) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "skipped: a hook's pause held by the ledger: {why}");
            None
        }
    }
}

#[tokio::test]
async fn a_hooks_pause_holds_until_its_approval_is_answered_though_the_hook_proceeds_later() {
    let Some((path, sha256)) = freeze_window_hook() else { return };
    let cache = std::env::temp_dir().join(format!("drs-orch-test-hooks-{}", std::process::id()));
    let r = rig_configured(drs_sim::Fleet::demo(), move |cfg: &mut ModuleConfig| {
        let components = BTreeMap::from([("freeze".to_owned(), HookComponent { path, sha256 })]);
        cfg.hooks = Some(HooksConfig {
            cache_dir: Some(cache.display().to_string()),
            max_component_bytes: None,
            // The unoptimized compile of the 12 MB component takes about a minute; a loaded
            // machine may take longer than the default 120 s.
            compile_timeout_seconds: Some(600),
            call_timeout_millis: None,
            tenants: BTreeMap::from([(
                "shop-team".to_owned(),
                Tenant {
                    on_failure: HookFailure::FailClosed,
                    components,
                    accounts: ACCOUNTS.map(str::to_owned).to_vec(),
                    ..Default::default()
                },
            )]),
        })
    })
    .await;
    // A change freeze on db-01 (the first wave) for the next ten minutes of the run's clock.
    let now: chrono::DateTime<chrono::Utc> =
        r.control.ok("GET", "clock", None).await.unwrap()["now"].as_str().unwrap().parse().unwrap();
    let window = format!("{}/{}", drs_module::time::secs(&now), drs_module::time::secs(&(now + chrono::Duration::minutes(10))));
    tag_server(&r, "db-01", "change-freeze", &window).await;
    let mut params = with_tenant(shop_parameters(), &["freeze"]);
    params["ExecutionId"] = json!("frozen-1");
    let shop = resource("ShopStack", params);
    let call = drs_module::driver::event(&shop, "activate", None);
    let first = drs_module::lifecycle::handle_detailed(&r.clients, &call).await.unwrap();
    assert_eq!(first.detail.unwrap()["waves"][0]["state"], "paused", "the freeze pauses the first wave");
    let running = r.control.ok("GET", "executions?status=RUNNING", None).await.unwrap();
    let approvals = running["executions"].as_array().unwrap().clone();
    assert_eq!(approvals.len(), 1, "{running}");
    assert!(approvals[0]["input"]["reason"].as_str().unwrap().contains("change-freeze"), "{running}");

    // The window passes: the hook now proceeds, but the approval it asked for is unanswered.
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    for _ in 0..3 {
        r.control.advance(15.0 * 60.0).await.unwrap();
        let h = drs_module::lifecycle::handle_detailed(&r.clients, &check).await.unwrap();
        assert_eq!(h.answer, json!(false));
        assert_eq!(h.detail.unwrap()["waves"][0]["state"], "paused", "the wave waits for its approval");
    }
    assert!(r.start_recoveries().await.is_empty(), "nothing started before the approval was answered");

    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    sfn.send_task_success().task_token(approvals[0]["taskToken"].as_str().unwrap()).output("{}").send().await.unwrap();
    let mut done = false;
    for _ in 0..200 {
        r.control.advance(crate::common::POLL_S as f64).await.unwrap();
        if drs_module::lifecycle::handle(&r.clients, &check).await.unwrap() == Value::Bool(true) {
            done = true;
            break;
        }
    }
    assert!(done, "the run ends once approved");
    let launches = crate::common::launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "{launches:?}");
}

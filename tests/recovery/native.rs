//! Native recovery plans as a fallback: `native::sync` writes each resource's plans, one per
//! account x region, through the official SDK against the simulator; the plans, run by DRS
//! (the simulator's executions, one step at a time), recover the same servers in the same
//! order per account x region as the module's own run; a second sync changes nothing; an edit
//! by hand is drift that the next sync undoes; a plan of the name the module does not keep is
//! left alone; a plan where the resource no longer has servers is deleted.

use crate::common::{resource, rig, shop_parameters, Rig};
use aws_sdk_drs::types::{
    RecoveryPlanExecutionMode, RecoveryPlanExecutionStatus, RecoveryPlanExecutionStepConfiguration, RecoveryPlanServer,
    RecoveryPlanStepConfiguration, ServerStepConfiguration, WaitStepConfiguration,
};
use drs_module::config::Partition;
use drs_module::native::{self, Options, ResourceLayout, State, StepKind};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Seconds since the epoch of an ISO-8601 time.
fn secs(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp()
}

async fn layouts(r: &Rig, name: &str, params: &Value, opts: Options) -> Vec<ResourceLayout> {
    let manifest = json!([{"layer": 1, "resources": [resource(name, params.clone())]}]);
    let layers = drs_module::manifest::layers(&manifest).unwrap();
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    native::layouts(&layers, &found, &r.clients.config().quotas, opts)
}

/// Syncs until nothing is left to do; returns the report of the check after it.
async fn sync(r: &Rig, l: &[ResourceLayout]) -> native::Report {
    let before = native::check(&r.clients, l).await;
    let done = native::sync(&r.clients, &before).await;
    let after = native::check(&r.clients, l).await;
    assert!(after.in_sync(), "{}\nafter:\n{}", done.text(), after.text());
    after
}

/// One launch job: when it was created and ended, and its servers.
#[derive(Debug, Clone)]
struct Launch {
    created: i64,
    ended: i64,
    servers: BTreeSet<String>,
}

/// Every launch job of each partition created at or after `since`, oldest first.
async fn launches(r: &Rig, since: i64) -> BTreeMap<String, Vec<Launch>> {
    let mut out: BTreeMap<String, Vec<Launch>> = BTreeMap::new();
    for (p, j) in r.all_jobs().await {
        if j.r#type().map(|t| t.as_str()) != Some("LAUNCH") {
            continue;
        }
        let created = secs(j.creation_date_time().unwrap());
        if created < since {
            continue;
        }
        let servers = j.participating_servers().iter().filter_map(|s| s.source_server_id()).map(str::to_owned).collect();
        assert!(
            j.participating_servers().iter().all(|s| s.launch_status().map(|l| l.as_str()) == Some("LAUNCHED")),
            "every server launched: {j:?}"
        );
        out.entry(p).or_default().push(Launch { created, ended: j.end_date_time().map_or(i64::MAX, secs), servers });
    }
    out.values_mut().for_each(|v| v.sort_by_key(|l| l.created));
    out
}

/// The wave of each server, as the module planned it.
fn waves_of(l: &ResourceLayout) -> BTreeMap<String, String> {
    l.plans
        .iter()
        .flat_map(|p| p.steps.iter())
        .flat_map(|s| match &s.kind {
            StepKind::Servers { servers } => servers.iter().map(|x| (x.source_server_id.clone(), s.wave.clone())).collect(),
            StepKind::Wait { .. } => vec![],
        })
        .collect()
}

/// Runs every synced plan of the layout (DRILL) in its account and region, side by side, to
/// its end; returns the executions' ARNs.
async fn run_native(r: &Rig, l: &ResourceLayout, report: &native::Report) -> Vec<(Partition, String)> {
    let mut started = vec![];
    for p in report.resources.iter().flat_map(|x| x.plans.iter()).filter(|p| p.state == State::InSync) {
        let drs = r.clients.drs(&p.partition).await.unwrap();
        let plan = p.arn.clone().unwrap();
        let out = drs.start_recovery_plan_execution().recovery_plan_arn(&plan).mode(RecoveryPlanExecutionMode::Drill).send();
        let exec = out.await.unwrap().recovery_plan_execution().unwrap().recovery_plan_execution_arn().to_owned();
        started.push((p.partition.clone(), exec));
    }
    assert_eq!(started.len(), l.plans.len());
    // The simulator applies every event at its own time, however far the clock jumps.
    r.control.advance(6.0 * 3600.0).await.unwrap();
    for (p, exec) in &started {
        let drs = r.clients.drs(p).await.unwrap();
        let e = drs.get_recovery_plan_execution().recovery_plan_execution_arn(exec).send().await.unwrap();
        let e = e.recovery_plan_execution().unwrap();
        assert_eq!(e.status(), &RecoveryPlanExecutionStatus::Completed, "{p}: {e:?}");
        // One step at a time: each server step's job is the one its step names.
        let steps = drs.list_recovery_plan_execution_steps().recovery_plan_execution_arn(exec).send().await.unwrap();
        let jobs: BTreeSet<String> = steps
            .recovery_plan_execution_steps()
            .iter()
            .filter_map(|s| match s.configuration() {
                Some(RecoveryPlanExecutionStepConfiguration::ExecutionServerStepConfiguration(c)) => {
                    c.servers().first().and_then(|x| x.job_id()).map(str::to_owned)
                }
                _ => None,
            })
            .collect();
        let server_steps = l
            .plans
            .iter()
            .find(|x| &x.partition == p)
            .unwrap()
            .steps
            .iter()
            .filter(|s| matches!(s.kind, StepKind::Servers { .. }));
        assert_eq!(jobs.len(), server_steps.count(), "{p}: a job per server step");
    }
    started
}

/// The module's run and the native plans of the same resource recover the same servers, in
/// the same waves, in the same order in each account x region (waves the module starts in one
/// status check may come in either order), the native plans one step at a time with their
/// waits; `pause` is the wave whose PauseBefore becomes a wait step.
async fn the_native_plans_recover_as_the_module_does(params: Value, pause: Option<&str>) {
    let r = rig().await;
    let opts = Options { pause_minutes: 7 };
    let l = layouts(&r, "ShopStack", &params, opts).await.remove(0);
    assert!(l.error.is_none() && !l.plans.is_empty(), "{l:?}");
    let wave = waves_of(&l);

    // The module's run (its gates approved), then its cleanup: every server free again.
    let start = r.clients.now().timestamp();
    let drill = resource("ShopStack", params);
    r.run_approving(&drill, "activate", Some(&r.token().await)).await.expect("the module's drill succeeds");
    r.run_approving(&drill, "cleanup", Some(&r.token().await)).await.expect("its cleanup succeeds");
    let module = launches(&r, start).await;

    // The native plans, synced and run.
    let synced = sync(&r, std::slice::from_ref(&l)).await;
    let native_start = r.clients.now().timestamp();
    run_native(&r, &l, &synced).await;
    let native = launches(&r, native_start).await;

    assert_eq!(module.keys().collect::<Vec<_>>(), native.keys().collect::<Vec<_>>(), "the same accounts x regions");
    for (p, ours) in &module {
        let theirs = &native[p];
        // The same servers in the same waves.
        let by_wave = |jobs: &[Launch]| -> BTreeMap<String, BTreeSet<String>> {
            let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for j in jobs {
                for s in &j.servers {
                    m.entry(wave[s].clone()).or_default().insert(s.clone());
                }
            }
            m
        };
        assert_eq!(by_wave(ours), by_wave(theirs), "{p}: the same servers in the same waves");
        // When the module started each wave here.
        let mut module_start: BTreeMap<&str, i64> = BTreeMap::new();
        for j in ours {
            for s in &j.servers {
                let t = module_start.entry(wave[s].as_str()).or_insert(j.created);
                *t = (*t).min(j.created);
            }
        }
        // The native order is the module's: a wave never comes before one the module started
        // earlier here.
        let native_waves: Vec<&str> = theirs.iter().map(|j| wave[j.servers.iter().next().unwrap()].as_str()).collect();
        for (i, a) in native_waves.iter().enumerate() {
            for b in &native_waves[i + 1..] {
                assert!(
                    module_start[a] <= module_start[b],
                    "{p}: native order {native_waves:?}, module's starts {module_start:?}"
                );
            }
        }
        // One step at a time: each job starts when the one before it has ended (after the
        // wait, before the wave that pauses).
        for pair in theirs.windows(2) {
            let gap = pair[1].created - pair[0].ended;
            let paused = pause.is_some_and(|w| wave[pair[1].servers.iter().next().unwrap()] == w);
            let want = if paused { 7 * 60 } else { 0 };
            assert_eq!(gap, want, "{p}: {:?} then {:?}", pair[0], pair[1]);
        }
    }
}

#[tokio::test]
async fn synced_native_plans_recover_the_same_servers_in_the_same_order_as_the_module() {
    let mut params = shop_parameters();
    params["Waves"][2]["PauseBefore"] = json!("the change board signs off");
    the_native_plans_recover_as_the_module_does(params, Some("web")).await;
}

#[tokio::test]
async fn branches_the_module_runs_side_by_side_come_in_its_start_order() {
    let params = json!({
        "Tags": {"Application": ["shop", "billing"]},
        "Waves": [
            {"Name": "billing", "Tags": {"Application": "billing"}, "DependsOn": []},
            {"Name": "shop-app", "Tags": {"Tier": "app"}, "DependsOn": []},
            {"Name": "shop-web", "Tags": {"Tier": "web"}, "DependsOn": ["shop-app"]}
        ]
    });
    let r = rig().await;
    let l = layouts(&r, "TwoApps", &params, Options::default()).await.remove(0);
    let names: Vec<&str> = l.plans[0].steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["billing", "shop-app", "shop-web"]);
    assert!(
        l.plans[0].notes.iter().any(|n| n.contains("shop-app does not wait for billing in the module")),
        "{:?}",
        l.plans[0].notes
    );
    the_native_plans_recover_as_the_module_does(params, None).await;
}

/// The write calls (not Describe, Get, List) made since call `since`.
async fn writes_since(r: &Rig, since: u64) -> Vec<String> {
    let calls = r.control.calls().await.unwrap();
    calls
        .iter()
        .filter(|c| c["seq"].as_u64().unwrap() >= since && c["service"] == "drs")
        .filter_map(|c| c["operation"].as_str())
        .filter(|op| !["Describe", "Get", "List"].iter().any(|p| op.starts_with(p)))
        .map(str::to_owned)
        .collect()
}

async fn next_seq(r: &Rig) -> u64 {
    r.control.calls().await.unwrap().iter().filter_map(|c| c["seq"].as_u64()).max().map_or(0, |s| s + 1)
}

fn server_step(arns: &[String]) -> RecoveryPlanStepConfiguration {
    let list = arns.iter().map(|a| RecoveryPlanServer::builder().server_arn(a).build().unwrap());
    RecoveryPlanStepConfiguration::ServerStepConfiguration(
        ServerStepConfiguration::builder().set_servers(Some(list.collect())).build().unwrap(),
    )
}

#[tokio::test]
async fn a_second_sync_changes_nothing_and_an_edit_by_hand_is_drift_the_next_sync_undoes() {
    let r = rig().await;
    let l = layouts(&r, "ShopStack", &shop_parameters(), Options::default()).await;
    let before = native::check(&r.clients, &l).await;
    assert_eq!(before.out_of_sync(), 6, "{}", before.text());
    assert!(before.resources[0].plans.iter().all(|p| p.state == State::Missing));
    let synced = sync(&r, &l).await;
    let since = next_seq(&r).await;
    let again = native::sync(&r.clients, &native::check(&r.clients, &l).await).await;
    assert!(again.resources[0].plans.iter().all(|p| p.changes.is_empty()), "{}", again.text());
    assert_eq!(writes_since(&r, since).await, Vec::<String>::new(), "a second sync writes nothing");

    // Edits by hand in one account x region: a server dropped, a step added, the steps
    // reordered, the description rewritten, the resource's tag changed.
    let east1 = Partition { account: "200000000001".into(), region: "us-east-1".into() };
    let plan = synced.resources[0].plans.iter().find(|p| p.partition == east1).unwrap();
    let arn = plan.arn.clone().unwrap();
    let drs = r.clients.drs(&east1).await.unwrap();
    let steps = drs.list_recovery_plan_steps().recovery_plan_arn(&arn).send().await.unwrap().recovery_plan_steps().to_vec();
    let apps = steps.iter().find(|s| s.step_name() == "applications").unwrap();
    let Some(RecoveryPlanStepConfiguration::ServerStepConfiguration(c)) = apps.configuration() else { panic!("{apps:?}") };
    let fewer: Vec<String> = c.servers().iter().skip(1).map(|s| s.server_arn().to_owned()).collect();
    drs.update_recovery_plan_step()
        .recovery_plan_step_arn(apps.recovery_plan_step_arn())
        .configuration(server_step(&fewer))
        .send()
        .await
        .unwrap();
    let wait = WaitStepConfiguration::builder().wait_duration_minutes(10).build().unwrap();
    let extra = drs
        .create_recovery_plan_step()
        .recovery_plan_arn(&arn)
        .step_name("hand-made")
        .configuration(RecoveryPlanStepConfiguration::WaitStepConfiguration(wait))
        .send()
        .await
        .unwrap();
    let mut order: Vec<String> = steps.iter().map(|s| s.recovery_plan_step_arn().to_owned()).collect();
    order.swap(0, 1);
    order.insert(0, extra.recovery_plan_step().unwrap().recovery_plan_step_arn().to_owned());
    drs.reorder_recovery_plan_steps().recovery_plan_arn(&arn).set_ordered_step_arns(Some(order)).send().await.unwrap();
    drs.update_recovery_plan().recovery_plan_arn(&arn).description("edited by hand").send().await.unwrap();
    drs.tag_resource().resource_arn(&arn).tags("drs-orch:resource-id", "someone-else").tags("owner", "ops").send().await.unwrap();

    let drifted = native::check(&r.clients, &l).await;
    let p = drifted.resources[0].plans.iter().find(|p| p.partition == east1).unwrap();
    assert_eq!(p.state, State::Drifted);
    let text: Vec<String> = p.drifts.iter().map(ToString::to_string).collect();
    let dropped = c.servers()[0].server_arn().rsplit('/').next().unwrap();
    let host = l[0].plans.iter().flat_map(|x| x.steps.iter()).find_map(|s| match &s.kind {
        StepKind::Servers { servers } => servers.iter().find(|x| x.source_server_id == dropped).map(|x| x.hostname.clone()),
        StepKind::Wait { .. } => None,
    });
    let identity = l[0].identity.clone();
    assert_eq!(
        text,
        [
            "its description was changed".to_owned(),
            format!("tag drs-orch:resource-id is someone-else (want {identity})"),
            format!("step 'applications': lacks {}", host.unwrap()),
            "step 'hand-made' is not the module's".to_owned(),
            "steps in the order applications, databases, web (want databases, applications, web)".to_owned(),
        ]
    );
    assert_eq!(drifted.out_of_sync(), 1, "the other plans are untouched:\n{}", drifted.text());
    let fixed = native::sync(&r.clients, &drifted).await;
    let p = fixed.resources[0].plans.iter().find(|p| p.partition == east1).unwrap();
    assert_eq!(p.changes.len(), 5, "{:?}", p.changes);
    assert_eq!((p.changes[0].as_str(), p.changes[1].as_str()), ("restored its description", "tagged it drs-orch:resource-id"));
    assert_eq!(p.changes[2], "deleted step 'hand-made'");
    assert_eq!((p.changes[3].as_str(), p.changes[4].as_str()), ("updated step 'applications'", "reordered its steps"));
    let after = native::check(&r.clients, &l).await;
    assert!(after.in_sync(), "{}", after.text());
    let tags = drs.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().and_then(|t| t.get("owner")).map(String::as_str), Some("ops"), "others' tags are left");

    // A plan deleted by hand is made again.
    drs.delete_recovery_plan().recovery_plan_arn(&arn).send().await.unwrap();
    let gone = native::check(&r.clients, &l).await;
    assert_eq!(gone.resources[0].plans.iter().find(|p| p.partition == east1).unwrap().state, State::Missing);
    sync(&r, &l).await;
}

#[tokio::test]
async fn a_plan_the_module_does_not_keep_is_left_alone_and_one_it_no_longer_needs_is_deleted() {
    let r = rig().await;
    // Someone's own plan of the module's name, in one account x region.
    let west2 = Partition { account: "200000000002".into(), region: "us-west-2".into() };
    let drs = r.clients.drs(&west2).await.unwrap();
    let theirs = drs.create_recovery_plan().name("drs-orch ShopStack").send().await.unwrap();
    let theirs = theirs.recovery_plan().unwrap().recovery_plan_arn().to_owned();
    let l = layouts(&r, "ShopStack", &shop_parameters(), Options::default()).await;
    let report = native::check(&r.clients, &l).await;
    let p = report.resources[0].plans.iter().find(|p| p.partition == west2).unwrap();
    assert_eq!(p.state, State::Unmanaged, "{}", report.text());
    assert!(p.error.as_deref().is_some_and(|e| e.contains(&theirs) && e.contains("rename or delete it")), "{p:?}");
    let done = native::sync(&r.clients, &report).await;
    assert_eq!(done.resources[0].plans.iter().filter(|p| !p.changes.is_empty()).count(), 5, "the other five are made");
    assert!(drs.get_recovery_plan().recovery_plan_arn(&theirs).send().await.is_ok(), "theirs is left alone");
    let after = native::check(&r.clients, &l).await;
    assert_eq!((after.out_of_sync(), after.errors()), (0, 1), "{}", after.text());
    drs.delete_recovery_plan().recovery_plan_arn(&theirs).send().await.unwrap();
    sync(&r, &l).await;

    // The resource narrowed to one region: its plans in the other are no longer its own, and
    // its remaining plans carry its new identity.
    let mut narrowed = shop_parameters();
    narrowed["Regions"] = json!(["us-east-1"]);
    let l = layouts(&r, "ShopStack", &narrowed, Options::default()).await;
    let report = native::check(&r.clients, &l).await;
    let states: BTreeMap<String, State> = report.resources[0].plans.iter().map(|p| (p.partition.to_string(), p.state)).collect();
    let west = states.iter().filter(|(p, _)| p.ends_with("us-west-2")).map(|(_, s)| *s).collect::<Vec<_>>();
    let east = states.iter().filter(|(p, _)| p.ends_with("us-east-1")).map(|(_, s)| *s).collect::<Vec<_>>();
    assert_eq!((west, east), (vec![State::Stale; 3], vec![State::Drifted; 3]), "{}", report.text());
    sync(&r, &l).await;
    let listed = drs.list_recovery_plans().send().await.unwrap();
    assert!(listed.recovery_plans().is_empty(), "the stale plan is deleted: {listed:?}");
}

/// Two resources whose names clean to one plan name (`Shop.Stack` and `Shop-Stack`): in one
/// manifest neither is laid out, each named with the other; in two manifests, each one's plans
/// are another resource's to the other's sync (by its name tag): never stale, never retagged,
/// never deleted; where both want a plan, the second's is in the way, named.
#[tokio::test]
async fn a_resource_whose_name_cleans_to_anothers_plan_name_never_takes_its_plans() {
    let r = rig().await;
    let manifest = json!([{"layer": 1, "resources": [
        resource("Shop.Stack", shop_parameters()), resource("Shop-Stack", shop_parameters())]}]);
    let layers = drs_module::manifest::layers(&manifest).unwrap();
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let both = native::layouts(&layers, &found, &r.clients.config().quotas, Options::default());
    for (l, other) in both.iter().zip(["Shop-Stack", "Shop.Stack"]) {
        let e = l.error.as_deref().unwrap_or_default();
        assert!(e.contains("drs-orch Shop-Stack") && e.contains(other) && e.contains("rename one"), "{}: {e}", l.resource);
        assert!(l.plans.is_empty());
    }

    // Two manifests: Shop.Stack everywhere, then Shop-Stack in us-east-1 only.
    let dotted = layouts(&r, "Shop.Stack", &shop_parameters(), Options::default()).await;
    sync(&r, &dotted).await;
    let mut east = shop_parameters();
    east["Regions"] = json!(["us-east-1"]);
    let dashed = layouts(&r, "Shop-Stack", &east, Options::default()).await;
    let report = native::check(&r.clients, &dashed).await;
    let states: Vec<(String, State)> = report.resources[0].plans.iter().map(|p| (p.partition.to_string(), p.state)).collect();
    assert_eq!(states.len(), 3, "no plan of Shop.Stack is stale to Shop-Stack: {}", report.text());
    assert!(states.iter().all(|(p, s)| p.ends_with("us-east-1") && *s == State::Unmanaged), "{}", report.text());
    native::sync(&r.clients, &report).await;
    let again = native::check(&r.clients, &dotted).await;
    assert!(again.in_sync(), "Shop.Stack's six plans are untouched: {}", again.text());
}

/// One account x region that discovery cannot read (DRS answers 503 there) is its own: the
/// resource's plans elsewhere are made, its plan there is reported failed, named, and neither
/// made nor deleted; once it answers, the next sync completes it.
#[tokio::test]
async fn a_dark_account_and_region_fails_its_own_plan_and_the_others_sync() {
    let r = crate::common::quick_rig().await;
    let l = layouts(&r, "ShopStack", &shop_parameters(), Options::default()).await;
    sync(&r, &l).await;
    let dark = Partition { account: "200000000002".into(), region: "us-west-2".into() };
    let drs = r.clients.drs(&dark).await.unwrap();
    let kept = drs.list_recovery_plans().send().await.unwrap().recovery_plans().len();
    assert_eq!(kept, 1);

    // Dark during discovery only: its plan must not be taken for stale.
    r.outage(&dark.account, &dark.region, true).await;
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    r.outage(&dark.account, &dark.region, false).await;
    let manifest = json!([{"layer": 1, "resources": [resource("ShopStack", shop_parameters())]}]);
    let layers = drs_module::manifest::layers(&manifest).unwrap();
    let l = native::layouts(&layers, &found, &r.clients.config().quotas, Options::default());
    let report = native::check(&r.clients, &l).await;
    let states: BTreeMap<String, State> = report.resources[0].plans.iter().map(|p| (p.partition.to_string(), p.state)).collect();
    assert_eq!(states.len(), 6, "{}", report.text());
    assert_eq!(states[&dark.to_string()], State::Failed, "{}", report.text());
    assert_eq!(states.values().filter(|s| **s == State::InSync).count(), 5, "{}", report.text());
    let failed = report.resources[0].plans.iter().find(|p| p.partition == dark).unwrap();
    assert!(failed.error.as_deref().is_some_and(|e| e.contains("discovery could not read")), "{failed:?}");
    assert_eq!(report.errors(), 1);
    native::sync(&r.clients, &report).await;
    assert_eq!(drs.list_recovery_plans().send().await.unwrap().recovery_plans().len(), 1, "its plan is not deleted");

    // No plans yet, the account x region dark during discovery: the other five are made;
    // once it answers, the next sync makes its own.
    let fresh = crate::common::quick_rig().await;
    fresh.outage(&dark.account, &dark.region, true).await;
    let l = layouts(&fresh, "ShopStack", &shop_parameters(), Options::default()).await;
    fresh.outage(&dark.account, &dark.region, false).await;
    let report = native::check(&fresh.clients, &l).await;
    assert_eq!(report.errors(), 1, "{}", report.text());
    let done = native::sync(&fresh.clients, &report).await;
    let made = done.resources[0].plans.iter().filter(|p| !p.changes.is_empty()).count();
    assert_eq!(made, 5, "the five readable accounts x regions get their plans: {}", done.text());
    let l = layouts(&fresh, "ShopStack", &shop_parameters(), Options::default()).await;
    sync(&fresh, &l).await;
}

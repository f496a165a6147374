//! An estate past one account's 300 replicating servers: 600 servers replicating in two
//! staging accounts, recovered in one target account through extended source servers.
//! Accounts check verifies the staging trust, discovery finds the extensions and names the
//! staging servers not yet extended, tags sync tags the extensions, and a drill launches
//! every extension once in the target account and nothing in the staging accounts. A staging
//! account configured in its own right never has a server launched twice.

use crate::common::{launches_per_server, resource, rig_configured, Rig};
use drs_module::config::{ModuleConfig, TargetAccount};
use drs_sim::generate::{self, staging_account_id, StagingSpec, STAGING_TARGET};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

const EAST: &str = "us-east-1";

fn account(id: &str, staging: Vec<String>) -> TargetAccount {
    TargetAccount {
        account_id: id.into(),
        name: None,
        regions: Some(vec![EAST.into()]),
        role_name: None,
        external_id: None,
        staging_accounts: staging,
    }
}

/// The configuration of a staging estate: the target account (and `more`), in one region.
fn configure(c: &mut ModuleConfig, more: Vec<TargetAccount>) {
    let staging = vec![staging_account_id(0), staging_account_id(1)];
    c.accounts = [vec![account(STAGING_TARGET, staging)], more].concat();
    c.regions = vec![EAST.into()];
    c.hooks = None;
}

/// The estate's drill, tier by tier.
fn estate_parameters() -> serde_json::Value {
    json!({
        "Tags": {"Application": ["estate"]},
        "Waves": [
            {"Name": "databases", "Tags": {"Tier": "db"}},
            {"Name": "applications", "Tags": {"Tier": "app"}},
            {"Name": "web", "Tags": {"Tier": "web"}}
        ]
    })
}

fn jobs_in(r: &Rig, account: &str) -> usize {
    r.sim.world.partition(account, EAST).lock().drs.jobs.len()
}

#[tokio::test]
async fn six_hundred_servers_through_two_staging_accounts_are_checked_discovered_tagged_and_drilled() {
    let started = Instant::now();
    let fleet = generate::staging_fleet(&StagingSpec { servers: 606, staging_accounts: 2, not_extended: 6 }).unwrap();
    let r = rig_configured(fleet, |c| configure(c, vec![])).await;
    let (s1, s2) = (staging_account_id(0), staging_account_id(1));

    // accounts check: the target may read both staging accounts, both in use.
    let report = drs_module::accounts::check(&r.clients, &r.clients.config().partitions()).await;
    assert!(report.healthy(), "{}", report.table());
    let row = report.get(STAGING_TARGET, EAST).unwrap();
    let staging_probes: Vec<&str> =
        row.probes.iter().filter(|p| p.action.starts_with("drs:List")).map(|p| p.detail.as_str()).collect();
    let trusts = |s: &str| format!("ok: {s} trusts {STAGING_TARGET}");
    assert_eq!(staging_probes, ["ok: 2 in use".to_owned(), trusts(&s1), trusts(&s2)]);

    // Discovery: 600 extensions, 300 from each staging account, and the 6 not yet extended named.
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    assert_eq!(found.servers.len(), 600);
    let mut by_staging: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &found.servers {
        let origin = s.staging.as_ref().unwrap_or_else(|| panic!("{} is an extension", s.hostname));
        assert!(origin.source_server_arn.contains(&format!(":{}:source-server/", origin.account)) && origin.error.is_none());
        assert_eq!((s.account.as_str(), s.region.as_str()), (STAGING_TARGET, EAST));
        *by_staging.entry(origin.account.as_str()).or_default() += 1;
    }
    assert_eq!(by_staging, BTreeMap::from([(s1.as_str(), 300), (s2.as_str(), 300)]));
    let mut pending: Vec<&str> = found.pending_extension.iter().map(|p| p.hostname.as_str()).collect();
    pending.sort();
    assert_eq!(pending, ["app-00601", "app-00602", "db-00600", "db-00605", "web-00603", "web-00604"]);
    assert!(found.staging_errors.is_empty() && found.extended_elsewhere.is_empty());

    // Tags sync: the source instances' tags onto the extensions, in the target account.
    let plan = drs_module::tagsync::plan(&found.servers, &Default::default());
    assert_eq!((plan.changes.len(), plan.tags_to_set()), (600, 1800), "Name, Environment, Owner each");
    let applied = drs_module::tagsync::apply(&r.clients, &plan).await;
    assert_eq!((applied.servers_tagged, applied.failures.len()), (600, 0), "{:?}", applied.failures);
    let again = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    assert_eq!(drs_module::tagsync::plan(&again.servers, &Default::default()).in_sync, 600);

    // A drill selecting the estate is refused while servers it selects are not extended,
    // naming each; skipping what is not ready, it launches the 600 extensions.
    let refused = r.run(&resource("Estate", estate_parameters()), "activate", None).await.unwrap_err();
    assert!(
        refused.message.contains("not extended into account 200000000001") && refused.message.contains("db-00605"),
        "{}",
        refused.message
    );
    assert_eq!(jobs_in(&r, STAGING_TARGET), 0, "a refused plan starts nothing");
    let mut params = estate_parameters();
    params["Selection"] = json!({"onNotReady": "skip"});
    let token = r.token().await;
    let drill_started = Instant::now();
    r.run(&resource("Estate", params), "activate", Some(&token)).await.expect("the drill succeeds");
    let drill_s = drill_started.elapsed().as_secs_f64();
    let out = &r.token_state(&token).await["output"];
    assert_eq!(
        (out["servers"].as_u64(), out["launched"].as_u64(), out["failed"].as_u64()),
        (Some(600), Some(600), Some(0)),
        "{out}"
    );
    let launches = launches_per_server(&r.all_jobs().await);
    assert_eq!(launches.len(), 600);
    assert!(launches.values().all(|n| *n == 1), "every extension launched once");
    assert_eq!((jobs_in(&r, &s1), jobs_in(&r, &s2)), (0, 0), "nothing launched in the staging accounts");
    let drilled = r.recovery_instances().await.iter().filter(|i| i["isDrill"] == true).count();
    assert_eq!(drilled, 600);
    eprintln!("staging estate: 600 servers, drill {drill_s:.1} s, whole test {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test]
async fn a_staging_account_configured_itself_never_launches_a_server_its_extension_recovers() {
    let mut fleet = generate::staging_fleet(&StagingSpec { servers: 10, staging_accounts: 2, not_extended: 2 }).unwrap();
    let s1 = staging_account_id(0);
    fleet.roles.push(drs_sim::fleet::Role {
        account_id: s1.clone(),
        role_name: generate::TARGET_ROLE.into(),
        trusted_principals: vec![format!("arn:aws:iam::{}:role/{}", generate::HUB_ACCOUNT, generate::HUB_ROLE)],
        external_id: Some(generate::external_id(&s1)),
        allowed_actions: vec!["*".into()],
        denied_actions: vec![],
        statements: vec![],
        trust: vec![],
        max_session_seconds: 3600,
    });
    let r = rig_configured(fleet, |c| configure(c, vec![account(&s1, vec![])])).await;

    // The first staging account's 5 servers: 4 recovered through their extensions in the
    // target, left out in their own account by name; the one not extended is its own account's.
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let in_account = |a: &str| found.servers.iter().filter(|s| s.account == a).count();
    assert_eq!((in_account(STAGING_TARGET), in_account(&s1)), (8, 1));
    assert_eq!(found.extended_elsewhere.len(), 4);
    assert!(found.extended_elsewhere.iter().all(|e| e.account == s1 && e.extension_arn.contains(STAGING_TARGET)));
    let pending: Vec<(&str, &str)> =
        found.pending_extension.iter().map(|p| (p.staging_account.as_str(), p.hostname.as_str())).collect();
    assert_eq!(pending, [(staging_account_id(1).as_str(), "web-00009")], "only the unconfigured staging account's");

    // A host name names the extension alone, not its staging server too.
    let one = drs_module::resource::DrsResource::from_value(&resource("One", json!({"HostNames": ["db-00000"]}))).unwrap();
    let group = drs_module::selection::resolve(&one.selection, &found.servers);
    assert!(group.is_ok(), "{:?}", group.errors);
    assert_eq!(group.servers.iter().map(|s| s.account.as_str()).collect::<Vec<_>>(), [STAGING_TARGET]);

    // The drill launches 9 servers once each: 8 extensions in the target, 1 in the staging
    // account; the staging originals of the extensions are in no job.
    let mut params = estate_parameters();
    params["Selection"] = json!({"onNotReady": "skip"});
    r.run(&resource("Estate", params), "activate", None).await.expect("the drill succeeds");
    let launches = launches_per_server(&r.all_jobs().await);
    assert_eq!(launches.len(), 9);
    assert!(launches.values().all(|n| *n == 1), "{launches:?}");
    assert!(found.extended_elsewhere.iter().all(|e| !launches.contains_key(&e.source_server_id)));
    let launched_in = |a: &str| {
        let p = r.sim.world.partition(a, EAST);
        let p = p.lock();
        p.drs.jobs.iter().map(|j| j.servers.len()).sum::<usize>()
    };
    assert_eq!((launched_in(STAGING_TARGET), launched_in(&s1)), (8, 1));
}

#[tokio::test]
async fn a_staging_account_that_does_not_trust_the_target_is_named_and_one_unconfigured_is_a_warning() {
    let mut fleet = generate::staging_fleet(&StagingSpec { servers: 8, staging_accounts: 3, not_extended: 0 }).unwrap();
    let (s1, s2, s3) = (staging_account_id(0), staging_account_id(1), staging_account_id(2));
    fleet.accounts.iter_mut().filter(|a| a.account_id == s3).for_each(|a| a.staging_for.clear());
    fleet.servers.iter_mut().filter(|s| s.account_id == s3).for_each(|s| s.extended_into.clear());
    // The configuration names the first and the third, not the second.
    let r = rig_configured(fleet, |c| {
        configure(c, vec![]);
        c.accounts[0].staging_accounts = vec![s1.clone(), s3.clone()];
    })
    .await;

    let report = drs_module::accounts::check(&r.clients, &r.clients.config().partitions()).await;
    let row = report.get(STAGING_TARGET, EAST).unwrap();
    assert_eq!(row.reason_names(), [format!("staging-not-trusted: {s3}")], "{}", report.table());
    assert!(row.reasons[0].message.contains("DRSStagingAccountRole"), "{:?}", row.reasons);
    assert_eq!(row.warning_names(), ["staging-not-configured"]);
    assert!(row.warnings[0].message.contains(&s2) && !row.warnings[0].message.contains(&s1), "{:?}", row.warnings);

    // Discovery keeps the extensions of both trusting accounts and names the listing it could not make.
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    assert_eq!(found.servers.len(), 6);
    assert!(found.pending_extension.is_empty());
    assert_eq!(found.staging_errors.iter().map(|e| e.staging_account.as_str()).collect::<Vec<_>>(), [s3.as_str()]);
    assert!(found.staging_errors[0].reason.starts_with("permission-missing"), "{}", found.staging_errors[0]);
    let estate = drs_module::resource::DrsResource::from_value(&resource("Estate", estate_parameters())).unwrap();
    let plan = drs_module::plan::plan_one(&estate, &found, &r.clients.config().quotas);
    let warnings = &plan.resources[0].resolution.warnings;
    assert!(warnings.iter().any(|w| w.contains("cannot be named") && w.contains(&s3)), "{warnings:?}");
}

//! An estate past one account's 300 replicating servers: 600 servers replicating in two
//! staging accounts, recovered in one target account through extended source servers.
//! Accounts check verifies the staging trust, discovery finds the extensions and names the
//! staging servers not yet extended, tags sync tags the extensions, and a drill launches
//! every extension once in the target account and nothing in the staging accounts. A staging
//! account configured in its own right never has a server launched twice.

use crate::common::{launches_per_server, resource, rig_configured, Rig};
use drs_module::config::{ModuleConfig, TargetAccount};
use drs_module::discovery::StagingFailure;
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

/// The hub's role in a staging account, so that the module works there in its own right.
fn hub_role_in(account: &str) -> drs_sim::fleet::Role {
    drs_sim::fleet::Role {
        account_id: account.into(),
        role_name: generate::TARGET_ROLE.into(),
        trusted_principals: vec![format!("arn:aws:iam::{}:role/{}", generate::HUB_ACCOUNT, generate::HUB_ROLE)],
        external_id: Some(generate::external_id(account)),
        allowed_actions: vec!["*".into()],
        denied_actions: vec![],
        statements: vec![],
        trust: vec![],
        max_session_seconds: 3600,
    }
}

/// The configuration of a staging estate: the target account (and `more`), in one region.
fn configure(c: &mut ModuleConfig, more: Vec<TargetAccount>) {
    let staging = vec![staging_account_id(0), staging_account_id(1)];
    c.accounts = [vec![account(STAGING_TARGET, staging)], more].concat();
    c.regions = vec![EAST.into()];
    c.hooks = None;
}

/// A target naming four staging accounts, the first three also configured in their own right.
fn configure4(c: &mut ModuleConfig, staging: [&String; 4]) {
    let themselves = staging[..3].iter().map(|s| account(s, vec![])).collect();
    configure(c, themselves);
    c.accounts[0].staging_accounts = staging.iter().map(|s| (*s).clone()).collect();
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
    fleet.roles.push(hub_role_in(&s1));
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

#[tokio::test]
async fn a_dark_staging_account_is_named_and_the_target_and_the_other_staging_accounts_lose_nothing() {
    // Four staging accounts with 4 servers each, 3 of them extended into the target. The first
    // three are configured in their own right: the first's hub role cannot be assumed (none
    // there), the second's region faults (its DRS answers 503), the third is well. The fourth
    // is not configured, and its region faults too: the target's DRS cannot read it.
    let mut fleet = generate::staging_fleet(&StagingSpec { servers: 16, staging_accounts: 4, not_extended: 4 }).unwrap();
    let [s1, s2, s3, s4] = [0, 1, 2, 3].map(staging_account_id);
    fleet.roles.extend([hub_role_in(&s2), hub_role_in(&s3)]);
    let dark = |account: &str| drs_sim::faults::Outage {
        on: drs_sim::faults::Selector {
            account: Some(account.into()),
            region: Some(EAST.into()),
            service: Some("drs".into()),
            operation: None,
        },
        status: 503,
        count: None,
    };
    fleet.faults.outages.extend([dark(&s2), dark(&s4)]);
    let r = rig_configured(fleet, |c| {
        configure4(c, [&s1, &s2, &s3, &s4]);
        // A dark region is named after two attempts, not after the default's backoffs.
        c.retry.max_attempts = 2;
    })
    .await;
    let partitions = r.clients.config().partitions();
    assert_eq!(partitions.len(), 4, "the target and the three staging accounts configured in their own right");

    let found = drs_module::discovery::discover_retrying(&r.clients, &partitions, 1).await;

    // The two dark partitions fail, each with its reason; the target and the third are read.
    let failed: Vec<(&str, &str)> =
        found.failed().map(|p| (p.partition.account.as_str(), p.error.as_ref().unwrap().reason.as_str())).collect();
    assert_eq!(failed, [(s1.as_str(), "trust-refused-or-external-id-mismatch"), (s2.as_str(), "region-unreachable")]);

    // The target's 12 extensions, 3 from each staging account, the dark ones' too; the third's
    // server not extended, recovered in its own account; its 3 extended ones left to their
    // extensions. Nothing of the dark accounts' own is listed as theirs.
    let mut in_target: BTreeMap<&str, usize> = BTreeMap::new();
    for s in found.servers.iter().filter(|s| s.account == STAGING_TARGET) {
        *in_target.entry(s.staging.as_ref().expect("an extension").account.as_str()).or_default() += 1;
    }
    assert_eq!(in_target, BTreeMap::from([(s1.as_str(), 3), (s2.as_str(), 3), (s3.as_str(), 3), (s4.as_str(), 3)]));
    let own: Vec<(&str, &str)> =
        found.servers.iter().filter(|s| s.account != STAGING_TARGET).map(|s| (s.account.as_str(), s.hostname.as_str())).collect();
    assert_eq!(own, [(s3.as_str(), "web-00014")]);
    assert_eq!(found.extended_elsewhere.len(), 3);
    assert!(found.extended_elsewhere.iter().all(|e| e.account == s3));
    assert!(found.pending_extension.is_empty(), "the fourth's server not extended (db-00015) could not be listed");

    // Each dark staging account is named once (the retry round did not name one again), for
    // the target, with why: their servers not extended (app-00012, web-00013, db-00015) are
    // named nowhere else.
    let named: Vec<(&str, &str, &str, StagingFailure)> = found
        .staging_errors
        .iter()
        .map(|e| (e.account.as_str(), e.region.as_str(), e.staging_account.as_str(), e.failure))
        .collect();
    assert_eq!(
        named,
        [
            (STAGING_TARGET, EAST, s1.as_str(), StagingFailure::OwnPartitionUnread),
            (STAGING_TARGET, EAST, s2.as_str(), StagingFailure::OwnPartitionUnread),
            (STAGING_TARGET, EAST, s4.as_str(), StagingFailure::Listing)
        ]
    );
    let reason = |i: usize| found.staging_errors[i].reason.as_str();
    let unnamed = format!("not extended into {STAGING_TARGET}");
    assert!(reason(0).starts_with("trust-refused") && reason(0).contains(&unnamed), "{}", reason(0));
    assert!(reason(1).starts_with("region-unreachable") && reason(1).contains(&unnamed), "{}", reason(1));
    assert!(reason(2).starts_with("region-unreachable") && reason(2).contains("InternalServerException"), "{}", reason(2));

    // The plan names them: the partitions it could not read, and each staging account whose
    // servers not yet extended cannot be named; the estate's 13 servers are still selected.
    let estate = drs_module::resource::DrsResource::from_value(&resource("Estate", estate_parameters())).unwrap();
    let plan = drs_module::plan::plan_one(&estate, &found, &r.clients.config().quotas);
    let unreadable: Vec<&str> = plan.unreadable_partitions.iter().map(|u| u.partition.account.as_str()).collect();
    assert_eq!(unreadable, [s1.as_str(), s2.as_str()]);
    let warnings = &plan.resources[0].resolution.warnings;
    for s in [&s1, &s2, &s4] {
        assert!(warnings.iter().any(|w| w.contains("cannot be named") && w.contains(s.as_str())), "{s}: {warnings:?}");
    }
    assert_eq!(plan.resources[0].resolution.servers.len(), 13);
    let text = plan.text();
    assert!(text.contains(&format!("UNREADABLE {s1}/{EAST}")) && text.contains(&format!("UNREADABLE {s2}/{EAST}")), "{text}");

    // When the region answers again, discovery reads both and names the first alone.
    r.control.ok("PUT", "faults", Some(&json!({}))).await.unwrap();
    let again = drs_module::discovery::discover(&r.clients, &partitions, |_| {}).await;
    assert_eq!(again.staging_errors.iter().map(|e| e.staging_account.as_str()).collect::<Vec<_>>(), [s1.as_str()]);
    let own: Vec<&str> = again.servers.iter().filter(|s| s.account == s2).map(|s| s.hostname.as_str()).collect();
    assert_eq!(own, ["web-00013"], "the second's server not extended, its extended ones left to their extensions");
    let pending: Vec<(&str, &str)> =
        again.pending_extension.iter().map(|p| (p.staging_account.as_str(), p.hostname.as_str())).collect();
    assert_eq!(pending, [(s4.as_str(), "db-00015")]);
}

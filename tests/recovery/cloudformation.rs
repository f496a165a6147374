//! The CloudFormation roles are least privilege, measured: the simulator evaluates the
//! templates' policies as IAM does, resources and conditions included
//! (cloudformation/target-account.json on every target role, cloudformation/hub.json on the
//! hub, `templates.rs`), a full run passes with them (accounts check, a drill with an approved
//! pause gate, its cleanup, a refused replicate, a launch-settings sync, a static address's
//! check and its claim in the ledger, native recovery plans made, edited by hand and synced back, a real recovery and its
//! replicate), and every action of every statement allowed some request of that run. The
//! actions AWS requires alongside StartRecovery, TerminateRecoveryInstances, ReverseReplication
//! and UpdateLaunchConfiguration must be exactly those the Service Authorization Reference
//! lists; the simulator asks them of the caller on DRS's behalf (`drs_sim::iam::dependent`),
//! on the resources its model of a launch touches, so the Dependent statements' conditions are
//! exercised too.

use crate::common::{resource, rig_configured, shop_parameters, Rig};
use crate::templates::{granted, hub_statements, target_statements, template};
use drs_sim::generate::{HUB_ROLE, TARGET_ROLE};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;

/// Dependent actions, per the Service Authorization Reference (AWS Elastic Disaster Recovery).
const DEPENDENT: &[(&str, &[&str])] = &[
    (
        "drs:StartRecovery",
        &[
            "drs:CreateRecoveryInstanceForDrs",
            "drs:ListTagsForResource",
            "ec2:AttachVolume",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:CreateLaunchTemplate",
            "ec2:CreateLaunchTemplateVersion",
            "ec2:CreateSnapshot",
            "ec2:CreateTags",
            "ec2:CreateVolume",
            "ec2:DeleteLaunchTemplateVersions",
            "ec2:DeleteSnapshot",
            "ec2:DeleteVolume",
            "ec2:DescribeAccountAttributes",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeImages",
            "ec2:DescribeInstanceAttribute",
            "ec2:DescribeInstanceStatus",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeInstances",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:DescribeLaunchTemplates",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSnapshots",
            "ec2:DescribeSubnets",
            "ec2:DescribeVolumes",
            "ec2:DetachVolume",
            "ec2:ModifyInstanceAttribute",
            "ec2:ModifyLaunchTemplate",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RunInstances",
            "ec2:StartInstances",
            "ec2:StopInstances",
            "ec2:TerminateInstances",
            "iam:PassRole",
        ],
    ),
    (
        "drs:TerminateRecoveryInstances",
        &[
            "drs:DescribeSourceServers",
            "ec2:DeleteVolume",
            "ec2:DescribeInstances",
            "ec2:DescribeVolumes",
            "ec2:TerminateInstances",
        ],
    ),
    (
        "drs:ReverseReplication",
        &["drs:DescribeReplicationConfigurationTemplates", "drs:DescribeSourceServers", "ec2:DescribeInstances"],
    ),
    ("drs:UpdateLaunchConfiguration", &["ec2:DescribeInstances"]),
];

/// The statements of a role's inline policies.
fn statements(t: &Value, role: &str) -> Vec<Value> {
    let policies =
        t["Resources"][role]["Properties"]["Policies"].as_array().unwrap_or_else(|| panic!("{role} has inline policies"));
    policies.iter().flat_map(|p| p["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default()).collect()
}

fn actions<'a>(stmts: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in stmts.into_iter().filter(|s| s["Effect"] == "Allow") {
        match &s["Action"] {
            Value::String(a) => out.insert(a.clone()),
            Value::Array(list) => {
                out.extend(list.iter().map(|a| a.as_str().expect("an action is a string").to_owned()));
                true
            }
            other => panic!("Action {other} in {s}"),
        };
    }
    assert!(out.iter().all(|a| !a.contains('*')), "no wildcard actions: {out:?}");
    out
}

fn sid_starts(s: &Value, prefix: &str) -> bool {
    s["Sid"].as_str().is_some_and(|sid| sid.starts_with(prefix))
}

/// Runs a phase to its end like `Rig::run`, approving every open pause gate as it waits.
async fn run_approving(r: &Rig, payload: &Value, phase: &str, token: Option<&str>) -> Value {
    r.run_approving(payload, phase, token).await.unwrap_or_else(|e| panic!("{phase}: {e:?}")).payload
}

/// Native recovery plans kept with the target role alone: made; edited by hand (in the
/// simulator's state, as someone else would) and brought back in line; the resource narrowed
/// to one region, so that its plans in the other are deleted.
async fn native_plans(r: &Rig) {
    use drs_module::native::{self, Options};
    use drs_sim::drs::plans::model::{Step, StepConfig};
    let sync = |params: Value| async move {
        let manifest = json!([{"layer": 1, "resources": [resource("ShopStack", params)]}]);
        let layers = drs_module::manifest::layers(&manifest).unwrap();
        let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
        let l = native::layouts(&layers, &found, &r.clients.config().quotas, Options::default());
        let done = native::sync(&r.clients, &native::check(&r.clients, &l).await).await;
        let after = native::check(&r.clients, &l).await;
        assert!(after.in_sync(), "{}\n{}", done.text(), after.text());
        done
    };
    let made = sync(shop_parameters()).await;
    assert_eq!(made.resources[0].plans.len(), 6);
    {
        let part = r.sim.world.partition("200000000001", "us-east-1");
        let mut p = part.lock();
        let plan = &mut p.drs.plans.plans[0];
        plan.description = Some("edited by hand".into());
        plan.tags.insert("drs-orch:resource-id".into(), "someone-else".into());
        if let StepConfig::Server(list) = &mut plan.steps[1].config {
            list.pop();
        }
        plan.steps.swap(0, 1);
        let mut extra: Step = plan.steps[0].clone();
        extra.arn = format!("{}/step/st-handmade000000000", plan.arn);
        extra.name = "hand-made".into();
        plan.steps.push(extra);
    }
    let fixed = sync(shop_parameters()).await;
    let changes: Vec<&String> = fixed.resources[0].plans.iter().flat_map(|p| p.changes.iter()).collect();
    assert_eq!(changes.len(), 5, "{changes:?}");
    let mut east_only = shop_parameters();
    east_only["Regions"] = json!(["us-east-1"]);
    let narrowed = sync(east_only).await;
    let deleted =
        narrowed.resources[0].plans.iter().filter(|p| p.changes.iter().any(|c| c.starts_with("deleted the plan"))).count();
    assert_eq!(deleted, 3, "{}", narrowed.text());
}

#[tokio::test]
async fn the_templates_roles_suffice_for_a_full_run_and_grant_nothing_unused() {
    let target_t = template("target-account.json");
    let hub_t = template("hub.json");
    let target_stmts = statements(&target_t, "TargetRole");
    let module_actions = actions(target_stmts.iter().filter(|s| sid_starts(s, "Module")));
    let dependent_actions = actions(target_stmts.iter().filter(|s| sid_starts(s, "Dependent")));
    let kind = |s: &Value| ["Module", "Dependent", "Deny"].iter().find(|k| sid_starts(s, k)).copied();
    assert!(target_stmts.iter().all(|s| kind(s).is_some()), "every statement is Module*, Dependent* or Deny*");
    assert!(target_stmts.iter().all(|s| (kind(s) == Some("Deny")) == (s["Effect"] == "Deny")), "Deny* statements deny");
    // Logs are written by the Lambda runtime, not through the SDK: outside this check.
    let hub_actions: BTreeSet<String> =
        actions(statements(&hub_t, "HubRole").iter()).into_iter().filter(|a| !a.starts_with("logs:")).collect();

    // Reports go to the bucket the stack creates, under the stack's prefix.
    // The first account recovers through the second as a staging account (the demo fleet's
    // staging trust): accounts check reads what it could extend.
    let r = rig_configured(crate::templates::fleet(), |c| {
        c.reports =
            Some(drs_module::config::ReportsConfig { bucket: crate::templates::REPORTS_BUCKET.into(), prefix: "runs/".into() });
        c.accounts[0].staging_accounts = vec!["200000000002".into()];
    })
    .await;

    // accounts check: every probe passes with the template's role.
    let report = drs_module::accounts::check(&r.clients, &r.clients.config().partitions()).await;
    let missing: Vec<String> = report
        .partitions
        .iter()
        .flat_map(|p| p.reason_names().into_iter().map(str::to_owned).collect::<Vec<_>>())
        .filter(|n| n.starts_with("permission-missing"))
        .collect();
    assert!(missing.is_empty(), "{}", report.table());

    // Launch settings brought to a resource's LaunchSettings (before any job: DRS refuses
    // to change a server in an active job) (a DRS update and a new
    // default launch template version per server).
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let settings = json!({"Tags": {"Tier": "web"}, "LaunchSettings": {"CopyPrivateIp": true, "RightSizing": "NONE", "InstanceType": "m5.large"}});
    let parsed = drs_module::resource::DrsResource::from_value(&resource("Web", settings.clone())).unwrap();
    let (sel, want) = (parsed.selection, parsed.launch.unwrap());
    let group = drs_module::selection::resolve(&sel, &found.servers).servers;
    let drift = drs_module::launch::check(&r.clients, &group, &want).await;
    assert_eq!(drift.drifting(), group.len(), "{:?}", drift.lines());
    let left = drs_module::launch::sync(&r.clients, &drift, &want).await;
    assert!(left.findings.is_empty(), "{:?}", left.lines());
    // A static private address, checked as instantiate and `launch check` check it: its
    // subnet, and the network interfaces that may hold it.
    let statics = json!({"HostNames": ["db-01"], "LaunchSettings": {
        "SubnetId": {"us-east-1": "subnet-0d15ec0de0000e01"}, "Servers": {"db-01": {"PrivateIpAddress": "10.10.0.10"}}}});
    let parsed = drs_module::resource::DrsResource::from_value(&resource("Db", statics)).unwrap();
    let (sel, want) = (parsed.selection, parsed.launch.unwrap());
    let db01 = drs_module::selection::resolve(&sel, &found.servers).servers;
    let reads = drs_module::launch::read_all(&r.clients, &db01, Some(&want)).await;
    let asks = drs_module::launch::addresses::asked(&reads, &want, &found);
    assert_eq!(asks.len(), 1);
    let refused = drs_module::launch::addresses::check(&r.clients, &asks).await;
    assert!(refused.is_empty(), "{refused:?}");
    // Claimed in the ledger as instantiate claims it, and let go when asked no more.
    assert!(drs_module::launch::claims::claim(&r.clients, "Db", &asks).await.unwrap().is_empty());
    assert!(drs_module::launch::claims::claim(&r.clients, "Db", &[]).await.unwrap().is_empty());

    native_plans(&r).await;

    // A point-in-time drill with a pause gate (approved), a replicate it refuses, and its cleanup.
    let mut params = shop_parameters();
    params["Waves"][1]["PauseBefore"] = json!("sign-off");
    params["RecoverBefore"] = json!(drs_module::time::secs(&(r.clients.now() - chrono::Duration::minutes(90))));
    let drill = resource("ShopStack", params);
    let out = run_approving(&r, &drill, "activate", Some(&r.token().await)).await;
    let record = drs_module::recovery::run::of_payload(&r.clients, &out).await.unwrap().record;
    assert_eq!(record.mode, drs_module::resource::Mode::Drill);
    let refused = r.run(&drill, "replicate", Some(&r.token().await)).await.unwrap_err();
    assert_eq!(refused.code, "PhaseNotApplicable");
    let cleanup = run_approving(&r, &drill, "cleanup", Some(&r.token().await)).await;
    assert_eq!(cleanup["instances"], 60, "{cleanup}");

    // A real recovery, then reverse replication.
    let mut params = shop_parameters();
    params["Mode"] = json!("recovery");
    let real = resource("ShopStack", params);
    run_approving(&r, &real, "activate", Some(&r.token().await)).await;
    let rep = run_approving(&r, &real, "replicate", Some(&r.token().await)).await;
    assert_eq!(rep["reversed"], 60, "{rep}");

    // Nothing was denied, and every granted action was used by its role.
    let calls = r.control.calls().await.unwrap();
    // (accounts check asks once per account without the ExternalId, to learn whether the
    // role requires one; the target's trust refuses it, as it should.)
    let trust_probe = |c: &Value| c["operation"] == "AssumeRole" && c["request"].get("ExternalId").is_none();
    assert_eq!(calls.iter().filter(|c| trust_probe(c)).count(), 3, "one trust probe per account");
    let denied: Vec<&Value> = calls
        .iter()
        .filter(|c| !trust_probe(c))
        .filter(|c| c["error"].as_str().is_some_and(|e| e.contains("AccessDenied") || e == "UnauthorizedOperation"))
        .collect();
    assert!(denied.is_empty(), "denied calls: {denied:?}");
    // What each call was authorized as (a DynamoDB transaction as its items' actions).
    let used_by = |role: &str| -> BTreeSet<String> {
        calls
            .iter()
            .filter(|c| c["role"].as_str().is_some_and(|r| r.ends_with(&format!(":role/{role}"))))
            .flat_map(|c| c["actions"].as_array().cloned().unwrap_or_default())
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(used_by(TARGET_ROLE), module_actions, "the target role grants exactly the calls the module made");
    assert_eq!(used_by(HUB_ROLE), hub_actions, "the hub role grants exactly the calls the module made");

    // Each action of each statement allowed some request: the module's calls, and what DRS
    // did with the target role's permissions (none is there for nothing, resources and
    // conditions included).
    let grants_of = |role: &str| -> BTreeSet<(String, String)> {
        calls
            .iter()
            .filter(|c| c["role"].as_str().is_some_and(|r| r.ends_with(&format!(":role/{role}"))))
            .flat_map(|c| c["allowedBy"].as_array().cloned().unwrap_or_default())
            .map(|g| (g["sid"].as_str().unwrap().to_owned(), g["action"].as_str().unwrap().to_owned()))
            .collect()
    };
    let all_needed = |role: &str, granted: BTreeSet<(String, String)>| {
        let used = grants_of(role);
        let unused: Vec<_> = granted.difference(&used).collect();
        let outside: Vec<_> = used.difference(&granted).collect();
        assert!(unused.is_empty() && outside.is_empty(), "{role}: granted and never needed {unused:?}; used outside {outside:?}");
    };
    all_needed(TARGET_ROLE, granted(&target_statements("200000000001")));
    let roles = r.sim.world.roles.read().clone();
    let accounts: Vec<String> = roles.iter().filter(|t| t.role_name == TARGET_ROLE).map(|t| t.account_id.clone()).collect();
    all_needed(HUB_ROLE, granted(&hub_statements(&accounts)).into_iter().filter(|(_, a)| !a.starts_with("logs:")).collect());

    // The dependent statement lists exactly what AWS requires with the writes the module makes.
    let expected: BTreeSet<String> = DEPENDENT
        .iter()
        .filter(|(action, _)| module_actions.contains(*action))
        .flat_map(|(_, deps)| deps.iter().map(|d| d.to_string()))
        .collect();
    assert_eq!(dependent_actions, expected);
    // The simulator asks exactly those of the caller for each DRS write.
    for (action, deps) in DEPENDENT {
        let op = action.trim_start_matches("drs:");
        let modelled: BTreeSet<&str> = drs_sim::iam::dependent::actions_of(op).into_iter().collect();
        assert_eq!(modelled, deps.iter().copied().collect(), "{action}");
    }
}

/// The oldest cfn-lint whose IAM data knows DRS's recovery-plan actions (1.55 warns W3037 on
/// every one of them); `.ci/run` upgrades to at least this.
const MIN_CFN_LINT: (u32, u32, u32) = (1, 56, 0);

/// cfn-lint passes on every template (required in CI, `DRS_REQUIRE_CFN_LINT=1`).
#[test]
fn the_templates_pass_cfn_lint() {
    let templates: Vec<String> = std::fs::read_dir("cloudformation")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".json"))
        .collect();
    assert!(templates.len() >= 2, "{templates:?}");
    let missing = |why: String| {
        if std::env::var("DRS_REQUIRE_CFN_LINT").as_deref() == Ok("1") {
            panic!("cfn-lint is required (DRS_REQUIRE_CFN_LINT=1) but cannot run: {why}");
        }
        // Past libtest's capture, so that a passing run still says what it left out.
        let _ = writeln!(std::io::stderr(), "skipped: cfn-lint on the templates: {why}");
    };
    let version = match std::process::Command::new("cfn-lint").arg("--version").output() {
        // 127: a shim (pyenv's) found no cfn-lint in the active Python.
        Ok(out) if out.status.code() == Some(127) => {
            let said = String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or_default().to_owned();
            return missing(format!("cfn-lint is not installed ({said}); pip install cfn-lint"));
        }
        Ok(out) => String::from_utf8_lossy(&out.stdout).trim().trim_start_matches("cfn-lint").trim().to_owned(),
        Err(e) => return missing(format!("cfn-lint is not installed ({e}); pip install cfn-lint")),
    };
    let parsed: Vec<u32> = version.split('.').take(3).map_while(|p| p.parse().ok()).collect();
    let (a, b, c) = MIN_CFN_LINT;
    if parsed.len() < 3 || (parsed[0], parsed[1], parsed[2]) < MIN_CFN_LINT {
        return missing(format!(
            "cfn-lint {version} is older than {a}.{b}.{c}, whose IAM data knows the recovery-plan actions; \
             pip install --upgrade cfn-lint"
        ));
    }
    let out = std::process::Command::new("cfn-lint").args(&templates).output().unwrap();
    assert!(out.status.success(), "cfn-lint:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

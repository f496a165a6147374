//! The templates' hardening, read from their JSON: the inline module configuration is NoEcho
//! and may be replaced by an SSM parameter or a secret that the hub alone may read; every
//! service trust names its source ARN beside its account; the target role's destructive EC2
//! actions reach only what DRS manages, every EC2 write it holds is conditioned, and its trust
//! can require the hub's organization. The walk-arounds through EC2 calls the simulator does
//! not serve (snapshots, volumes, security groups, RunInstances, PassRole) are decided by the
//! simulator's IAM evaluator over the target role's resolved policy.

use crate::templates::target_statements;
use drs_sim::iam::{decide, AuthRequest, Context, Decision};
use serde_json::Value;

fn template(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("cloudformation/{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

const DESTRUCTIVE: &[&str] =
    &["ec2:TerminateInstances", "ec2:DeleteVolume", "ec2:DeleteSnapshot", "ec2:DetachVolume", "ec2:StopInstances"];

fn actions(s: &Value) -> Vec<String> {
    match &s["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(list) => list.iter().map(|a| a.as_str().unwrap().to_owned()).collect(),
        _ => vec![],
    }
}

#[test]
fn the_hub_takes_its_configuration_unechoed_or_from_a_parameter_or_secret_it_alone_reads() {
    let t = template("hub.json");
    assert_eq!(t["Parameters"]["ModuleConfig"]["NoEcho"], true, "the inline configuration holds ExternalIds");
    for p in ["ModuleConfigParameterName", "ModuleConfigSecretArn"] {
        assert_eq!(t["Parameters"][p]["Default"], "", "{p} is optional");
    }
    let env = &t["Resources"]["Function"]["Properties"]["Environment"]["Variables"];
    assert!(env["DRS_ORCH_CONFIG_SOURCE"].to_string().contains("ssm:${ModuleConfigParameterName}"), "{env}");
    assert!(env["DRS_ORCH_CONFIG"].to_string().contains("AWS::NoValue"), "no inline copy beside a source: {env}");
    let read = |res: &str| t["Resources"][res]["Properties"]["PolicyDocument"]["Statement"].as_array().unwrap().clone();
    let param = read("ConfigParameterReadPolicy");
    assert_eq!(param.len(), 1);
    assert_eq!(actions(&param[0]), ["ssm:GetParameter"]);
    let arn = param[0]["Resource"]["Fn::Sub"].as_str().unwrap();
    assert!(arn.ends_with(":parameter${ModuleConfigParameterName}") && !arn.contains('*'), "{arn}");
    let secret = read("ConfigSecretReadPolicy");
    assert_eq!(actions(&secret[0]), ["secretsmanager:GetSecretValue"]);
    assert_eq!(secret[0]["Resource"]["Ref"], "ModuleConfigSecretArn");
    assert_eq!(t["Resources"]["ConfigParameterReadPolicy"]["Condition"], "UsesConfigParameter");
    assert_eq!(t["Resources"]["ConfigSecretReadPolicy"]["Condition"], "UsesConfigSecret");
}

#[test]
fn every_service_trust_names_its_source_arn_and_account() {
    let mut trusts = 0;
    for name in ["hub.json", "target-account.json"] {
        let t = template(name);
        for (res, r) in t["Resources"].as_object().unwrap() {
            let Some(stmts) = r["Properties"]["AssumeRolePolicyDocument"]["Statement"].as_array() else { continue };
            for s in stmts.iter().filter(|s| s["Principal"].get("Service").is_some()) {
                trusts += 1;
                assert!(s["Condition"]["StringEquals"].get("aws:SourceAccount").is_some(), "{name} {res}: {s}");
                let arn = s["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].as_str().unwrap_or_default();
                assert!(arn.contains("${AWS::AccountId}") && !arn.ends_with('*'), "{name} {res}: aws:SourceArn {arn}");
            }
        }
    }
    assert_eq!(trusts, 6, "the Lambda, the two state machines and the three schedules");
}

/// Who may invoke the hub's function from outside: a service only from its own rule (source ARN
/// and account), and an ARC plan's execution role in another account only when the stack is
/// given it, that role alone, to invoke and nothing else.
#[test]
fn the_function_may_be_invoked_by_its_own_rule_and_a_named_arc_role_alone() {
    let t = template("hub.json");
    let permissions: Vec<(&String, &Value)> =
        t["Resources"].as_object().unwrap().iter().filter(|(_, r)| r["Type"] == "AWS::Lambda::Permission").collect();
    assert_eq!(permissions.len(), 2, "{permissions:?}");
    for (name, r) in permissions {
        let p = &r["Properties"];
        assert_eq!((&p["Action"], &p["FunctionName"]["Ref"]), (&Value::from("lambda:InvokeFunction"), &Value::from("Function")));
        match p["Principal"].as_str() {
            Some(service) => {
                assert!(service.ends_with(".amazonaws.com"), "{name}: {service}");
                assert!(p["SourceArn"].is_object() && p["SourceAccount"].is_object(), "{name}: {p}");
            }
            None => {
                assert_eq!(
                    (&p["Principal"]["Ref"], &r["Condition"]),
                    (&Value::from("ArcExecutionRoleArn"), &Value::from("HasArcExecutionRole"))
                );
                let role = &t["Parameters"]["ArcExecutionRoleArn"];
                assert_eq!(role["Default"], "", "no outside role unless given");
                let pattern = serde_json::json!({"type": "string", "pattern": role["AllowedPattern"]});
                let pattern = jsonschema::validator_for(&pattern).unwrap();
                assert!(pattern.is_valid(&"arn:aws:iam::123456789012:role/arc-plan-execution".into()));
                for refused in ["*", "123456789012", "arn:aws:iam::123456789012:root", "arn:aws:iam::*:role/x"] {
                    assert!(!pattern.is_valid(&refused.into()), "{refused} would open the function to more than a role");
                }
            }
        }
    }
}

#[test]
fn the_target_roles_destructive_actions_reach_only_drs_managed_resources() {
    let t = template("target-account.json");
    let role = &t["Resources"]["TargetRole"]["Properties"];
    let stmts: Vec<Value> = role["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
        .collect();
    let mut granted = vec![];
    for s in &stmts {
        for a in actions(s).iter().filter(|a| DESTRUCTIVE.contains(&a.as_str())) {
            assert_eq!(
                s["Condition"]["Null"]["aws:ResourceTag/AWSElasticDisasterRecoveryManaged"], "false",
                "{a} only on resources DRS tags: {s}"
            );
            granted.push(a.clone());
        }
    }
    granted.sort();
    let mut want: Vec<String> = DESTRUCTIVE.iter().map(|a| a.to_string()).collect();
    want.sort();
    assert_eq!(granted, want, "each destructive action granted once, conditioned");

    // The trust: the ExternalId always; the hub's organization when OrganizationId is set.
    assert_eq!(t["Parameters"]["OrganizationId"]["Default"], "");
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]["Fn::If"];
    assert_eq!(trust[0], "HasOrganizationId");
    assert_eq!(trust[1]["aws:PrincipalOrgID"]["Ref"], "OrganizationId");
    assert!(trust[1].get("sts:ExternalId").is_some() && trust[2].get("sts:ExternalId").is_some());
    assert!(trust[2].get("aws:PrincipalOrgID").is_none());
}

#[test]
fn the_run_ledger_is_encrypted_recoverable_retained_and_replicated_to_a_standby_hub() {
    let t = template("hub.json");
    let l = &t["Resources"]["RunLedger"];
    assert_eq!(l["Type"], "AWS::DynamoDB::GlobalTable");
    assert_eq!((l["DeletionPolicy"].as_str(), l["UpdateReplacePolicy"].as_str()), (Some("Retain"), Some("Retain")));
    assert_eq!(l["Condition"], "IsPrimaryHub", "a standby stack uses the primary's replica");
    let p = &l["Properties"];
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
    let keys: Vec<(&str, &str)> = p["KeySchema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["AttributeName"].as_str().unwrap(), k["KeyType"].as_str().unwrap()))
        .collect();
    assert_eq!(keys, [("pk", "HASH"), ("sk", "RANGE")], "the keys the module writes");
    let choice = p["Replicas"]["Fn::If"].as_array().unwrap();
    assert_eq!(choice[0], "HasStandbyRegion");
    let (with_standby, alone) = (choice[1].as_array().unwrap(), choice[2].as_array().unwrap());
    assert_eq!((with_standby.len(), alone.len()), (2, 1));
    assert_eq!(with_standby[1]["Region"]["Ref"], "StandbyRegion");
    for r in with_standby.iter().chain(alone) {
        assert_eq!(r["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true, "{r}");
        assert_eq!(r["DeletionProtectionEnabled"], true, "{r}");
    }
    // The hub's role reaches this table alone, in its own region.
    let stmts = t["Resources"]["HubRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap();
    let ledger = stmts.iter().find(|s| s["Sid"] == "KeepTheRunLedger").unwrap();
    assert!(actions(ledger).iter().all(|a| a.starts_with("dynamodb:")));
    assert!(ledger["Resource"]["Fn::Sub"].as_str().unwrap().ends_with(":table/${LedgerTableName}"), "{ledger}");
    assert!(t["Conditions"]["HasDrillSchedule"].to_string().contains("IsPrimaryHub"), "one region runs the schedule");
}

/// Every EC2 action the target role may take on `*` is a read; every EC2 write it holds names
/// resource types and carries a condition.
#[test]
fn every_ec2_write_of_the_target_role_is_conditioned() {
    let t = template("target-account.json");
    let stmts =
        t["Resources"]["TargetRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap().clone();
    let mut writes = 0;
    for s in stmts.iter().filter(|s| s["Effect"] == "Allow") {
        let ec2_writes: Vec<String> =
            actions(s).into_iter().filter(|a| a.starts_with("ec2:") && !a.starts_with("ec2:Describe")).collect();
        if ec2_writes.is_empty() {
            continue;
        }
        writes += ec2_writes.len();
        assert!(s["Condition"].as_object().is_some_and(|c| !c.is_empty()), "{ec2_writes:?} unconditioned: {s}");
        assert_ne!(s["Resource"], "*", "{ec2_writes:?} on every resource: {s}");
    }
    assert!(writes >= 20, "{writes} conditioned grants of EC2 writes");
}

const ACCOUNT: &str = "200000000001";
const MANAGED: &str = "AWSElasticDisasterRecoveryManaged";

fn arn(id: &str) -> String {
    drs_sim::iam::requests::ec2_arn("us-east-1", ACCOUNT, id)
}

fn drs_tagged() -> Context {
    Context::default().with(&format!("aws:ResourceTag/{MANAGED}"), "drs.amazonaws.com")
}

fn tagged_on_create() -> Context {
    Context::default().with(&format!("aws:RequestTag/{MANAGED}"), "drs.amazonaws.com").with("aws:TagKeys", MANAGED)
}

fn from_template(template: &str) -> Context {
    Context::default().with("ec2:LaunchTemplate", &arn(template))
}

/// What the target role may do to what DRS manages, and may not do to anything else, decided
/// as the simulator decides every call: each case is one authorization request.
#[test]
fn the_target_policy_refuses_the_walk_arounds_and_allows_drs_its_own_resources() {
    let policy = target_statements(ACCOUNT);
    let prod = Context::default().with("aws:ResourceTag/Environment", "prod");
    let cases: Vec<(&str, AuthRequest, bool)> = vec![
        // A copy of a production volume's data: its snapshot, or a volume from its snapshot.
        ("snapshot of a production volume", AuthRequest::new("ec2:CreateSnapshot", arn("vol-prod"), prod.clone()), false),
        ("snapshot of DRS's staging volume", AuthRequest::new("ec2:CreateSnapshot", arn("vol-staging"), drs_tagged()), true),
        ("the new snapshot, untagged", AuthRequest::new("ec2:CreateSnapshot", arn("snap-new"), Context::default()), false),
        ("the new snapshot, tagged as DRS's", AuthRequest::new("ec2:CreateSnapshot", arn("snap-new"), tagged_on_create()), true),
        ("a volume from a production snapshot", AuthRequest::new("ec2:CreateVolume", arn("snap-prod"), prod.clone()), false),
        ("the new volume, tagged as DRS's", AuthRequest::new("ec2:CreateVolume", arn("vol-new"), tagged_on_create()), true),
        ("the new volume, untagged", AuthRequest::new("ec2:CreateVolume", arn("vol-new"), Context::default()), false),
        ("attach a production volume", AuthRequest::new("ec2:AttachVolume", arn("vol-prod"), prod.clone()), false),
        ("attach DRS's volume", AuthRequest::new("ec2:AttachVolume", arn("vol-drs"), drs_tagged()), true),
        ("detach a production volume", AuthRequest::new("ec2:DetachVolume", arn("vol-prod"), prod.clone()), false),
        ("delete a production volume", AuthRequest::new("ec2:DeleteVolume", arn("vol-prod"), prod.clone()), false),
        ("delete a production snapshot", AuthRequest::new("ec2:DeleteSnapshot", arn("snap-prod"), prod.clone()), false),
        // Network exposure and instance changes.
        (
            "open a production security group",
            AuthRequest::new("ec2:AuthorizeSecurityGroupIngress", arn("sg-prod"), prod.clone()),
            false,
        ),
        ("open DRS's security group", AuthRequest::new("ec2:AuthorizeSecurityGroupIngress", arn("sg-drs"), drs_tagged()), true),
        (
            "egress of a production group",
            AuthRequest::new("ec2:AuthorizeSecurityGroupEgress", arn("sg-prod"), prod.clone()),
            false,
        ),
        (
            "revoke a production group's egress",
            AuthRequest::new("ec2:RevokeSecurityGroupEgress", arn("sg-prod"), prod.clone()),
            false,
        ),
        ("change a production instance", AuthRequest::new("ec2:ModifyInstanceAttribute", arn("i-prod"), prod.clone()), false),
        ("stop a production instance", AuthRequest::new("ec2:StopInstances", arn("i-prod"), prod.clone()), false),
        ("start a production instance", AuthRequest::new("ec2:StartInstances", arn("i-prod"), prod.clone()), false),
        ("stop DRS's instance", AuthRequest::new("ec2:StopInstances", arn("i-drs"), drs_tagged()), true),
        // Launch templates: an Auto Scaling group's is not DRS's.
        (
            "a version of an ASG's template",
            AuthRequest::new("ec2:CreateLaunchTemplateVersion", arn("lt-asg"), prod.clone()),
            false,
        ),
        (
            "delete an ASG template's versions",
            AuthRequest::new("ec2:DeleteLaunchTemplateVersions", arn("lt-asg"), prod.clone()),
            false,
        ),
        ("launch from an ASG's template", AuthRequest::new("ec2:RunInstances", arn("lt-asg"), from_template("lt-asg")), false),
        (
            "launch from DRS's template",
            AuthRequest::new(
                "ec2:RunInstances",
                arn("lt-drs"),
                from_template("lt-drs").with(&format!("aws:ResourceTag/{MANAGED}"), "drs.amazonaws.com"),
            ),
            true,
        ),
        ("an instance from a template", AuthRequest::new("ec2:RunInstances", arn("i-new"), from_template("lt-drs")), true),
        ("an instance without a template", AuthRequest::new("ec2:RunInstances", arn("i-new"), Context::default()), false),
        // Tags: DRS's key only on create, by DRS's create actions.
        ("DRS's key on a production volume", AuthRequest::new("ec2:CreateTags", arn("vol-prod"), tagged_on_create()), false),
        (
            "DRS's key on a new instance, on create",
            AuthRequest::new("ec2:CreateTags", arn("i-new"), tagged_on_create().with("ec2:CreateAction", "RunInstances")),
            true,
        ),
        (
            "any key on a new volume by another create action",
            AuthRequest::new("ec2:CreateTags", arn("vol-new"), tagged_on_create().with("ec2:CreateAction", "CopyVolume")),
            false,
        ),
        (
            "DRS's key removed from its instance",
            AuthRequest::new("ec2:DeleteTags", arn("i-drs"), drs_tagged().with("aws:TagKeys", MANAGED)),
            false,
        ),
        // The roles DRS passes to EC2, and nothing else.
        (
            "pass DRS's role to EC2",
            AuthRequest::new(
                "iam:PassRole",
                format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSElasticDisasterRecoveryRecoveryInstanceRole"),
                Context::default().with("iam:PassedToService", "ec2.amazonaws.com"),
            ),
            true,
        ),
        (
            "pass DRS's role to Lambda",
            AuthRequest::new(
                "iam:PassRole",
                format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSElasticDisasterRecoveryRecoveryInstanceRole"),
                Context::default().with("iam:PassedToService", "lambda.amazonaws.com"),
            ),
            false,
        ),
        (
            "pass an admin role",
            AuthRequest::new(
                "iam:PassRole",
                format!("arn:aws:iam::{ACCOUNT}:role/admin"),
                Context::default().with("iam:PassedToService", "ec2.amazonaws.com"),
            ),
            false,
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(_, req, allowed)| matches!(decide(&policy, req), Decision::Allowed(_)) != *allowed)
        .map(|(what, req, allowed)| {
            format!("{what}: {:?}, wanted {}", decide(&policy, req), if *allowed { "allowed" } else { "denied" })
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    // DRS's key outside a create is refused by the explicit Deny, whatever else would allow it.
    let deny = decide(&policy, &cases.iter().find(|c| c.0 == "DRS's key on a production volume").unwrap().1);
    assert_eq!(deny, Decision::ExplicitDeny("DenyTheDrsManagedTagOutsideCreation".into()));
}

/// Each service role of the hub may be assumed by its service only on behalf of the one
/// resource of this stack (aws:SourceArn) in this account (aws:SourceAccount): the confused
/// deputy is refused. Decided by the simulator's evaluator over the resolved trust policies
/// (the simulator runs no Lambda, state machine or schedule that would assume them).
#[test]
fn the_hubs_service_roles_trust_only_their_own_resource() {
    use drs_sim::iam::template::{role_trust, Stack};
    const HUB: &str = "100000000000";
    let t = template("hub.json");
    let stack = Stack::new(HUB, "us-east-1");
    let roles = [
        ("HubRole", "lambda.amazonaws.com", "arn:aws:lambda:us-east-1:100000000000:function:drs-orch"),
        ("ApprovalRole", "states.amazonaws.com", "arn:aws:states:us-east-1:100000000000:stateMachine:drs-orch-approval"),
        ("StandaloneRole", "states.amazonaws.com", "arn:aws:states:us-east-1:100000000000:stateMachine:drs-orch-standalone"),
        (
            "DrillScheduleRole",
            "scheduler.amazonaws.com",
            "arn:aws:scheduler:us-east-1:100000000000:schedule/default/drs-orch-recurring-drill",
        ),
        (
            "ReadinessScheduleRole",
            "scheduler.amazonaws.com",
            "arn:aws:scheduler:us-east-1:100000000000:schedule/default/drs-orch-readiness",
        ),
        (
            "TagSyncScheduleRole",
            "scheduler.amazonaws.com",
            "arn:aws:scheduler:us-east-1:100000000000:schedule/default/drs-orch-tags-sync",
        ),
    ];
    for (role, service, source) in roles {
        let trust = role_trust(&t, role, &stack).unwrap();
        let ask = |service: &str, source: &str, account: &str| {
            let c = Context::default()
                .with("aws:PrincipalServiceName", service)
                .with("aws:SourceArn", source)
                .with("aws:SourceAccount", account);
            decide(&trust, &AuthRequest::new("sts:AssumeRole", format!("arn:aws:iam::{HUB}:role/x"), c))
        };
        assert!(matches!(ask(service, source, HUB), Decision::Allowed(_)), "{role}");
        let other = source.replacen("drs-orch", "someone-else", 1);
        assert_eq!(ask(service, &other, HUB), Decision::ImplicitDeny, "{role}: another resource of the account");
        assert_eq!(
            ask(service, &source.replace(HUB, "999999999999"), "999999999999"),
            Decision::ImplicitDeny,
            "{role}: another account"
        );
        assert_eq!(ask("ec2.amazonaws.com", source, HUB), Decision::ImplicitDeny, "{role}: another service");
    }
}

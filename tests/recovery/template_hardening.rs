//! The templates' hardening, read from their JSON: the inline module configuration is NoEcho
//! and may be replaced by an SSM parameter or a secret that the hub alone may read; every
//! service trust names its source ARN beside its account; the target role's destructive EC2
//! actions reach only what DRS manages, and its trust can require the hub's organization.

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
    assert_eq!(trusts, 4, "the Lambda, the two state machines and the schedule");
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

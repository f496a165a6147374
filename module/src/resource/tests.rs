//! Reading a resource: recovery settings, per-wave settings and the errors that name fields.

use super::*;
use crate::config::UnknownParameters;
use serde_json::json;

fn parse(mut p: Value) -> Result<DrsResource, ResourceError> {
    if p.get("Tags").is_none() && p.get("HostNames").is_none() {
        p["Tags"] = json!({"Tier": "web"});
    }
    DrsResource::new("Web", &p)
}

#[test]
fn waves_take_their_own_settings_over_the_resource_defaults() {
    let p = parse(json!({
        "Mode": "recovery", "FailurePolicy": "continue", "PauseBefore": ["web"],
        "Waves": [{"Name": "db", "Tags": {"Tier": "db"}, "FailurePolicy": {"MaxFailed": 2}, "PauseBefore": "change board"},
                  {"Name": "web", "Tags": {"Tier": "web"}}]
    }))
    .unwrap()
    .recovery;
    assert_eq!(p.mode, Mode::Recovery);
    let db = p.wave("db");
    assert_eq!(db.pause.as_deref(), Some("change board"));
    assert!(!db.policy.broken(2, 10) && db.policy.broken(3, 10));
    assert!(p.wave("web").pause.is_some());
    assert_eq!(p.wave("other").policy, FailurePolicy::Continue);
}

/// RecoverBefore is read in UTC, from any offset; none when left out.
#[test]
fn the_point_in_time_is_read_in_utc() {
    let at = |v: Value| parse(json!({"RecoverBefore": v})).unwrap().recovery.recover_before.map(|t| crate::time::secs(&t));
    assert_eq!(at(json!("2026-12-01T03:10:00+01:00")).as_deref(), Some("2026-12-01T02:10:00Z"));
    assert_eq!(parse(json!({})).unwrap().recovery.recover_before, None);
}

/// The objective is the maximum acceptable age of recovered data; none when left out.
#[test]
fn the_rpo_target_is_read_in_minutes_and_is_optional() {
    assert_eq!(parse(json!({"TargetRpoMinutes": 15})).unwrap().recovery.target_rpo_minutes, Some(15));
    assert_eq!(parse(json!({})).unwrap().recovery.target_rpo_minutes, None);
}

/// A wave's own objectives override the resource's for that wave; the others take the resource's.
#[test]
fn objectives_are_the_waves_own_else_the_resources() {
    let p = parse(json!({
        "TargetRtoMinutes": 60, "TargetRpoMinutes": 15,
        "Waves": [{"Name": "db", "Tags": {"Tier": "db"}, "TargetRtoMinutes": 20},
                  {"Name": "web", "Tags": {"Tier": "web"}, "TargetRpoMinutes": 90}]
    }))
    .unwrap()
    .recovery;
    assert_eq!(p.targets(), Targets { rto_minutes: Some(60), rpo_minutes: Some(15) });
    assert_eq!(p.wave("db").targets, Targets { rto_minutes: Some(20), rpo_minutes: Some(15) });
    assert_eq!(p.wave("web").targets, Targets { rto_minutes: Some(60), rpo_minutes: Some(90) });
    assert_eq!(parse(json!({})).unwrap().recovery.wave("all").targets, Targets::default());
}

#[test]
fn thresholds_count_and_percent() {
    let pct = FailurePolicy::Threshold { max_failed: None, max_failed_percent: Some(10.0) };
    assert!(!pct.broken(1, 10) && pct.broken(2, 10));
    assert!(FailurePolicy::default().broken(1, 100));
    assert!(!FailurePolicy::Continue.broken(100, 100));
}

#[test]
fn bad_settings_name_the_field() {
    for (v, field) in [
        (json!({"Mode": "failover"}), "parameters.Mode"),
        (json!({"FailurePolicy": {"MaxFailed": -1}}), "parameters.FailurePolicy.MaxFailed"),
        (json!({"FailurePolicy": {"MaxFailedPercent": 101}}), "parameters.FailurePolicy.MaxFailedPercent"),
        (json!({"FailurePolicy": {}}), "parameters.FailurePolicy"),
        (json!({"Waves": [{"Name": "a", "PauseBefore": 3}]}), "parameters.Waves[0].PauseBefore"),
        (json!({"Waves": [{"Name": "a", "Tags": {"T": "x"}, "Colour": 3}]}), "at /Waves/0/Colour: not a known parameter"),
        (json!({"Waves": {"ByTag": ""}}), "parameters.Waves"),
        (json!({"ExecutionId": "a b"}), "parameters.ExecutionId"),
        (json!({"Cleanup": {"Everything": true}}), "at /Cleanup/Everything: not a known parameter"),
        (json!({"TimeoutMinutes": 99_999_999_999u64}), "parameters.TimeoutMinutes"),
        (json!({"TimeoutMinutes": -5}), "parameters.TimeoutMinutes"),
        (json!({"TargetRpoMinutes": 0}), "parameters.TargetRpoMinutes"),
        (json!({"TargetRtoMinutes": 0}), "parameters.TargetRtoMinutes"),
        (json!({"TargetRtoMinutes": 43_201}), "parameters.TargetRtoMinutes"),
        (json!({"TargetRtoMinutes": "1h"}), "parameters.TargetRtoMinutes"),
        (json!({"Waves": [{"Name": "a", "Tags": {"T": "x"}, "TargetRtoMinutes": 0}]}), "parameters.Waves[0].TargetRtoMinutes"),
        (
            json!({"Waves": [{"Name": "a", "Tags": {"T": "x"}}, {"Name": "b", "Tags": {"T": "y"}, "TargetRpoMinutes": 50_000}]}),
            "parameters.Waves[1].TargetRpoMinutes",
        ),
        (json!({"TargetRpoMinutes": 50_000}), "parameters.TargetRpoMinutes"),
        (json!({"TargetRpoMinutes": "15"}), "parameters.TargetRpoMinutes"),
        (json!({"RecoverBefore": "yesterday at two"}), "parameters.RecoverBefore: 'yesterday at two' is not an RFC 3339 time"),
        (json!({"RecoverBefore": "2026-12-01T02:10:00"}), "parameters.RecoverBefore"),
        (json!({"RecoverBefore": 1764555000}), "parameters.RecoverBefore"),
        (json!({"Hooks": ["a"]}), "parameters.Hooks"),
        (json!({"Tenant": ""}), "parameters.Tenant"),
        (json!({"Waves": [{"Name": "a", "Tags": {"T": "x"}}, {"Name": "a", "Tags": {"T": "y"}}]}), "parameters.Waves[1].Name"),
        (
            json!({"Waves": [{"Name": "a", "Tags": {"T": "x"}, "DependsOn": ["c"]}]}),
            "parameters.Waves[0].DependsOn[0]: 'c' is no wave",
        ),
        (
            json!({"Waves": [{"Name": "a", "Tags": {"T": "x"}, "DependsOn": ["a"]}]}),
            "parameters.Waves[0].DependsOn[0]: wave 'a' depends on itself",
        ),
    ] {
        let e = parse(v.clone()).unwrap_err().to_string();
        assert!(e.contains(field), "{field} not in {e} (from {v})");
    }
}

#[test]
fn the_event_account_scopes_a_resource_that_names_none() {
    let r = DrsResource::from_event("Web", Some("200000000001"), &json!({"Tags": {"a": "b"}})).unwrap();
    assert_eq!(r.selection.accounts, ["200000000001"]);
    let r =
        DrsResource::from_event("Web", Some("200000000001"), &json!({"AccountId": "200000000002", "Tags": {"a": "b"}})).unwrap();
    assert_eq!(r.selection.accounts, ["200000000002"], "the parameters' own account wins");
    let e = DrsResource::from_event("Web", Some("200000000001"), &json!({"HostNames": ["200000000002:web-01"]})).unwrap_err();
    assert!(e.to_string().contains("account 200000000002 is outside"), "{e}");
}

#[test]
fn parameters_the_schema_does_not_know_are_refused_and_the_schema_has_the_last_word() {
    let e = parse(json!({"SomethingElse": {"x": 1}})).unwrap_err().to_string();
    assert!(e.contains("at /SomethingElse: not a known parameter"), "{e}");
    // Long tag values pass the types but not the schema (256 characters at most).
    let e = parse(json!({"Tags": {"Tier": "x".repeat(300)}})).unwrap_err();
    assert!(matches!(e, ResourceError::Schema { .. }), "{e}");
    assert!(!e.to_string().contains(&"x".repeat(300)), "schema errors mask values: {e}");
}

#[test]
fn parameters_past_step_functions_payload_limit_are_refused_naming_the_field() {
    let hosts: Vec<String> = (0..30_000).map(|i| format!("host-{i:06}.corp.example.com")).collect();
    let e = DrsResource::new("Big", &serde_json::json!({"HostNames": hosts})).unwrap_err().to_string();
    assert!(e.contains("parameters") && e.contains("over 262144"), "{e}");
}

#[test]
fn a_value_of_none_of_a_fields_forms_is_explained_by_the_form_it_has() {
    // A wave list whose waves select nothing: the list form's rule, not "oneOf".
    let e = parse(json!({"Waves": [{"Name": "a"}, {"Name": "b", "Tags": {"T": "x"}}]})).unwrap_err().to_string();
    assert!(e.contains(r#"at /Waves/0: needs one of "Tags", "HostNames""#), "{e}");
    assert!(!e.contains("/Waves/1") && !e.contains("oneOf") && !e.contains("anyOf"), "{e}");
}

#[test]
fn a_misspelt_parameter_is_refused_naming_the_nearest_known_one_at_any_depth() {
    let e = parse(json!({"PauseBefor": ["web"]})).unwrap_err().to_string();
    assert!(e.contains("at /PauseBefor: not a known parameter (did you mean PauseBefore?)"), "{e}");
    let waves = json!({"Waves": [{"Name": "db", "Tags": {"Tier": "db"}, "FailurPolicy": "continue"}]});
    let e = parse(waves).unwrap_err().to_string();
    assert!(e.contains("/Waves/0/FailurPolicy") && e.contains("FailurePolicy?"), "{e}");
    let e = parse(json!({"Cleanup": {"Drill": true}})).unwrap_err().to_string();
    assert!(e.contains("/Cleanup/Drill") && e.contains("Drills?"), "{e}");
    // The platform's own keys are known.
    parse(json!({"AccountId": "200000000001", "Region": "us-east-1"})).expect("the platform's keys pass");
}

#[test]
fn unknown_parameters_pass_with_a_warning_only_when_the_configuration_says_so() {
    let p = json!({"Tags": {"Tier": "web"}, "PauseBefor": ["web"]});
    assert!(DrsResource::from_event_with("Web", None, &p, UnknownParameters::Refuse).is_err());
    let r = DrsResource::from_event_with("Web", None, &p, UnknownParameters::Warn).expect("let through");
    assert_eq!(r.unknown.len(), 1);
    assert_eq!(r.unknown[0].suggestion.as_deref(), Some("PauseBefore"));
    assert!(r.recovery.wave("web").pause.is_none(), "the misspelt key does nothing");
    // Other schema errors are refused whatever the setting.
    let bad = json!({"Tags": {"Tier": "web"}, "PauseBefor": ["web"], "TimeoutMinutes": -1});
    assert!(DrsResource::from_event_with("Web", None, &bad, UnknownParameters::Warn).is_err());
}

/// A drill of a recovery resource (Mode drill, an ExecutionId) is a run of the same
/// definition; any other parameter changed is another one.
#[test]
fn the_definition_digest_leaves_out_what_names_a_run() {
    let base = parse(json!({"Tags": {"Tier": "web"}, "TargetRpoMinutes": 15})).unwrap().definition_digest();
    let run = parse(json!({"Tags": {"Tier": "web"}, "TargetRpoMinutes": 15, "Mode": "recovery", "ExecutionId": "x1"})).unwrap();
    assert_eq!(run.definition_digest(), base);
    assert_ne!(run.params_digest(), parse(json!({"Tags": {"Tier": "web"}, "TargetRpoMinutes": 15})).unwrap().params_digest());
    assert_ne!(parse(json!({"Tags": {"Tier": "web"}, "TargetRpoMinutes": 16})).unwrap().definition_digest(), base);
}

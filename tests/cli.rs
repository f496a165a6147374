//! The CLI as a user runs it, each command against the embedded simulator: the README's main
//! command (`drs-orch drill manifests/demo-drill.json`, which ends by printing the path of its
//! JSON report: the three waves, the approval of the paused web wave, the demo hook's skip and
//! the cleanup), `launch check`, `tags sync` and `readiness`.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

use serde_json::Value;
use std::process::Command;

#[test]
fn the_demo_drill_runs_and_prints_its_report_path() {
    // cargo runs tests in the package directory (the compile-time path may be another clone's).
    let root = std::env::current_dir().unwrap();
    let reports = std::env::temp_dir().join(format!("drs-orch-cli-drill-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_drs-orch"))
        .current_dir(root)
        .args(["drill", "manifests/demo-drill.json", "--poll-seconds", "60", "--report-dir"])
        .arg(&reports)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "drill failed:\n{stdout}\n{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.ends_with("report.json"), "the last line is the JSON report's path: {stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(last).unwrap()).unwrap();
    assert_eq!(report["outcome"], "succeeded");
    for sibling in ["report.md", "report.html"] {
        assert!(std::path::Path::new(last).with_file_name(sibling).exists(), "{sibling} beside the JSON");
    }
    let waves = report["resources"][0]["waves"].as_array().unwrap();
    assert_eq!(waves.len(), 3);
    let servers = |w: &Value, status: &str| w["servers"].as_array().unwrap().iter().filter(|s| s["status"] == status).count();
    assert_eq!(waves.iter().map(|w| servers(w, "LAUNCHED")).sum::<usize>(), 59);
    assert_eq!(servers(&waves[2], "SKIPPED"), 1, "web-01 is tagged dr:skip");
    assert!(waves[2]["hookDecisions"].to_string().contains("skip"), "{}", waves[2]["hookDecisions"]);
    // The gate: who approved (the drill approves as the user running it) and when.
    let approval = &waves[2]["approval"];
    assert_eq!(approval["decision"], "approved", "{approval}");
    assert!(approval["approver"].as_str().is_some_and(|a| !a.is_empty()) && approval["at"].is_string(), "{approval}");
    assert!(waves[0]["servers"][0]["recoveryS"].as_f64().is_some_and(|s| s > 0.0), "recovery times are measured");
    assert_eq!(report["phases"][0]["outcome"], "succeeded", "cleanup");
    // The cleanup as it ended, not as its first call counted.
    let cleanup = &report["phases"][0]["detail"];
    assert_eq!((cleanup["remaining"].as_u64(), cleanup["terminated"].as_u64()), (Some(0), Some(59)), "{cleanup}");
    // The module's own report of the run, in the (simulated) reports bucket, named.
    let execution = report["resources"][0]["execution"].as_str().unwrap();
    let key = format!("run report s3://drs-orch-reports/runs/ShopStack/{execution}/report.json");
    assert!(stdout.lines().any(|l| l.ends_with(&key)), "{key} in:\n{stdout}");
    assert!(report["clock"].as_str().is_some_and(|c| c.contains("run's clock")), "{}", report["clock"]);
    let _ = std::fs::remove_dir_all(&reports);
}

fn drs_orch(args: &[&str]) -> (bool, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_drs-orch")).current_dir(std::env::current_dir().unwrap()).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn launch_check_fails_on_drift_and_sync_clears_it() {
    let (ok, text) = drs_orch(&["launch", "check", "manifests/demo-launch-settings.json"]);
    assert!(!ok, "drift is a failure without --sync:\n{text}");
    assert!(text.contains("ShopStack: 60 servers, 60 drifting") && text.contains("RightSizing is BASIC (want NONE)"), "{text}");
    assert!(text.contains("--sync fixes it"), "{text}");
    let (ok, text) = drs_orch(&["launch", "check", "manifests/demo-launch-settings.json", "--sync"]);
    assert!(ok, "{text}");
    assert!(text.contains("ShopStack after sync: 0 drifting, 0 failed"), "{text}");
}

#[test]
fn launch_check_applies_static_addresses_and_refuses_bad_ones_before_syncing() {
    let (ok, text) = drs_orch(&["launch", "check", "manifests/demo-static-ips.json", "--sync"]);
    assert!(ok, "{text}");
    for part in [
        "BillingDatabases: 12 servers, 12 drifting",
        "db-01 (200000000001/us-east-1): SubnetId is unset (want subnet-0d15ec0de0000e01)",
        "PrivateIpAddress is unset (want 10.10.0.10)",
        "static private addresses: 12 checked, 0 refused",
        "BillingDatabases after sync: 0 drifting, 0 failed",
    ] {
        assert!(text.contains(part), "'{part}' not in:\n{text}");
    }

    // db-07 given db-01's address (the same subnet), db-05 a reserved one: refused, and
    // nothing is synced.
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("manifests/demo-static-ips.json").unwrap()).unwrap();
    let servers = &mut m[0]["resources"][0]["parameters"]["LaunchSettings"]["Servers"];
    servers["db-07"]["PrivateIpAddress"] = "10.10.0.10".into();
    servers["db-05"]["PrivateIpAddress"] = "10.10.0.3".into();
    let path = std::env::temp_dir().join(format!("drs-orch-static-ips-{}.json", std::process::id()));
    std::fs::write(&path, m.to_string()).unwrap();
    let (ok, text) = drs_orch(&["launch", "check", path.to_str().unwrap(), "--sync"]);
    let _ = std::fs::remove_file(&path);
    assert!(!ok, "{text}");
    for part in [
        "static private addresses: 12 checked, 3 refused",
        "BillingDatabases: LaunchSettings.Servers.db-07.PrivateIpAddress 10.10.0.10: also given to db-01",
        "BillingDatabases: LaunchSettings.Servers.db-01.PrivateIpAddress 10.10.0.10: also given to db-07",
        "BillingDatabases: LaunchSettings.Servers.db-05.PrivateIpAddress 10.10.0.3: reserved",
        "nothing was synced",
    ] {
        assert!(text.contains(part), "'{part}' not in:\n{text}");
    }
    assert!(!text.contains("after sync"), "{text}");
}

#[test]
fn tags_sync_shows_its_plan_and_changes_nothing_without_apply() {
    let (ok, text) = drs_orch(&["tags", "sync"]);
    assert!(ok, "{text}");
    assert!(text.contains("240 tags to set on 60 servers; 0 in sync"), "{text}");
    assert!(text.contains("run again with --apply"), "{text}");
    let (ok, text) = drs_orch(&["tags", "sync", "--apply", "--key", "Owner"]);
    assert!(ok, "{text}");
    assert!(text.contains("applied: 60 tags on 60 servers; 0 failed"), "{text}");
}

/// The verdict is the exit code: the demo drill never ran against the embedded simulator, so
/// its resource needs verification (2), named in the table; the JSON is the Lambda's answer.
#[test]
fn readiness_prints_the_verdicts_and_exits_with_the_worst() {
    let out = Command::new(env!("CARGO_BIN_EXE_drs-orch")).args(["readiness", "manifests/demo-drill.json"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("ShopStack") && text.contains("NEEDS VERIFICATION") && text.contains("was never drilled"), "{text}");
    let out =
        Command::new(env!("CARGO_BIN_EXE_drs-orch")).args(["readiness", "manifests/demo-drill.json", "--json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "NEEDS_VERIFICATION");
    assert_eq!(report["resources"][0]["servers"].as_array().unwrap().len(), 60);
}

/// Native recovery plans: `--check` finds every plan of the demo drill missing (exit code 2),
/// showing the steps each would have and where it cannot do what the module does; a sync makes
/// them and checks again (each run has its own embedded simulator, so each starts with none).
#[test]
fn native_sync_check_exits_2_on_missing_plans_and_sync_makes_them() {
    let out = Command::new(env!("CARGO_BIN_EXE_drs-orch"))
        .args(["native", "sync", "manifests/demo-drill.json", "--check"])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("ShopStack: native plan 'drs-orch ShopStack' in 6 accounts x regions"), "{text}");
    assert_eq!(text.matches(": missing").count(), 6, "{text}");
    assert!(
        text.contains("3. pause before web: wait 60 min") && text.contains("1. databases: 2 servers: db-01, db-07"),
        "{text}"
    );
    assert!(text.contains("web pauses for an approval in the module (PauseBefore)"), "{text}");
    assert!(text.contains("6 native plans are out of sync"), "{text}");

    let (ok, text) = drs_orch(&["native", "sync", "manifests/demo-drill.json", "--pause-minutes", "30"]);
    assert!(ok, "{text}");
    assert_eq!(text.matches("created step 'pause before web'").count(), 6, "{text}");
    assert!(text.contains("3. pause before web: wait 30 min"), "{text}");
    assert!(text.contains("after the sync: every native plan is in sync"), "{text}");

    let out = Command::new(env!("CARGO_BIN_EXE_drs-orch"))
        .args(["native", "sync", "manifests/demo-drill.json", "--check", "--json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let plans = report["check"]["resources"][0]["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 6);
    assert!(plans.iter().all(|p| p["state"] == "missing" && p["steps"].as_array().unwrap().len() == 4), "{report}");
}

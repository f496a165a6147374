//! The run report rendered to Markdown and HTML, compared byte for byte with golden files,
//! so that a change to the renderers shows every byte it changes. `BLESS=1` rewrites them.
//!
//! The reports are built by hand to reach every branch of the renderers: waves in each
//! state, open and unstarted waves, a cut large wave, servers with and without times,
//! hook decisions with and without detail, and text that both markups must escape. States,
//! outcomes and times are typed: a report holds only what the enums and `DateTime<Utc>` can
//! (times given with an offset are printed in UTC).
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use drs_module::error::ErrorCode;
use drs_module::report::{
    html, markdown, HookDecision, LeftOut, LeftOutKind, PhaseReport, ResourceReport, RunReport, ServerReport, ServerState,
    Verdict, WaveReport, WaveState,
};
use drs_module::resource::Mode;
use serde_json::json;

const P1: &str = "111111111111/us-east-1";
const P2: &str = "222222222222/us-west-2";

/// Text that both markups must escape: table pipes, tags, entities, quotes, backslashes,
/// backticks, tabs and line breaks.
const NASTY: &str = "a|b <i>c</i> & \"d\" 'e' \\f `g`\th\r\ni";

fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn server(
    id: &str,
    host: Option<&str>,
    status: ServerState,
    started: Option<&str>,
    launched: Option<&str>,
    rec: Option<f64>,
) -> ServerReport {
    ServerReport {
        source_server_id: id.into(),
        hostname: host.map(Into::into),
        partition: P1.into(),
        job_id: started.map(|_| "drsjob-1".into()),
        status,
        started: started.map(t),
        launched: launched.map(t),
        recovery_s: rec,
        recovery_instance_id: launched.map(|_| format!("i-{id}")),
        reason: None,
        snapshot: None,
        rpo_s: None,
        recovered_point: None,
    }
}

fn wave(
    index: usize,
    name: &str,
    state: WaveState,
    started: Option<&str>,
    ended: Option<&str>,
    servers: Vec<ServerReport>,
) -> WaveReport {
    WaveReport {
        index,
        name: name.into(),
        state,
        after: vec![],
        started: started.map(t),
        ended: ended.map(t),
        duration_s: None,
        servers,
        hook_decisions: vec![],
        notes: vec![],
        components: Default::default(),
        approval: None,
    }
}

fn hook(hook: &str, point: &str, decision: &str, detail: Option<&str>) -> HookDecision {
    HookDecision { hook: hook.into(), point: point.into(), decision: decision.into(), detail: detail.map(Into::into) }
}

/// `n` launched servers with recovery times that repeat (ties keep their order), a few
/// failed or skipped with reasons, and a few without any time.
fn bulk(prefix: &str, n: usize, t0: &str) -> Vec<ServerReport> {
    (0..n)
        .map(|i| {
            let id = format!("{prefix}-{i:04}");
            let host = format!("{prefix}{i:04}.corp.example");
            let mut s = server(
                &id,
                Some(&host),
                ServerState::Launched,
                Some(t0),
                Some("2024-05-01T10:20:00Z"),
                Some(100.0 + (i % 7) as f64),
            );
            match i % 23 {
                3 => {
                    s.status = ServerState::Failed;
                    s.launched = None;
                    s.recovery_s = None;
                    s.reason = Some(format!("quota | {i} <exceeded>"));
                }
                5 => {
                    s.recovery_s = None;
                    s.launched = None;
                    s.status = ServerState::InProgress;
                }
                _ => {}
            }
            s
        })
        .collect()
}

/// Three resources (one failed with an error, one succeeded, one without waves), waves in
/// every state, a wave of 60 servers (cut, with launch marks) and one of 501 (cut, none).
fn rich() -> RunReport {
    let t0 = "2024-05-01T10:00:00Z";
    let mut db = wave(
        1,
        "db",
        WaveState::Completed,
        Some(t0),
        Some("2024-05-01T10:06:00Z"),
        vec![
            server(
                "s-db01",
                Some("db01.corp.example"),
                ServerState::Launched,
                Some(t0),
                Some("2024-05-01T10:04:00Z"),
                Some(240.0),
            ),
            server("s-db02", None, ServerState::Launched, Some(t0), Some("2024-05-01T10:05:30Z"), Some(330.0)),
            server(
                "s-db03",
                Some("db03.corp.example"),
                ServerState::Launched,
                Some(t0),
                Some("2024-05-01T10:00:42Z"),
                Some(42.04),
            ),
        ],
    );
    db.duration_s = Some(360.0);
    // A point-in-time recovery: db01 launched a recovery snapshot, the others their latest data.
    db.servers[0].recovered_point =
        Some(drs_module::pitr::RecoveryPoint { snapshot_id: "pit-0db01snapshot00001".into(), taken: t("2024-05-01T09:00:04Z") });
    db.hook_decisions.push(hook("freeze-window", "before-wave", "proceed", Some(NASTY)));
    db.notes.push("waited 40 s for approval".into());
    db.notes.push(NASTY.into());

    let t1 = "2024-05-01T10:07:00Z";
    let mut failed = server("s-app02", Some("app02 <x>"), ServerState::Failed, Some(t1), None, None);
    failed.reason = Some("launch template <script>alert(1)</script> | subnet missing".into());
    let mut skipped = server("s-app03", Some("app03.corp.example"), ServerState::Skipped, None, None, None);
    skipped.reason = Some("excluded by tag \"dr=skip\"".into());
    let mut app = wave(
        2,
        "app & 'web'",
        WaveState::Failed,
        Some(t1),
        Some("2024-05-01T10:15:30Z"),
        vec![
            server(
                "s-app01",
                Some("app01.corp.example"),
                ServerState::Launched,
                Some(t1),
                Some("2024-05-01T10:14:00Z"),
                Some(3723.0),
            ),
            failed,
            skipped,
            server("s-app04", Some("app04.corp.example"), ServerState::NotStarted, None, None, None),
        ],
    );
    app.after = vec!["db".into()];
    app.hook_decisions.push(hook("skip-tagged", "after-wave", "stop", None));
    app.hook_decisions.push(hook("notify", "after-wave", "proceed", Some("sent to #dr")));

    let mut open = wave(
        3,
        "a very long wave name that goes well past thirty-two characters é",
        WaveState::Running,
        Some("2024-05-01T10:16:00Z"),
        None,
        vec![server("s-run01", Some("run01"), ServerState::InProgress, Some("2024-05-01T10:16:00Z"), None, None)],
    );
    open.notes.push("quotas: 2 of 3 jobs running".into());
    // A branch: it waited for db alone, beside app; paused waits for both.
    open.after = vec!["db".into()];
    let mut paused = wave(4, "paused", WaveState::Paused, Some("2024-05-01T10:16:30Z"), None, vec![]);
    paused.duration_s = Some(90.0);
    paused.after = vec!["app & 'web'".into(), "a very long wave name that goes well past thirty-two characters é".into()];
    let mut waiting = wave(5, "", WaveState::Waiting, None, None, vec![]);
    waiting.notes.push("waiting for approval".into());
    let mut big = wave(6, "bulk", WaveState::Failed, Some(t0), Some("2024-05-01T10:30:00Z"), bulk("b", 60, t0));
    big.duration_s = Some(1800.0);
    let huge = wave(7, "huge", WaveState::Completed, Some(t0), Some("2024-05-01T10:25:00Z"), bulk("h", 501, t0));

    let mut web = server(
        "s-web01",
        Some("web01.corp.example"),
        ServerState::Launched,
        Some("2024-05-01T12:02:00+02:00"),
        None,
        Some(300.5),
    );
    web.launched = Some(t("2024-05-01T12:07:00.500+02:00"));
    web.partition = "333333333333".into();

    RunReport {
        clock: format!("the run's clock <UTC> & {NASTY}"),
        source: "manifests/demo <drill> & \"prod\".json".into(),
        mode: Mode::Drill,
        started: t("2024-05-01T09:59:30Z"),
        ended: t("2024-05-01T10:40:00Z"),
        outcome: Verdict::Failed(ErrorCode::WaveFailed),
        failed_phase: None,
        resources: vec![
            ResourceReport {
                objectives: None,
                recover_before: None,
                left_out: vec![
                    LeftOut {
                        kind: LeftOutKind::NotReady,
                        source_server_id: Some("s-db09".into()),
                        hostname: Some("db09 <stalled>".into()),
                        partition: Some(P1.into()),
                        entry: None,
                        reason: format!("replication is STALLED, not CONTINUOUS; {NASTY}"),
                    },
                    LeftOut {
                        kind: LeftOutKind::Miss,
                        source_server_id: None,
                        hostname: None,
                        partition: None,
                        entry: Some("HostNames[3] 'db|99'".into()),
                        reason: "matches no server".into(),
                    },
                ],
                layer: 1,
                resource: "core <db> & \"app\" | 'x'".into(),
                execution: "exec|core-1".into(),
                outcome: Verdict::Failed(ErrorCode::WaveFailed),
                error: Some(format!("wave 2: 1 server failed; {NASTY}")),
                partitions: vec![P1.into(), P2.into(), "111111111111/eu-west-1".into()],
                waves: vec![db, app, open, paused, waiting, big, huge],
            },
            ResourceReport {
                objectives: None,
                recover_before: None,
                left_out: vec![],
                layer: 2,
                resource: "frontend".into(),
                execution: "exec-front-1".into(),
                outcome: Verdict::Succeeded,
                error: Some("succeeded".into()),
                partitions: vec!["333333333333".into()],
                waves: vec![wave(
                    1,
                    "web",
                    WaveState::Failed,
                    Some("2024-05-01T12:02:00+02:00"),
                    Some("2024-05-01T10:09:00Z"),
                    vec![web],
                )],
            },
            ResourceReport {
                objectives: None,
                recover_before: None,
                left_out: vec![],
                layer: 3,
                resource: "empty".into(),
                execution: "exec-empty".into(),
                outcome: Verdict::Failed(ErrorCode::Timeout),
                error: Some(String::new()),
                partitions: vec![],
                waves: vec![],
            },
        ],
        phases: vec![
            PhaseReport {
                ended: Some(t("2024-05-01T10:45:00Z")),
                resource: "core <db>".into(),
                phase: "cleanup".into(),
                outcome: Verdict::Succeeded,
                detail: json!({"terminated": 2, "jobs": "drsjob-9", "nested": {"a": [1, "b|c"]}}),
            },
            PhaseReport {
                ended: None,
                resource: "frontend".into(),
                phase: "replicate".into(),
                outcome: Verdict::Failed(ErrorCode::ReplicationStuck),
                detail: json!(null),
            },
            PhaseReport {
                ended: None,
                resource: "frontend".into(),
                phase: "reverse".into(),
                outcome: Verdict::Failed(ErrorCode::ReplicateFailed),
                detail: json!({}),
            },
            PhaseReport {
                ended: None,
                resource: "empty".into(),
                phase: "note".into(),
                outcome: Verdict::Failed(ErrorCode::PhaseNotApplicable),
                detail: json!(NASTY),
            },
            PhaseReport {
                ended: None,
                resource: "empty".into(),
                phase: "count".into(),
                outcome: Verdict::Succeeded,
                detail: json!([1, 2.5, true]),
            },
        ],
    }
}

/// No wave of the run started: the timeline has no axis.
fn unstarted() -> RunReport {
    let mut w = wave(
        1,
        "first",
        WaveState::Waiting,
        None,
        None,
        vec![server("s-1", Some("one"), ServerState::NotStarted, None, None, None)],
    );
    w.duration_s = Some(12.0);
    RunReport {
        clock: String::new(),
        source: "event".into(),
        mode: Mode::Recovery,
        started: t("2024-05-01T10:00:00Z"),
        ended: t("2024-05-01T09:00:00Z"),
        outcome: Verdict::Failed(ErrorCode::Timeout),
        failed_phase: None,
        resources: vec![ResourceReport {
            objectives: None,
            recover_before: None,
            left_out: vec![],
            layer: 0,
            resource: "r".into(),
            execution: String::new(),
            outcome: Verdict::Failed(ErrorCode::ApprovalRejected),
            error: None,
            partitions: vec![P1.into()],
            waves: vec![w, wave(2, "second", WaveState::Waiting, None, None, vec![])],
        }],
        phases: vec![],
    }
}

/// Nothing at all.
fn empty() -> RunReport {
    RunReport {
        clock: String::new(),
        source: String::new(),
        mode: Mode::Drill,
        started: DateTime::UNIX_EPOCH,
        ended: DateTime::UNIX_EPOCH,
        outcome: Verdict::Succeeded,
        failed_phase: Some("cleanup".into()),
        resources: vec![],
        phases: vec![],
    }
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// Compares with the golden file, naming the first line that differs; with `BLESS` set,
/// writes the golden file instead.
fn check(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1)", path.display()));
    if actual == expected {
        return;
    }
    let line = expected.lines().zip(actual.lines()).position(|(e, a)| e != a);
    match line {
        Some(i) => panic!(
            "{name} differs at line {}:\nexpected: {:?}\nactual:   {:?}",
            i + 1,
            expected.lines().nth(i).unwrap(),
            actual.lines().nth(i).unwrap()
        ),
        None => panic!("{name} differs in length: expected {} bytes, got {}", expected.len(), actual.len()),
    }
}

#[test]
fn rich_report_matches_golden() {
    let r = rich();
    check("report.md", &markdown::render(&r));
    check("report.html", &html::render(&r));
}

#[test]
fn unstarted_report_matches_golden() {
    let r = unstarted();
    check("unstarted.md", &markdown::render(&r));
    check("unstarted.html", &html::render(&r));
}

#[test]
fn empty_report_matches_golden() {
    let r = empty();
    check("empty.md", &markdown::render(&r));
    check("empty.html", &html::render(&r));
}

//! Reports built by hand for the unit tests of the renderers: a small run of two resources
//! and one with a single wave of `n` servers.

use super::{
    seconds_between, HookDecision, PhaseReport, ResourceReport, RunReport, ServerReport, ServerState, Verdict, WaveReport,
    WaveState,
};
use crate::error::ErrorCode;
use crate::resource::Mode;
use chrono::{DateTime, Utc};

fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub(crate) fn server(
    id: &str,
    host: &str,
    partition: &str,
    status: ServerState,
    started: &str,
    rec: Option<f64>,
) -> ServerReport {
    // Launches are whole seconds, as DRS's times in the original fixtures were printed.
    let launched = rec.map(|s| t(started) + chrono::Duration::seconds(s as i64));
    ServerReport {
        source_server_id: id.into(),
        hostname: Some(host.into()),
        partition: partition.into(),
        job_id: Some("drsjob-1".into()),
        status,
        started: Some(t(started)),
        launched,
        recovery_s: rec,
        recovery_instance_id: rec.map(|_| format!("i-{id}")),
        reason: None,
        snapshot: None,
        rpo_s: None,
        recovered_point: None,
    }
}

fn wave(index: usize, name: &str, state: WaveState, started: &str, ended: &str, servers: Vec<ServerReport>) -> WaveReport {
    WaveReport {
        index,
        name: name.into(),
        state,
        after: vec![],
        started: Some(t(started)),
        ended: Some(t(ended)),
        duration_s: Some(seconds_between(t(started), t(ended))),
        servers,
        hook_decisions: vec![],
        components: Default::default(),
        approval: None,
        notes: vec![],
    }
}

/// Two resources, three waves, one failed server whose reason holds `<script>` and `|`.
pub(crate) fn sample() -> RunReport {
    let p1 = "111111111111/us-east-1";
    let p2 = "222222222222/us-west-2";
    let t0 = "2024-05-01T10:00:00Z";
    let mut w1 = wave(
        1,
        "db",
        WaveState::Completed,
        t0,
        "2024-05-01T10:06:00Z",
        vec![
            server("s-db01", "db01.corp.example", p1, ServerState::Launched, t0, Some(240.0)),
            server("s-db02", "db02.corp.example", p2, ServerState::Launched, t0, Some(330.0)),
        ],
    );
    w1.hook_decisions.push(HookDecision {
        hook: "freeze-window".into(),
        point: "before-wave".into(),
        decision: "proceed".into(),
        detail: Some("outside the freeze window".into()),
    });
    w1.notes.push("waited 40 s for approval".into());
    w1.components.insert("freeze-window".into(), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into());
    w1.approval = Some(super::Approval {
        decision: super::Decision::Approved,
        approver: Some("alice <admin@corp.example>".into()),
        at: Some(t("2024-05-01T09:59:50Z")),
        approval: "arn:aws:states:us-east-1:100000000000:execution:approve:exec-core-1-wave-0".into(),
        reason: None,
    });
    // Data 2 and 10 minutes older than the run's start (09:59:30).
    for (s, snap) in w1.servers.iter_mut().zip(["2024-05-01T09:57:30Z", "2024-05-01T09:49:30Z"]) {
        s.snapshot = Some(t(snap));
        s.rpo_s = Some(crate::objectives::rpo_seconds(t("2024-05-01T09:59:30Z"), t(snap)));
    }
    let t1 = "2024-05-01T10:07:00Z";
    let mut bad = server("s-app02", "app02.corp.example", p1, ServerState::Failed, t1, None);
    bad.reason = Some("launch template <script>alert(1)</script> | subnet missing".into());
    let mut w2 = wave(
        2,
        "app",
        WaveState::Failed,
        t1,
        "2024-05-01T10:15:30Z",
        vec![server("s-app01", "app01.corp.example", p1, ServerState::Launched, t1, Some(420.0)), bad],
    );
    w2.hook_decisions.push(HookDecision {
        hook: "skip-tagged".into(),
        point: "after-wave".into(),
        decision: "stop".into(),
        detail: None,
    });
    let t2 = "2024-05-01T10:02:00Z";
    let w3 = wave(
        1,
        "web",
        WaveState::Completed,
        t2,
        "2024-05-01T10:09:00Z",
        vec![server("s-web01", "web01.corp.example", p2, ServerState::Launched, t2, Some(300.5))],
    );
    // RTO 15 min (the run failed: missed), RPO 5 min (wave db's oldest data is 10 min: missed).
    let run = crate::objectives::RunTimes { started: t("2024-05-01T09:59:30Z"), ended: true, succeeded: false };
    let targets = crate::resource::Targets { rto_minutes: Some(15), rpo_minutes: Some(5) };
    let objectives = super::achieved::of_waves(&run, targets, &|w| (targets, (0..w).collect()), &[w1.clone(), w2.clone()]);
    RunReport {
        clock: String::new(),
        source: "manifests/demo-drill.json".into(),
        mode: Mode::Drill,
        started: t("2024-05-01T09:59:30Z"),
        ended: t("2024-05-01T10:20:00Z"),
        outcome: Verdict::Failed(ErrorCode::WaveFailed),
        failed_phase: None,
        resources: vec![
            ResourceReport {
                objectives: Some(objectives),
                left_out: vec![],
                recover_before: None,
                layer: 1,
                resource: "core-db-app".into(),
                execution: "exec-core-1".into(),
                outcome: Verdict::Failed(ErrorCode::WaveFailed),
                error: Some("wave 2 (app): 1 server failed".into()),
                partitions: vec![p1.into(), p2.into()],
                waves: vec![w1, WaveReport { after: vec!["db".into()], ..w2 }],
            },
            ResourceReport {
                objectives: None,
                left_out: vec![],
                recover_before: None,
                layer: 2,
                resource: "frontend".into(),
                execution: "exec-front-1".into(),
                outcome: Verdict::Succeeded,
                error: None,
                partitions: vec![p2.into()],
                waves: vec![w3],
            },
        ],
        phases: vec![PhaseReport {
            ended: None,
            resource: "core-db-app".into(),
            phase: "cleanup".into(),
            outcome: Verdict::Succeeded,
            detail: serde_json::json!({"terminated": 2, "jobs": "drsjob-9"}),
        }],
    }
}

/// One wave of `n` servers, the first of them failed.
pub(crate) fn large(n: usize) -> RunReport {
    let t0 = "2024-05-01T10:00:00Z";
    let mut servers: Vec<ServerReport> = (0..n)
        .map(|i| {
            server(
                &format!("s-{i:05}"),
                &format!("host{i:05}"),
                "111111111111/us-east-1",
                ServerState::Launched,
                t0,
                Some(60.0 + (i % 997) as f64),
            )
        })
        .collect();
    servers[0].status = ServerState::Failed;
    servers[0].recovery_s = None;
    servers[0].launched = None;
    servers[0].reason = Some("quota".into());
    let mut r = sample();
    r.resources.truncate(1);
    r.resources[0].waves = vec![wave(1, "bulk", WaveState::Failed, t0, "2024-05-01T10:30:00Z", servers)];
    r
}

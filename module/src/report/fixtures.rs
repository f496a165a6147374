//! Reports built by hand for the unit tests of the renderers: a small run of two resources
//! and one with a single wave of `n` servers.

use super::{seconds_between, HookDecision, PhaseReport, ResourceReport, RunReport, ServerReport, WaveReport};

pub(crate) fn server(id: &str, host: &str, partition: &str, status: &str, started: &str, rec: Option<f64>) -> ServerReport {
    let launched = rec.map(|s| {
        let t = chrono::DateTime::parse_from_rfc3339(started).unwrap() + chrono::Duration::milliseconds((s * 1000.0) as i64);
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    });
    ServerReport {
        source_server_id: id.into(),
        hostname: Some(host.into()),
        partition: partition.into(),
        job_id: Some("drsjob-1".into()),
        status: status.into(),
        started: Some(started.into()),
        launched,
        recovery_s: rec,
        recovery_instance_id: rec.map(|_| format!("i-{id}")),
        reason: None,
    }
}

fn wave(index: usize, name: &str, state: &str, started: &str, ended: &str, servers: Vec<ServerReport>) -> WaveReport {
    WaveReport {
        index,
        name: name.into(),
        state: state.into(),
        started: Some(started.into()),
        ended: Some(ended.into()),
        duration_s: seconds_between(started, ended),
        servers,
        hook_decisions: vec![],
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
        "completed",
        t0,
        "2024-05-01T10:06:00Z",
        vec![
            server("s-db01", "db01.corp.example", p1, "LAUNCHED", t0, Some(240.0)),
            server("s-db02", "db02.corp.example", p2, "LAUNCHED", t0, Some(330.0)),
        ],
    );
    w1.hook_decisions.push(HookDecision {
        hook: "freeze-window".into(),
        point: "before-wave".into(),
        decision: "proceed".into(),
        detail: Some("outside the freeze window".into()),
    });
    w1.notes.push("waited 40 s for approval".into());
    let t1 = "2024-05-01T10:07:00Z";
    let mut bad = server("s-app02", "app02.corp.example", p1, "FAILED", t1, None);
    bad.reason = Some("launch template <script>alert(1)</script> | subnet missing".into());
    let mut w2 = wave(
        2,
        "app",
        "failed",
        t1,
        "2024-05-01T10:15:30Z",
        vec![server("s-app01", "app01.corp.example", p1, "LAUNCHED", t1, Some(420.0)), bad],
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
        "completed",
        t2,
        "2024-05-01T10:09:00Z",
        vec![server("s-web01", "web01.corp.example", p2, "LAUNCHED", t2, Some(300.5))],
    );
    RunReport {
        source: "manifests/demo-drill.json".into(),
        mode: "drill".into(),
        started: "2024-05-01T09:59:30Z".into(),
        ended: "2024-05-01T10:20:00Z".into(),
        outcome: "failed: WaveFailed".into(),
        resources: vec![
            ResourceReport {
                layer: 1,
                resource: "core-db-app".into(),
                execution: "exec-core-1".into(),
                outcome: "WaveFailed".into(),
                error: Some("wave 2 (app): 1 server failed".into()),
                partitions: vec![p1.into(), p2.into()],
                waves: vec![w1, w2],
            },
            ResourceReport {
                layer: 2,
                resource: "frontend".into(),
                execution: "exec-front-1".into(),
                outcome: "succeeded".into(),
                error: None,
                partitions: vec![p2.into()],
                waves: vec![w3],
            },
        ],
        phases: vec![PhaseReport {
            resource: "core-db-app".into(),
            phase: "cleanup".into(),
            outcome: "succeeded".into(),
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
                "LAUNCHED",
                t0,
                Some(60.0 + (i % 997) as f64),
            )
        })
        .collect();
    servers[0].status = "FAILED".into();
    servers[0].recovery_s = None;
    servers[0].launched = None;
    servers[0].reason = Some("quota".into());
    let mut r = sample();
    r.resources.truncate(1);
    r.resources[0].waves = vec![wave(1, "bulk", "failed", t0, "2024-05-01T10:30:00Z", servers)];
    r
}

//! The arithmetic of objectives: achieved RTO and RPO from the run's own times, judged
//! against their targets. Pure: the caller gathers the times (the report, from the ledger,
//! DRS and EC2).

use super::{critical_path, Judgement, Objective, Objectives, PathStep, WaveObjectives};
use crate::resource::Targets;
use chrono::{DateTime, Utc};

/// The run as a whole.
pub struct RunTimes {
    /// Its start (the activation, as the ledger recorded it).
    pub started: DateTime<Utc>,
    /// Whether its end is recorded: until then a wave that has not completed may still do so.
    pub ended: bool,
    /// Whether it ended well.
    pub succeeded: bool,
}

/// One wave as it ran.
pub struct WaveRun<'a> {
    pub name: &'a str,
    pub started: Option<DateTime<Utc>>,
    /// Its last job's end, when it completed.
    pub ended: Option<DateTime<Utc>>,
    pub completed: bool,
    /// The waves (indexes) it waited for before it started ([`waits_for`]).
    pub waits_for: Vec<usize>,
    /// Its objectives: its own, else the resource's.
    pub targets: Targets,
    pub servers: Vec<ServerRun<'a>>,
}

/// One server of a wave: its job, its launch, and the point in time of the data it launched
/// (the recovery instance's `pointInTimeSnapshotDateTime`), when it launched.
pub struct ServerRun<'a> {
    pub id: &'a str,
    pub job: Option<&'a str>,
    pub launched: Option<DateTime<Utc>>,
    pub snapshot: Option<DateTime<Utc>>,
}

/// What wave `w` waited for before it started: the waves it depends on (waves form a graph;
/// the run's plan gives each wave's, `Payload::depends_on`), earlier waves only.
pub fn waits_for(w: usize, depends_on: &[usize]) -> Vec<usize> {
    depends_on.iter().copied().filter(|d| *d < w).collect()
}

/// The age of a launched server's data: the run's start minus the point in time it launched.
/// Data newer than the start (a drill's sources keep replicating while the run goes on) lost
/// nothing: 0.
pub fn rpo_seconds(started: DateTime<Utc>, snapshot: DateTime<Utc>) -> f64 {
    seconds(snapshot, started).max(0.0)
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// `achieved` against `target` (minutes); `absent` says why nothing was achieved and whether
/// that misses the target (a recovery that never happened) or leaves it unmeasured.
fn judge(target: Option<u64>, achieved: Option<f64>, absent: (bool, &str)) -> Objective {
    let (verdict, why) = match (target, achieved) {
        (None, _) => (Judgement::NoTarget, achieved.is_none().then(|| absent.1.to_owned())),
        (Some(t), Some(a)) if a <= (t * 60) as f64 => (Judgement::Met, None),
        (Some(_), Some(_)) => (Judgement::Missed, None),
        (Some(_), None) if absent.0 => (Judgement::Missed, Some(absent.1.to_owned())),
        (Some(_), None) => (Judgement::Unmeasured, Some(absent.1.to_owned())),
    };
    Objective { target_minutes: target, achieved_seconds: achieved, verdict, why }
}

/// The resource's and each wave's objectives; `resource` holds the resource's own targets.
pub fn measure(run: &RunTimes, resource: Targets, waves: &[WaveRun]) -> Objectives {
    let start = run.started;
    let mut out_waves = vec![];
    let mut oldest: Option<(f64, &str)> = None;
    for (w, wave) in waves.iter().enumerate() {
        let rto = match (wave.completed, wave.ended) {
            (true, Some(end)) => judge(wave.targets.rto_minutes, Some(seconds(start, end)), (false, "")),
            _ if run.ended => judge(wave.targets.rto_minutes, None, (true, "the wave did not complete")),
            _ => judge(wave.targets.rto_minutes, None, (false, "the wave has not completed yet")),
        };
        let ages: Vec<(f64, &str)> =
            wave.servers.iter().filter_map(|s| s.snapshot.map(|t| (rpo_seconds(start, t), s.id))).collect();
        let worst = ages.iter().copied().max_by(|a, b| a.0.total_cmp(&b.0));
        let unknown = wave.servers.iter().filter(|s| s.launched.is_some() && s.snapshot.is_none()).count();
        let mut rpo = match worst {
            Some((age, _)) => judge(wave.targets.rpo_minutes, Some(age), (false, "")),
            None if unknown > 0 => {
                judge(wave.targets.rpo_minutes, None, (false, "the launched servers' snapshot times could not be read"))
            }
            None => judge(wave.targets.rpo_minutes, None, (false, "no server of the wave launched")),
        };
        if worst.is_some() && unknown > 0 {
            rpo.why = Some(format!("{unknown} launched servers' snapshot times could not be read: judged without them"));
        }
        if let Some(wst) = worst {
            if oldest.is_none_or(|o| wst.0 > o.0) {
                oldest = Some(wst);
            }
        }
        out_waves.push(WaveObjectives {
            index: w + 1,
            name: wave.name.to_owned(),
            rto,
            rpo,
            oldest_data: worst.map(|(_, id)| id.to_owned()),
        });
    }
    let last_end = waves.iter().filter(|w| w.completed).filter_map(|w| w.ended).max();
    let rto = match (run.succeeded && run.ended, last_end) {
        (true, Some(end)) => judge(resource.rto_minutes, Some(seconds(start, end)), (false, "")),
        _ if run.ended => judge(resource.rto_minutes, None, (true, "the run failed: the resource was not recovered")),
        _ => judge(resource.rto_minutes, None, (false, "the run has not ended yet")),
    };
    Objectives {
        measured_from: start,
        rto,
        rpo: resource_rpo(resource.rpo_minutes, oldest.map(|o| o.0), &out_waves),
        oldest_data: oldest.map(|(_, id)| id.to_owned()),
        critical_path: critical_path(waves).into_iter().filter_map(|w| step(w, &waves[w])).collect(),
        waves: out_waves,
    }
}

/// The resource's RPO: its oldest data; judged by its waves (each against its own target, else
/// the resource's), missed when any wave's is.
fn resource_rpo(target: Option<u64>, oldest: Option<f64>, waves: &[WaveObjectives]) -> Objective {
    let mut o = judge(target, oldest, (false, "no server launched"));
    if target.is_some() && oldest.is_some() {
        let missed: Vec<&str> = waves.iter().filter(|w| w.rpo.missed()).map(|w| w.name.as_str()).collect();
        o.verdict = if missed.is_empty() { Judgement::Met } else { Judgement::Missed };
        o.why = (!missed.is_empty()).then(|| format!("missed in wave {}", missed.join(", ")));
    }
    o
}

/// Wave `w` on the critical path: its end and the server whose launch ended it.
fn step(w: usize, wave: &WaveRun) -> Option<PathStep> {
    let last = wave.servers.iter().filter(|s| s.launched.is_some()).max_by_key(|s| s.launched);
    Some(PathStep {
        wave: w + 1,
        name: wave.name.to_owned(),
        started: wave.started,
        ended: wave.ended?,
        server: last.map(|s| s.id.to_owned()),
        job: last.and_then(|s| s.job.map(str::to_owned)),
        launched: last.and_then(|s| s.launched),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z").unwrap().with_timezone(&Utc) + chrono::Duration::minutes(min)
    }

    fn server(id: &str, launched: Option<i64>, snapshot: Option<i64>) -> ServerRun<'_> {
        ServerRun { id, job: Some("drsjob-1"), launched: launched.map(t), snapshot: snapshot.map(t) }
    }

    fn wave<'a>(name: &'a str, ended: Option<i64>, targets: Targets, servers: Vec<ServerRun<'a>>, w: usize) -> WaveRun<'a> {
        WaveRun {
            name,
            started: Some(t(0)),
            ended: ended.map(t),
            completed: ended.is_some(),
            waits_for: w.checked_sub(1).into_iter().collect(),
            targets,
            servers,
        }
    }

    fn targets(rto: Option<u64>, rpo: Option<u64>) -> Targets {
        Targets { rto_minutes: rto, rpo_minutes: rpo }
    }

    const DONE: RunTimes = RunTimes { started: DateTime::<Utc>::MIN_UTC, ended: true, succeeded: true };

    fn run() -> RunTimes {
        RunTimes { started: t(0), ..DONE }
    }

    #[test]
    fn rto_is_from_the_runs_start_to_the_last_waves_end_and_each_wave_to_its_own() {
        let resource = targets(Some(30), None);
        // Wave db ends at 12 min (own target 10: missed), app at 25 (inherits 30: met).
        let waves = [
            wave("db", Some(12), targets(Some(10), None), vec![server("s-1", Some(12), None)], 0),
            wave("app", Some(25), resource, vec![server("s-2", Some(25), None)], 1),
        ];
        let o = measure(&run(), resource, &waves);
        assert_eq!(o.rto.achieved_seconds, Some(1500.0));
        assert_eq!(o.rto.verdict, Judgement::Met);
        assert_eq!((o.waves[0].rto.achieved_seconds, o.waves[0].rto.verdict), (Some(720.0), Judgement::Missed));
        assert_eq!(o.waves[1].rto.verdict, Judgement::Met);
        assert!(o.rto_missed(), "a wave's miss is the resource's alarm");
        // At the target exactly is met; one second over is missed.
        let exact = [wave("all", Some(30), resource, vec![], 0)];
        assert_eq!(measure(&run(), resource, &exact).rto.verdict, Judgement::Met);
        let mut over = wave("all", Some(30), resource, vec![], 0);
        over.ended = over.ended.map(|e| e + chrono::Duration::seconds(1));
        assert_eq!(measure(&run(), resource, &[over]).rto.verdict, Judgement::Missed);
    }

    #[test]
    fn a_failed_run_misses_its_rto_and_no_target_gives_no_verdict() {
        let failed = RunTimes { succeeded: false, ..run() };
        let waves =
            [wave("db", Some(5), targets(Some(60), None), vec![], 0), wave("app", None, targets(Some(60), None), vec![], 1)];
        let o = measure(&failed, targets(Some(60), None), &waves);
        assert_eq!((o.rto.verdict, o.rto.achieved_seconds), (Judgement::Missed, None));
        assert_eq!(o.waves[0].rto.verdict, Judgement::Met);
        assert_eq!(o.waves[1].rto.verdict, Judgement::Missed);
        assert_eq!(o.waves[1].rto.why.as_deref(), Some("the wave did not complete"));
        // A run still going: not missed yet.
        let going = RunTimes { ended: false, succeeded: false, ..run() };
        assert_eq!(measure(&going, targets(Some(60), None), &waves).waves[1].rto.verdict, Judgement::Unmeasured);
        // No targets: figures reported, no verdicts.
        let o = measure(&run(), Targets::default(), &[wave("all", Some(7), Targets::default(), vec![], 0)]);
        assert_eq!((o.rto.verdict, o.rto.achieved_seconds), (Judgement::NoTarget, Some(420.0)));
        assert!(!o.has_targets() && !o.rto_missed() && !o.rpo_missed());
    }

    #[test]
    fn rpo_is_the_age_of_the_launched_data_at_the_runs_start_worst_server_for_the_resource() {
        assert_eq!(rpo_seconds(t(0), t(-3)), 180.0);
        assert_eq!(rpo_seconds(t(0), t(4)), 0.0, "data newer than the start lost nothing");
        let resource = targets(None, Some(5));
        let waves = [
            wave("db", Some(10), resource, vec![server("s-1", Some(10), Some(-2)), server("s-2", Some(9), Some(-4))], 0),
            // Own target 60: its 30-minute-old data is within it.
            wave(
                "app",
                Some(20),
                targets(None, Some(60)),
                vec![server("s-3", Some(20), Some(-30)), server("s-4", None, None)],
                1,
            ),
        ];
        let o = measure(&run(), resource, &waves);
        assert_eq!((o.waves[0].rpo.achieved_seconds, o.waves[0].oldest_data.as_deref()), (Some(240.0), Some("s-2")));
        assert_eq!(o.waves[0].rpo.verdict, Judgement::Met);
        assert_eq!(o.waves[1].rpo.verdict, Judgement::Met);
        assert_eq!((o.rpo.achieved_seconds, o.oldest_data.as_deref()), (Some(1800.0), Some("s-3")));
        assert_eq!(o.rpo.verdict, Judgement::Met, "wave app's own target overrides the resource's for its servers");
        // Tighten wave db's target: it misses, and so does the resource.
        let waves = [wave("db", Some(10), targets(None, Some(3)), vec![server("s-2", Some(9), Some(-4))], 0)];
        let o = measure(&run(), resource, &waves);
        assert_eq!((o.waves[0].rpo.verdict, o.rpo.verdict), (Judgement::Missed, Judgement::Missed));
        assert_eq!(o.rpo.why.as_deref(), Some("missed in wave db"));
        // Nothing launched: unmeasured, never met.
        let o = measure(&run(), resource, &[wave("db", None, resource, vec![server("s-1", None, None)], 0)]);
        assert_eq!(o.rpo.verdict, Judgement::Unmeasured);
    }

    #[test]
    fn the_critical_path_names_each_waves_last_launch() {
        let waves = [
            wave("db", Some(10), Targets::default(), vec![server("s-1", Some(10), None), server("s-2", Some(8), None)], 0),
            wave("app", Some(20), Targets::default(), vec![server("s-3", Some(19), None), server("s-4", Some(20), None)], 1),
        ];
        let o = measure(&run(), Targets::default(), &waves);
        let path: Vec<(&str, Option<&str>)> = o.critical_path.iter().map(|s| (s.name.as_str(), s.server.as_deref())).collect();
        assert_eq!(path, [("db", Some("s-1")), ("app", Some("s-4"))]);
        assert_eq!(waits_for(2, &[0]), [0], "a wave waits for what it depends on, not for the wave before it");
        assert_eq!(waits_for(1, &[0, 3]), [0], "earlier waves only");
    }
}

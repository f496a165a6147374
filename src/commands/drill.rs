//! `drs-orch drill MANIFEST`: plays the platform locally. For each layer in order, each DRS
//! resource of the layer in parallel: `activate` and its status checks (a task token per
//! resource, answered by the module itself), a progress bar per wave, paused waves approved
//! (`--approve auto`) or left to `drs-orch approve`; then `cleanup` of the drill. Each run's
//! report is the module's own (`report::from_ledger`), written to the reports bucket by the
//! lifecycle as under the platform (the bucket's keys are printed); the drill's report (JSON,
//! Markdown, HTML) puts the runs together in a local folder, and its JSON path is the last
//! line printed. Its times are the runs' own, on the module's clock. Against the embedded
//! simulator the clock moves one poll interval per wait; with `--aws`, real waits.

use crate::commands::approve;
use crate::embedded;
use drs_module::aws::Clients;
use drs_module::driver::{Driver, WaitFn};
use drs_module::error::ErrorCode;
use drs_module::lifecycle::LifecycleError;
use drs_module::recovery::run::Loaded;
use drs_module::recovery::status::{Status, WaveState};
use drs_module::report::store::{Location, Store};
use drs_module::report::{from_ledger, html, markdown, PhaseReport, ResourceReport, RunReport, Verdict};
use drs_module::resource::{DrsResource, Mode};
use drs_sim::client::Control;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Approve {
    /// Approve paused waves at once (the simulator only).
    Auto,
    /// Wait for `drs-orch approve TOKEN` (the drill prints the command).
    Wait,
}

#[derive(clap::Args)]
pub struct Args {
    /// The application manifest (layers of resources).
    manifest: PathBuf,
    #[command(flatten)]
    target: embedded::TargetArgs,
    /// Seconds between status checks (the platform's Wait state).
    #[arg(long, default_value_t = 30)]
    poll_seconds: u64,
    #[arg(long, value_enum, default_value = "auto")]
    approve: Approve,
    /// Keep the drill's recovery instances (no cleanup).
    #[arg(long)]
    keep: bool,
    /// Where the run's report is written (a folder per run inside).
    #[arg(long, default_value = "reports")]
    report_dir: PathBuf,
    /// Point-in-time recovery: every DRS resource of the manifest launches each server's
    /// newest recovery snapshot taken before this RFC 3339 time (its RecoverBefore).
    #[arg(long, value_parser = super::rfc3339)]
    recover_before: Option<chrono::DateTime<chrono::Utc>>,
}

struct Run {
    clients: Clients,
    control: Option<Control>,
    endpoint: Option<String>,
    poll: Duration,
    approve: Approve,
    bars: MultiProgress,
}

/// One resource's activation as the run saw it.
struct Activated {
    layer: u64,
    name: String,
    /// The run's record and plan, when it opened.
    run: Option<Loaded>,
    status: Option<Status>,
    error: Option<LifecycleError>,
    /// The run's report, built before cleanup terminates the instances whose launch times it
    /// holds (the module wrote the same to the reports bucket when the run ended).
    report: Option<RunReport>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut manifest: Value = super::read_manifest(&args.manifest)?;
    if let Some(t) = &args.recover_before {
        drs_module::manifest::set_parameter(&mut manifest, "RecoverBefore", json!(super::rfc3339_text(t)));
    }
    let layers = drs_module::manifest::layers(&manifest)?;
    anyhow::ensure!(layers.iter().any(|l| !l.resources.is_empty()), "{}: no DRS resource", args.manifest.display());
    let target = args.target.target().await?;
    let endpoint = target.sim.as_ref().map(|s| s.endpoint.clone());
    let clock = target.clock();
    let cfg = Arc::new(target.config);
    let run = Run {
        // The simulator's clock when there is one: the report's times are the run's own.
        clients: Clients::new(cfg, target.hub, "drill").with_clock(clock),
        control: endpoint.as_deref().map(Control::new),
        endpoint,
        poll: Duration::from_secs(args.poll_seconds.max(1)),
        approve: args.approve,
        bars: MultiProgress::new(),
    };
    let mut activated: Vec<Activated> = vec![];
    for layer in &layers {
        let results = futures::future::join_all(layer.resources.iter().map(|r| activate(&run, layer.layer, r))).await;
        let failed = results.iter().any(|a| a.error.is_some());
        activated.extend(results);
        if failed {
            run.say("a resource failed: later layers are not started");
            break;
        }
    }
    let mut cleanups: Vec<(String, Result<(), LifecycleError>)> = vec![];
    if !args.keep {
        for layer in layers.iter().rev() {
            for r in &layer.resources {
                if r.mode() == Mode::Recovery {
                    continue;
                }
                cleanups.push((r.name.clone(), cleanup(&run, r).await));
            }
        }
    }
    let (runs, written) = run_reports(&run, &activated, &cleanups).await;
    let report = report(&args, &run.clients, &activated, runs);
    let dir = args.report_dir.join(format!(
        "{}-{}",
        report.started.format("%Y%m%dT%H%M%SZ"),
        report.resources.first().map(|r| r.execution.as_str()).unwrap_or("run")
    ));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("report.md"), markdown::render(&report))?;
    std::fs::write(dir.join("report.html"), html::render(&report))?;
    let json_path = dir.join("report.json");
    std::fs::write(&json_path, report.json())?;
    for line in written {
        println!("{line}");
    }
    println!("drill {}: {} (report: Markdown and HTML beside it)", report.outcome_text(), args.manifest.display());
    println!("{}", json_path.display());
    anyhow::ensure!(report.outcome == Verdict::Succeeded, "the drill failed: see the report");
    Ok(())
}

impl Run {
    /// A line above the bars, or on stderr when there are no bars (not a terminal).
    fn say(&self, line: impl AsRef<str>) {
        if self.bars.is_hidden() {
            eprintln!("{}", line.as_ref());
        } else {
            let _ = self.bars.println(line.as_ref());
        }
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:<28} [{bar:30}] {pos:>4}/{len:<4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Waits one poll interval: the simulator's clock moves (and a moment passes, so that the
/// bars move too); against AWS, a real wait. A pending approval is answered first.
fn waiter(
    run: &Run,
    pending: Arc<Mutex<Option<String>>>,
) -> impl Fn(Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Sync {
    let control = run.control.clone();
    let hub = run.clients.hub().clone();
    let auto = run.approve == Approve::Auto;
    move |d: Duration| {
        let control = control.clone();
        let hub = hub.clone();
        let pending = pending.clone();
        Box::pin(async move {
            match &control {
                Some(c) => {
                    let arn = pending.lock().take();
                    if let (true, Some(arn)) = (auto, arn) {
                        match approve::sim_token(c, &arn).await {
                            Ok(t) => {
                                if let Err(e) = approve::send(&hub, &t, None).await {
                                    tracing::warn!(error = %e, "auto-approval failed");
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "auto-approval: no token"),
                        }
                    }
                    let _ = c.advance(d.as_secs_f64()).await;
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
                None => tokio::time::sleep(d).await,
            }
        })
    }
}

async fn parent_token(run: &Run) -> Option<String> {
    let c = run.control.as_ref()?;
    let v = c.ok("POST", "tokens", Some(&json!({"timeoutSeconds": 86400}))).await.ok()?;
    v["taskToken"].as_str().map(str::to_owned)
}

async fn activate(run: &Run, layer: u64, resource: &DrsResource) -> Activated {
    let name = resource.name.clone();
    let token = parent_token(run).await;
    let pending: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let wait = waiter(run, pending.clone());
    let wait: WaitFn = &wait;
    let bars: Mutex<Vec<ProgressBar>> = Mutex::new(vec![]);
    let asked: Mutex<Vec<String>> = Mutex::new(vec![]);
    let last: Mutex<Option<Status>> = Mutex::new(None);
    let driver = Driver { clients: &run.clients, poll: run.poll, max_checks: 100_000 };
    let on_detail = |d: &Value| {
        let Ok(st) = serde_json::from_value::<Status>(d.clone()) else { return };
        let mut bars = bars.lock();
        if bars.is_empty() {
            for w in &st.waves {
                let b = run.bars.add(ProgressBar::new(w.servers as u64));
                b.set_style(bar_style());
                let after = if w.after.is_empty() { String::new() } else { format!(" (after {})", w.after.join(", ")) };
                b.set_prefix(format!("{name}/{}{after}", w.name));
                bars.push(b);
            }
        }
        for (w, b) in st.waves.iter().zip(bars.iter()) {
            b.set_position((w.launched + w.failed + w.skipped) as u64);
            let steps: Vec<String> = w.steps.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let mut failed = if w.failed > 0 { format!(" {} failed", w.failed) } else { String::new() };
            if w.skipped > 0 {
                failed += &format!(" {} skipped by hooks", w.skipped);
            }
            b.set_message(format!("{:?}{failed} {}", w.state, steps.join(", ")).to_lowercase());
            if matches!(w.state, WaveState::Completed | WaveState::Failed) && !b.is_finished() {
                b.finish();
            }
            if let (WaveState::Paused, Some(arn)) = (w.state, &w.approval) {
                if !asked.lock().contains(arn) {
                    asked.lock().push(arn.clone());
                    let how = match (&run.approve, &run.endpoint) {
                        (Approve::Auto, Some(_)) => "approving it (--approve auto)".to_owned(),
                        (_, Some(e)) => {
                            format!("approve with: drs-orch approve --endpoint {e} TOKEN (the token: GET {e}/_sim/executions)")
                        }
                        (_, None) => {
                            "approve with: drs-orch approve TOKEN (the token is in the approval notification)".to_owned()
                        }
                    };
                    run.say(format!("{name}: wave {} waits for an approval ({arn}); {how}", w.name));
                    *pending.lock() = Some(arn.clone());
                }
            }
        }
        *last.lock() = Some(st);
    };
    // The manifest's resource is what the platform passes as StatePayload.
    let result = driver.run(&resource.source, "activate", token.as_deref(), wait, on_detail).await;
    for b in bars.lock().iter() {
        if !b.is_finished() {
            b.abandon();
        }
    }
    let (loaded, error) = match result {
        Ok(r) => (drs_module::recovery::run::of_payload(&run.clients, &r.payload).await.ok(), None),
        Err(e) => {
            run.say(format!("{name}: {}: {}", e.code, e.message));
            (None, Some(e))
        }
    };
    let status = last.into_inner();
    // A run that failed has its record too: its end is what the report says.
    let loaded = match (loaded, &status) {
        (Some(l), _) => Some(l),
        (None, Some(st)) => opened(run, resource, &st.execution).await,
        (None, None) => None,
    };
    let report = match &loaded {
        Some(l) => match from_ledger::build(&run.clients, l, status.as_ref()).await {
            Ok(mut r) => {
                r.resources.iter_mut().for_each(|res| res.layer = layer);
                Some(r)
            }
            Err(e) => {
                run.say(format!("{name}: the report could not be read back: {e:#}"));
                None
            }
        },
        None => None,
    };
    Activated { layer, name, run: loaded, status, error, report }
}

/// The run a resource opened under `execution`, read back from the ledger.
async fn opened(run: &Run, resource: &DrsResource, execution: &str) -> Option<Loaded> {
    let key = drs_module::ledger::RunKey::new(&resource.identity(), execution);
    drs_module::recovery::run::load(&run.clients, &key).await.ok()
}

async fn cleanup(run: &Run, resource: &DrsResource) -> Result<(), LifecycleError> {
    let name = resource.name.clone();
    let token = parent_token(run).await;
    let wait = waiter(run, Arc::new(Mutex::new(None)));
    let driver = Driver { clients: &run.clients, poll: run.poll, max_checks: 100_000 };
    let bar = run.bars.add(ProgressBar::new_spinner());
    bar.set_style(
        ProgressStyle::with_template("{prefix:<28} {spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(format!("{name}/cleanup"));
    let result = driver
        .run(&resource.source, "cleanup", token.as_deref(), &wait, |d| {
            bar.set_message(format!("{} recovery instances left", d["remaining"]))
        })
        .await;
    bar.finish_and_clear();
    match result {
        Ok(r) => {
            // The check that found nothing left, not the phase call's first count.
            let done = r.detail.as_ref().unwrap_or(&r.payload);
            run.say(format!("{name}: cleanup done ({} recovery instances left)", done["remaining"]));
            Ok(())
        }
        Err(e) => {
            run.say(format!("{name}: cleanup failed: {}: {}", e.code, e.message));
            Err(e)
        }
    }
}

/// Each run's report with its cleanup: the one the module wrote to the reports bucket (its
/// key printed), else the one built before cleanup with the cleanup as the ledger holds it.
async fn run_reports(run: &Run, activated: &[Activated], cleanups: &[(String, Result<(), LifecycleError>)]) -> RunReports {
    let store = Store::of(&run.clients);
    let mut out = vec![];
    let mut written = vec![];
    for a in activated {
        let (Some(l), Some(built)) = (&a.run, &a.report) else {
            out.push(None);
            continue;
        };
        let at: Option<Location> = store.as_ref().map(|s| s.location(&l.plan.resource, &l.plan.execution));
        let stored = match (&store, &at) {
            (Some(s), Some(at)) => match s.read(at).await {
                Ok(Some(r)) => {
                    written.push(format!("{}: run report {at}", a.name));
                    Some(r)
                }
                Ok(None) => {
                    run.say(format!("{}: no run report at {at} (see the log for why)", a.name));
                    None
                }
                Err(e) => {
                    run.say(format!("{}: the run report could not be read: {e}", a.name));
                    None
                }
            },
            _ => None,
        };
        let mut report = match stored {
            Some(r) => r,
            None => with_cleanup(run, a, l, built.clone(), cleanups).await,
        };
        report.resources.iter_mut().for_each(|res| res.layer = a.layer);
        out.push(Some(report));
    }
    (out, written)
}

/// Each activation's run report (None when no run opened), and where the module wrote them.
type RunReports = (Vec<Option<RunReport>>, Vec<String>);

/// The cleanup of `a`'s resource as the ledger recorded it on `a`'s run, when there was one.
async fn with_cleanup(
    run: &Run,
    a: &Activated,
    l: &Loaded,
    report: RunReport,
    cleanups: &[(String, Result<(), LifecycleError>)],
) -> RunReport {
    let Some((_, result)) = cleanups.iter().find(|(n, _)| *n == a.name) else { return report };
    let record = match drs_module::ledger::of(&run.clients).get(&l.plan.key()).await {
        Ok(Some(r)) => r,
        _ => return report,
    };
    let failure = result.as_ref().err().map(|e| (e.code, e.message.as_str()));
    let phase = from_ledger::cleanup_phase(&a.name, &record, &report, failure);
    from_ledger::with_phase(report, phase)
}

/// The drill's report: each run's as the module made it, one after the other; the drill's
/// start and end are the earliest run start and the latest run or cleanup end (the runs'
/// clock, never this process's wall time).
fn report(args: &Args, clients: &Clients, activated: &[Activated], runs: Vec<Option<RunReport>>) -> RunReport {
    let mut resources = vec![];
    let mut phases: Vec<PhaseReport> = vec![];
    let mut mode = Mode::Drill;
    let (mut started, mut ended) = (None::<chrono::DateTime<chrono::Utc>>, None::<chrono::DateTime<chrono::Utc>>);
    for (a, r) in activated.iter().zip(runs) {
        match r {
            Some(r) => {
                mode = r.mode;
                started = Some(started.map_or(r.started, |s| s.min(r.started)));
                let last = r.phases.iter().filter_map(|p| p.ended).chain([r.ended]).max().unwrap_or(r.ended);
                ended = Some(ended.map_or(last, |e| e.max(last)));
                resources.extend(r.resources);
                phases.extend(r.phases);
            }
            None => {
                let error = a.error.as_ref().map(|e| (e.code, e.message.clone()));
                resources.push(ResourceReport {
                    layer: a.layer,
                    resource: a.name.clone(),
                    execution: a.status.as_ref().map(|s| s.execution.clone()).unwrap_or_default(),
                    // No run and no error: activation ended without an answer to read.
                    outcome: Verdict::Failed(error.as_ref().map(|e| e.0).unwrap_or(ErrorCode::InternalError)),
                    error: error.map(|e| e.1),
                    partitions: vec![],
                    waves: vec![],
                    left_out: vec![],
                    objectives: None,
                    recover_before: None,
                })
            }
        }
    }
    let failed = resources
        .iter()
        .find(|r| r.outcome != Verdict::Succeeded)
        .map(|r| (r.outcome, None))
        .or_else(|| phases.iter().find(|p| p.outcome != Verdict::Succeeded).map(|p| (p.outcome, Some(p.phase.clone()))));
    // A drill that opened no run has no time of its own: now, on the module's clock.
    let now = clients.now();
    RunReport {
        source: args.manifest.display().to_string(),
        mode,
        started: started.unwrap_or(now),
        ended: ended.unwrap_or(now),
        clock: from_ledger::statement(clients),
        outcome: failed.as_ref().map(|f| f.0).unwrap_or(Verdict::Succeeded),
        failed_phase: failed.and_then(|f| f.1),
        resources,
        phases,
    }
}

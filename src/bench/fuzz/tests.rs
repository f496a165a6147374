//! The bounded run: every target, a few thousand inputs, no finding; the corpus itself: every
//! seed is accepted (so that the seeds reach past the first check) and every regression input
//! (`regress-*`) is rejected with a named field; and the engine's detections, each shown to
//! fire on a small synthetic target (a slow input, a stuck one, a lost worker, a 5xx, an
//! unnamed rejection) and the bench's exit to fail on any of them.

use super::corpus_dir;
use super::engine::{self, names_field, Corpus, Kind, Limits, Plan, Tally};
use super::mutate::Mutant;
use super::targets::{self, Root, Runner, Target, Verdict};
use super::Summary;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const INPUTS: u64 = 3000;

/// Unoptimized code is ten to fifty times slower than the bench's release build (a 2 MB input
/// the bench reads in 50 ms took over a second here), and the tests share two cores with the
/// other tests: the real targets' bounded run allows each input five seconds here, which
/// still catches what never ends or grows past linear, against the bench's 100 ms.
const DEBUG_LIMITS: Limits = Limits { slow: Duration::from_secs(5), stuck: Duration::from_secs(60) };

fn plan(run_seed: u64, count: u64, workers: usize, limits: Limits) -> Plan {
    Plan { run_seed, count, workers, limits }
}

fn corpus_of(target: &Target) -> Arc<Corpus> {
    Arc::new(Corpus::load(&corpus_dir().join(target.name)).expect("the target's corpus loads"))
}

#[test]
fn every_target_survives_a_bounded_run_and_names_the_field_it_refuses() {
    let mut failures = vec![];
    // FUZZ_ONLY=<target>,...: while working on some targets, the others need not run.
    let only = std::env::var("FUZZ_ONLY").unwrap_or_default();
    for target in targets::all().into_iter().filter(|t| only.is_empty() || only.split(',').any(|o| o == t.name)) {
        let t = engine::run(&target, &corpus_of(&target), &plan(7, INPUTS, 2, DEBUG_LIMITS));
        assert_eq!(t.inputs, INPUTS, "{}", target.name);
        assert!(t.rejects > 0, "{}: the mutations reach no refusal", target.name);
        eprintln!("{}: slowest {:?} (input {} of {})", target.name, t.slowest.took, t.slowest.index, t.slowest.seed);
        if t.findings_count() > 0 {
            failures.push(format!(
                "{}: panics={} unnamed={} hangs={} server_errors={} lost_workers={}",
                target.name, t.panics, t.unnamed, t.hangs, t.server_errors, t.lost_workers
            ));
            failures.extend(t.findings.iter().map(|f| format!("  #{} {}: {}\n    {}", f.index, f.seed, f.what, f.input)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn seeds_pass_and_regression_inputs_are_refused_with_the_field_named() {
    for target in targets::all() {
        let corpus = corpus_of(&target);
        for (name, value) in corpus.names.iter().zip(&corpus.values) {
            let input = Mutant { value: value.clone(), text: value.to_string() };
            let mut runner = (target.runner)();
            let verdict = runner(name, &input);
            match (name.starts_with("regress-"), verdict) {
                (false, Verdict::Accepted) => {}
                // A seed request is signed with a made-up signature: it passes every check but the last.
                (false, Verdict::Rejected(e)) if target.name == "sigv4" && e == "Signature: does not match" => {}
                (false, Verdict::Rejected(e)) => panic!("{}/{name}: a seed is refused: {e}", target.name),
                (_, Verdict::ServerError(e)) => panic!("{}/{name}: a server error: {e}", target.name),
                (true, Verdict::Accepted) => panic!("{}/{name}: a regression input is accepted", target.name),
                (true, Verdict::Rejected(e)) => {
                    assert!(names_field(&e, &corpus, &input, &target), "{}/{name}: names no field: {e}", target.name)
                }
            }
        }
    }
}

#[test]
fn the_same_seed_runs_the_same_inputs() {
    let target = targets::all().into_iter().find(|t| t.name == "resource").expect("the resource target");
    let corpus = corpus_of(&target);
    let a = engine::run(&target, &corpus, &plan(3, 500, 1, DEBUG_LIMITS));
    let b = engine::run(&target, &corpus, &plan(3, 500, 2, DEBUG_LIMITS));
    assert_eq!((a.rejects, a.panics), (b.rejects, b.panics), "the worker count changes nothing");
}

// The engine's detections, on synthetic targets. Seeds: `fast` and `slow` (inputs alternate
// between them, input i from seed i % 2).

fn synthetic(runner: fn() -> Runner) -> Target {
    Target { name: "synthetic", text: false, document: "the input", root: Root::Object, fields: &[], runner }
}

fn two_seeds() -> Arc<Corpus> {
    let values = vec![json!({"x": 1}), json!({"x": 2})];
    Arc::new(Corpus { names: vec!["fast".into(), "slow".into()], values, keys: ["x".to_owned()].into() })
}

fn run_synthetic(runner: fn() -> Runner, count: u64, limits: Limits) -> Tally {
    engine::run(&synthetic(runner), &two_seeds(), &plan(1, count, 2, limits))
}

/// An input over the slow limit, twice, is a hang; the others are not; the slowest is named.
#[test]
fn an_input_slower_than_the_limit_is_a_hang() {
    let t = run_synthetic(
        || {
            Box::new(|seed, _| {
                if seed == "slow" {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Verdict::Accepted
            })
        },
        6,
        Limits::BENCH,
    );
    assert_eq!(t.inputs, 6);
    assert_eq!(t.hangs, 3, "inputs 1, 3 and 5 come from the slow seed: {:?}", t.findings);
    let hung: Vec<u64> = t.findings.iter().filter(|f| f.kind == Kind::Hang).map(|f| f.index).collect();
    assert_eq!(hung, [1, 3, 5]);
    assert!(t.slowest.took >= Duration::from_millis(200) && t.slowest.seed == "slow", "{:?}", t.slowest);
    assert_eq!(t.findings_count(), 3);
}

/// A slow input that is fast when timed again was the machine, not the input: no hang.
#[test]
fn an_input_slow_once_is_timed_again_and_not_a_hang() {
    let t = run_synthetic(
        || {
            let mut calls = 0;
            Box::new(move |_, _| {
                calls += 1;
                if calls == 1 {
                    std::thread::sleep(Duration::from_millis(150));
                }
                Verdict::Accepted
            })
        },
        4,
        Limits::BENCH,
    );
    assert_eq!((t.inputs, t.hangs), (4, 0), "{:?}", t.findings);
}

/// An input that never ends is reported while it runs and its worker abandoned: the run
/// returns long before the input would, with the input counted a hang and the run short.
#[test]
fn an_input_that_does_not_end_is_a_hang_and_the_run_returns() {
    let started = Instant::now();
    let t = run_synthetic(
        || {
            Box::new(|seed, _| {
                if seed == "slow" {
                    std::thread::sleep(Duration::from_secs(5));
                }
                Verdict::Accepted
            })
        },
        4,
        Limits { slow: Duration::from_millis(100), stuck: Duration::from_millis(300) },
    );
    assert!(started.elapsed() < Duration::from_secs(3), "the run waited for the stuck input: {:?}", started.elapsed());
    assert_eq!(t.hangs, 1, "{:?}", t.findings);
    let hang = t.findings.iter().find(|f| f.kind == Kind::Hang).expect("the hang's finding");
    assert_eq!((hang.index, hang.seed.as_str()), (1, "slow"), "{}", hang.what);
    assert!(t.inputs < 4, "the stuck worker's inputs are missing: {}", t.inputs);
}

/// A stuck input that ends while the other worker still runs: its worker stops there (it was
/// given up) and the hang is counted once, by the worker itself.
#[test]
fn an_abandoned_worker_that_wakes_stops_and_counts_its_hang_once() {
    let t = run_synthetic(
        || {
            Box::new(|seed, _| {
                let pause = if seed == "slow" { 700 } else { 60 };
                std::thread::sleep(Duration::from_millis(pause));
                Verdict::Accepted
            })
        },
        40,
        Limits { slow: Duration::from_millis(1000), stuck: Duration::from_millis(300) },
    );
    assert_eq!(t.hangs, 1, "{:?}", t.findings);
    assert_eq!(t.inputs, 21, "the fast worker's 20 inputs and the one the slow worker ended on");
    let hang = t.findings.iter().find(|f| f.kind == Kind::Hang).expect("the hang's finding");
    assert_eq!(hang.index, 1, "{}", hang.what);
}

/// A runner that cannot be built panics outside `catch_unwind`: every worker is lost, and
/// counted, instead of the run reporting nothing run as nothing found.
#[test]
fn a_worker_that_panics_outside_catch_unwind_is_counted_lost() {
    let t = run_synthetic(|| panic!("the runner cannot be built"), 10, Limits::BENCH);
    assert_eq!((t.lost_workers, t.inputs), (2, 0));
    assert!(
        t.findings.iter().all(|f| f.kind == Kind::LostWorker && f.what.contains("the runner cannot be built")),
        "{:?}",
        t.findings
    );
}

/// A panic whose payload panics when dropped escapes the input's `catch_unwind` (the payload
/// is dropped after it): the worker is lost and counted, the other worker's inputs still run.
#[test]
fn a_panic_payload_that_panics_on_drop_loses_its_worker() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("the payload's drop panics");
        }
    }
    let t = run_synthetic(
        || {
            Box::new(|seed, _| match seed {
                "slow" => std::panic::panic_any(Bomb),
                _ => Verdict::Accepted,
            })
        },
        10,
        Limits::BENCH,
    );
    assert_eq!(t.lost_workers, 1, "{:?}", t.findings);
    assert_eq!(t.inputs, 5, "the fast seed's worker ran its 5 inputs");
    let lost = t.findings.iter().find(|f| f.kind == Kind::LostWorker).expect("the lost worker's finding");
    assert!(lost.what.contains("the payload's drop panics"), "{}", lost.what);
}

/// A 5xx is a finding of its own, never an acceptance or a rejection.
#[test]
fn a_server_error_is_counted() {
    let t = run_synthetic(
        || {
            Box::new(|seed, _| match seed {
                "slow" => Verdict::ServerError("500 InternalFailure: boom".into()),
                _ => Verdict::Accepted,
            })
        },
        10,
        Limits::BENCH,
    );
    assert_eq!((t.server_errors, t.rejects), (5, 0));
    assert!(t.findings.iter().all(|f| f.kind == Kind::ServerError && f.what.contains("InternalFailure")));
}

/// The simulator targets' verdicts: a 5xx from a handler is a server error.
#[test]
fn the_simulator_targets_take_a_5xx_for_a_server_error() {
    let e = drs_sim::protocol::ApiError::new(500, "InternalFailure", "boom");
    assert!(matches!(targets::api_verdict(Err(e.clone())), Verdict::ServerError(m) if m.contains("InternalFailure")));
    assert!(matches!(targets::dynamodb_verdict(Err(e)), Verdict::ServerError(_)));
    let e = drs_sim::protocol::ApiError::new(400, "ValidationException", "x: bad");
    assert!(matches!(targets::api_verdict(Err(e)), Verdict::Rejected(_)));
}

/// A rejection that names no field is a finding; one that names its field is not.
#[test]
fn an_unnamed_rejection_is_counted() {
    let t = run_synthetic(
        || {
            Box::new(|seed, _| match seed {
                "slow" => Verdict::Rejected("something is wrong".into()),
                _ => Verdict::Rejected("x: must be a string".into()),
            })
        },
        10,
        Limits::BENCH,
    );
    assert_eq!((t.rejects, t.unnamed), (10, 5));
}

/// The bench fails on any finding, and when fewer inputs ran than asked.
#[test]
fn the_bench_fails_on_any_finding_or_a_short_run() {
    let clean = Tally { inputs: 100, ..Default::default() };
    let mut sum = Summary::default();
    sum.add("a", &clean, 100);
    assert!(sum.result().is_ok(), "{}", sum.line());
    assert!(sum.line().starts_with("bench fuzz: targets=1 inputs=100 panics=0 hangs=0 server_errors=0 lost_workers=0 unnamed=0"));
    for bad in [
        Tally { panics: 1, ..Default::default() },
        Tally { hangs: 1, ..Default::default() },
        Tally { server_errors: 1, ..Default::default() },
        Tally { lost_workers: 1, ..Default::default() },
        Tally { unnamed: 1, ..Default::default() },
    ] {
        let mut sum = Summary::default();
        sum.add("a", &Tally { inputs: 100, ..bad }, 100);
        assert!(sum.result().is_err(), "{}", sum.line());
    }
    let mut short = Summary::default();
    short.add("a", &Tally { inputs: 99, ..Default::default() }, 100);
    assert!(short.result().is_err() && short.line().contains("missing_inputs=1"), "{}", short.line());
}

/// A key a raw mutation made (`hooooks`, a byte run doubled) and the error cites by its
/// pointer is named; a word that is no key is not.
#[test]
fn a_key_made_by_a_raw_mutation_counts_as_named() {
    let corpus = Corpus { names: vec!["a".into()], values: vec![json!({"hooks": 1})], keys: ["hooks".to_owned()].into() };
    let target = Target { text: true, ..synthetic(|| Box::new(|_, _| Verdict::Accepted)) };
    let input = Mutant { value: json!({"hooks": 1}), text: r#"{"hooooks": 1}"#.into() };
    assert!(names_field("at /hooooks: not a known parameter", &corpus, &input, &target));
    assert!(!names_field("at /elsewhere: not a known parameter", &corpus, &input, &target));
}

/// A long key the simulator cites cut, marked with `…`, is named when the cut begins a key of
/// the input; a cut that begins none, or one too short to tell, is not.
#[test]
fn a_long_key_cited_cut_and_marked_is_named() {
    let long = format!("{}zz", "k".repeat(70));
    let corpus = Corpus { names: vec!["a".into()], values: vec![json!({"hooks": 1})], keys: ["hooks".to_owned()].into() };
    let target = Target { text: true, ..synthetic(|| Box::new(|_, _| Verdict::Accepted)) };
    let input = Mutant { value: json!({"hooks": 1}), text: format!(r#"{{"{long}": [[[1]]]}}"#) };
    let cited = |stem: &str| format!("SerializationException: the body nests 4 levels deep (in '{stem}…'), over 3");
    assert!(names_field(&cited(&"k".repeat(64)), &corpus, &input, &target));
    assert!(!names_field(&cited(&"q".repeat(64)), &corpus, &input, &target), "begins no key");
    assert!(!names_field(&cited("kkkk"), &corpus, &input, &target), "too short to tell");
}

/// Not a check, a tool: replays inputs the bench reported (`PROBE=<target>:<input>,...`, the
/// bench's default seed) twenty times each and prints their size and times, as the bench times
/// them (`PROBE_DUMP=<dir>` writes each input there too). `PROBE=http-route:969398 cargo test --release --bin drs-orch replay -- --ignored --nocapture`
#[test]
#[ignore]
fn replay_reported_inputs() {
    let cases: Vec<(String, u64)> = std::env::var("PROBE")
        .unwrap_or_default()
        .split(',')
        .filter_map(|c| c.split_once(':').map(|(t, i)| (t.to_owned(), i.parse().unwrap())))
        .collect();
    for (name, i) in cases {
        let target = targets::all().into_iter().find(|t| t.name == name).unwrap();
        let corpus = corpus_of(&target);
        let (seed, input) = corpus.input(&target, 11, i);
        let mut runner = (target.runner)();
        // PROBE_WORKERS=<n>: first replay what the bench's worker ran since its runner was last
        // made afresh (targets with state, such as the simulator's world, depend on it).
        if let Some(workers) = std::env::var("PROBE_WORKERS").ok().and_then(|w| w.parse::<u64>().ok()) {
            let n = i / workers;
            for m in n - n % engine::FRESH_EVERY as u64..n {
                let (seed, input) = corpus.input(&target, 11, m * workers + i % workers);
                engine::timed(&mut runner, &corpus.names[seed], &input);
            }
        }
        let mut times = vec![];
        for _ in 0..20 {
            let (_, took) = engine::timed(&mut runner, &corpus.names[seed], &input);
            times.push(took.as_millis());
        }
        eprintln!("{name} {i}: {} bytes, ms {times:?}", input.text.len());
        if let Ok(dir) = std::env::var("PROBE_DUMP") {
            std::fs::write(format!("{dir}/{name}-{i}.json"), &input.text).unwrap();
        }
    }
}

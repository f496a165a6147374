//! The fuzzing loop shared by `bench fuzz` and the bounded run of the tests: input `i` of a
//! target is the mutation of one of its seeds by an RNG seeded from (run seed, target, i), so
//! any input is reproduced from those three numbers. Each input runs through the target's real
//! entry point under `catch_unwind`, timed; a rejection must name a field (`names_field`).
//!
//! What counts as a finding: a panic; a rejection that names no field; a 5xx reply; an input
//! slower than `Limits::slow` (timed twice, so that a busy machine is not taken for a hang);
//! an input still running after `Limits::stuck` (reported while it runs, its worker abandoned);
//! a worker that died outside `catch_unwind` (every worker is joined and counted).

use super::mutate::{mutate, Mutant};
use super::targets::{Root, Runner, Target, Verdict};
use super::watch::{Beats, Watch};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A target's checked-in seeds: `fuzz/corpus/<target>/*.json`, sorted by file name.
pub struct Corpus {
    pub names: Vec<String>,
    pub values: Vec<Value>,
    /// Every object key in the seeds: the field names an error may cite.
    pub keys: BTreeSet<String>,
}

impl Corpus {
    pub fn load(dir: &Path) -> anyhow::Result<Corpus> {
        let mut files: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        anyhow::ensure!(!files.is_empty(), "{}: no seeds", dir.display());
        let (mut names, mut values, mut keys) = (vec![], vec![], BTreeSet::new());
        for f in files {
            let v: Value =
                serde_json::from_str(&std::fs::read_to_string(&f)?).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
            collect_keys(&v, &mut keys);
            names.push(f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
            values.push(v);
        }
        Ok(Corpus { names, values, keys })
    }

    /// Input `i` of `target` in the run seeded `run_seed`, and the index of its seed.
    pub fn input(&self, target: &Target, run_seed: u64, i: u64) -> (usize, Mutant) {
        let mut rng = StdRng::seed_from_u64(input_seed(run_seed, target.name, i));
        let seed = (i % self.values.len() as u64) as usize;
        (seed, mutate(&mut rng, &self.values, seed, target.text))
    }
}

fn collect_keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.insert(k.to_ascii_lowercase());
                // Form keys (`Filter.1.Name`) are cited by their parts too.
                out.extend(k.split('.').map(str::to_ascii_lowercase));
                collect_keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_keys(x, out)),
        _ => {}
    }
}

/// How long an input may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Slower than this (twice in a row) is a hang.
    pub slow: Duration,
    /// Still running after this: reported as a hang while it runs, and its worker abandoned
    /// (a thread cannot be stopped), so that an endless loop cannot hold the run forever.
    pub stuck: Duration,
}

impl Limits {
    /// The bench's: an input of a parser takes microseconds; 100 ms is a thousand times that.
    pub const BENCH: Limits = Limits { slow: Duration::from_millis(100), stuck: Duration::from_secs(10) };
}

/// One run of a target: inputs `[0, count)` on `workers` threads.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub run_seed: u64,
    pub count: u64,
    pub workers: usize,
    pub limits: Limits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Panic,
    Hang,
    ServerError,
    LostWorker,
    Unnamed,
}

/// One input (or worker) that broke the contract, kept to be reported and added to the corpus.
#[derive(Debug)]
pub struct Finding {
    pub kind: Kind,
    pub index: u64,
    pub seed: String,
    pub input: String,
    pub what: String,
}

/// The slowest input of a run (its second timing when it was timed twice).
#[derive(Debug, Clone, Default)]
pub struct Slowest {
    pub took: Duration,
    pub index: u64,
    pub seed: String,
}

#[derive(Debug, Default)]
pub struct Tally {
    pub inputs: u64,
    pub rejects: u64,
    pub panics: u64,
    pub unnamed: u64,
    pub hangs: u64,
    pub server_errors: u64,
    pub lost_workers: u64,
    pub elapsed: Duration,
    pub slowest: Slowest,
    pub findings: Vec<Finding>,
}

impl Tally {
    /// Findings of every kind, counted.
    pub fn findings_count(&self) -> u64 {
        self.panics + self.unnamed + self.hangs + self.server_errors + self.lost_workers
    }

    fn add(&mut self, p: Tally) {
        self.inputs += p.inputs;
        self.rejects += p.rejects;
        self.panics += p.panics;
        self.unnamed += p.unnamed;
        self.hangs += p.hangs;
        self.server_errors += p.server_errors;
        self.lost_workers += p.lost_workers;
        if p.slowest.took > self.slowest.took {
            self.slowest = p.slowest;
        }
        self.findings.extend(p.findings);
    }

    /// Keeps at most `MAX_FINDINGS` of each kind, in input order, so that many panics do not
    /// hide the one hang.
    fn keep_findings(&mut self) {
        self.findings.sort_by_key(|f| (f.kind, f.index));
        let mut kept = Vec::new();
        let mut last = None;
        let mut n = 0;
        for f in self.findings.drain(..) {
            n = if last == Some(f.kind) { n + 1 } else { 0 };
            last = Some(f.kind);
            if n < MAX_FINDINGS {
                kept.push(f);
            }
        }
        self.findings = kept;
    }
}

const MAX_FINDINGS: usize = 20;

/// A worker makes its runner afresh after this many inputs (`run_slice`).
pub(super) const FRESH_EVERY: usize = 2000;

/// Runs `plan` over `target` on `plan.workers` threads, joins every one and counts those lost;
/// the inputs and their verdicts do not depend on the number of workers.
pub fn run(target: &Target, corpus: &Arc<Corpus>, plan: &Plan) -> Tally {
    let started = Instant::now();
    let workers = plan.workers.max(1);
    let beats = Beats::new(workers);
    let mut handles = Vec::with_capacity(workers);
    let mut total = Tally::default();
    for w in 0..workers {
        let (target, corpus, beats, plan) = (*target, corpus.clone(), beats.clone(), *plan);
        let indexes = (w as u64..plan.count).step_by(workers);
        let spawned = std::thread::Builder::new()
            .name(format!("fuzz-{}-{w}", target.name))
            .spawn(move || run_slice(&target, &corpus, &plan, indexes, &beats.worker(w)));
        match spawned {
            Ok(h) => handles.push((w, h)),
            Err(e) => lost(&mut total, w, format!("could not start: {e}")),
        }
    }
    let mut watch = Watch::new(beats, plan.limits.stuck);
    for (w, outcome) in watch.join(handles) {
        match outcome {
            Ok(part) => total.add(part),
            Err(message) => lost(&mut total, w, message),
        }
    }
    for stuck in watch.stuck() {
        total.hangs += 1;
        let (seed, input) = corpus.input(target, plan.run_seed, stuck.index);
        total.findings.push(Finding {
            kind: Kind::Hang,
            index: stuck.index,
            seed: corpus.names[seed].clone(),
            input: shown(&input),
            what: format!("hang: still running after {} ms; its worker was abandoned", stuck.running.as_millis()),
        });
    }
    total.keep_findings();
    total.elapsed = started.elapsed();
    total
}

fn lost(total: &mut Tally, worker: usize, message: String) {
    total.lost_workers += 1;
    total.findings.push(Finding {
        kind: Kind::LostWorker,
        index: worker as u64,
        seed: String::new(),
        input: String::new(),
        what: format!("lost worker {worker}: {message}"),
    });
}

/// What one input came to, after its timing.
pub(super) enum Outcome {
    Verdict(Verdict),
    Panicked(String),
}

fn run_slice(
    target: &Target,
    corpus: &Corpus,
    plan: &Plan,
    indexes: impl Iterator<Item = u64>,
    beat: &super::watch::Beat<'_>,
) -> Tally {
    let mut tally = Tally::default();
    let mut runner: Runner = (target.runner)();
    for (n, i) in indexes.enumerate() {
        // Handlers that keep state (the simulator's world) start afresh now and then.
        if n > 0 && n % FRESH_EVERY == 0 {
            runner = (target.runner)();
        }
        let (seed, input) = corpus.input(target, plan.run_seed, i);
        let seed_name = &corpus.names[seed];
        tally.inputs += 1;
        beat.start(i);
        let (mut outcome, mut took) = timed(&mut runner, seed_name, &input);
        beat.stop();
        if beat.abandoned() {
            // It ran past the stuck limit, and the run has moved on without this worker.
            tally.hangs += 1;
            let what = format!("hang: {} ms, past the stuck limit; its worker was abandoned", took.as_millis());
            push(&mut tally, Kind::Hang, i, seed_name, &input, what);
            break;
        }
        if took > plan.limits.slow {
            // Once more: a machine busy with other work can stall any input once.
            let first = took;
            beat.start(i);
            (outcome, took) = timed(&mut runner, seed_name, &input);
            beat.stop();
            if took > plan.limits.slow {
                tally.hangs += 1;
                let what = format!("hang: {} ms, then {} ms again", first.as_millis(), took.as_millis());
                push(&mut tally, Kind::Hang, i, seed_name, &input, what);
            }
        }
        if took > tally.slowest.took {
            tally.slowest = Slowest { took, index: i, seed: seed_name.clone() };
        }
        match outcome {
            Outcome::Panicked(message) => {
                tally.panics += 1;
                push(&mut tally, Kind::Panic, i, seed_name, &input, format!("panic: {message}"));
                runner = (target.runner)();
            }
            Outcome::Verdict(Verdict::Accepted) => {}
            Outcome::Verdict(Verdict::ServerError(reply)) => {
                tally.server_errors += 1;
                push(&mut tally, Kind::ServerError, i, seed_name, &input, format!("server error: {reply}"));
            }
            Outcome::Verdict(Verdict::Rejected(error)) => {
                tally.rejects += 1;
                if !names_field(&error, corpus, &input, target) {
                    tally.unnamed += 1;
                    push(&mut tally, Kind::Unnamed, i, seed_name, &input, format!("unnamed rejection: {error}"));
                }
            }
        }
    }
    tally
}

std::thread_local! {
    /// When the runner of the input now running called its entry point (`begin`).
    static BEGAN: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// A runner calls this just before the entry point it tests: what it did before (turning the
/// fuzz input into what that entry point takes: a DynamoDB item, an HTTP request, a memory
/// image) is the harness's time, not the target's. A runner that never calls it is timed whole.
pub fn begin() {
    BEGAN.with(|b| b.set(Some(Instant::now())));
}

pub(super) fn timed(runner: &mut Runner, seed: &str, input: &Mutant) -> (Outcome, Duration) {
    BEGAN.with(|b| b.set(None));
    let started = Instant::now();
    let verdict = catch_unwind(AssertUnwindSafe(|| runner(seed, input)));
    let took = BEGAN.with(|b| b.get()).unwrap_or(started).elapsed();
    let outcome = match verdict {
        Ok(v) => Outcome::Verdict(v),
        Err(payload) => Outcome::Panicked(panic_message(payload)),
    };
    (outcome, took)
}

/// A panic's message. The payload is dropped here, outside `catch_unwind`: a payload whose
/// drop panics ends the worker, which the join counts as lost.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn push(tally: &mut Tally, kind: Kind, index: u64, seed: &str, input: &Mutant, what: String) {
    let kept = tally.findings.iter().filter(|f| f.kind == kind).count();
    if kept < MAX_FINDINGS {
        tally.findings.push(Finding { kind, index, seed: seed.to_owned(), input: shown(input), what });
    }
}

fn input_seed(run_seed: u64, target: &str, i: u64) -> u64 {
    let t = target.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    run_seed ^ t ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn shown(input: &Mutant) -> String {
    input.text.chars().take(600).collect()
}

/// Words of serde's and the schema's own prose that are also keys somewhere (`Value` in a tag
/// list, `type`): they never count as naming a field.
const PROSE: &[&str] = &[
    "value", "type", "length", "field", "variant", "expected", "string", "integer", "map", "a", "is", "not", "at", "line",
    "column",
];

/// The stems of quoted citations cut short and marked so (`'stem…'`), at least 16 characters.
fn cut_citations(error: &str) -> impl Iterator<Item = &str> {
    let pieces: Vec<&str> = error.split("…'").collect();
    // Every piece but the last ends where a mark was.
    let marked = pieces.len().saturating_sub(1);
    pieces
        .into_iter()
        .take(marked)
        .filter_map(|before| before.rsplit_once('\'').map(|(_, stem)| stem))
        .filter(|stem| stem.chars().count() >= 16)
}

/// What "names the field" means, for every target:
/// - the error cites a field by name: a word of the error (split on anything but letters,
///   digits, `_` and `-`, compared without case) is an object key of the seeds, of the input
///   (a renamed or added key the error calls unknown), or one of the target's own fields
///   (headers, parameters); JSON pointers and paths (`/waves/0/groups`, `waves[0].groups`) are
///   made of such words;
/// - or the input has no fields to name: its root is not what the document's is (an object;
///   a manifest's, an array), or its text is not JSON, and the error names the document
///   (`target.document`) or the position (`line N`);
/// - or a long key is cited cut, the cut marked (`'stem…'`), and the stem begins a key.
pub fn names_field(error: &str, corpus: &Corpus, input: &Mutant, target: &Target) -> bool {
    let mut input_keys = BTreeSet::new();
    collect_keys(&input.value, &mut input_keys);
    // A raw mutation may have made a key of its own: one of a word (`hooooks`) is named as
    // any key is; one of other characters too (`ap}provals`) when cited quoted.
    if target.text {
        if let Ok(parsed) = serde_json::from_str::<Value>(&input.text) {
            let mut raw_keys = BTreeSet::new();
            collect_keys(&parsed, &mut raw_keys);
            let lower = error.to_ascii_lowercase();
            if raw_keys.iter().any(|k| lower.contains(&format!("'{k}'")) || lower.contains(&format!("`{k}`"))) {
                return true;
            }
            // A long key cited cut, its cut marked (`'abc…'`): named if it begins a key.
            if cut_citations(&lower).any(|stem| raw_keys.iter().any(|k| k.len() > stem.len() && k.starts_with(stem))) {
                return true;
            }
            input_keys.extend(raw_keys);
        }
    }
    let cited = error
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .filter(|w| !PROSE.contains(&w.as_str()))
        .any(|w| corpus.keys.contains(&w) || input_keys.contains(&w) || target.fields.iter().any(|f| f.eq_ignore_ascii_case(&w)));
    if cited {
        return true;
    }
    let parsed: Option<Value> = if target.text { serde_json::from_str(&input.text).ok() } else { Some(input.value.clone()) };
    let no_fields =
        !matches!((target.root, &parsed), (Root::Object, Some(Value::Object(_))) | (Root::Array, Some(Value::Array(_))));
    no_fields && (error.contains(target.document) || error.contains("line ") || error.contains("at /:"))
}

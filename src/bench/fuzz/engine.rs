//! The fuzzing loop shared by `bench fuzz` and the bounded run of the tests: input `i` of a
//! target is the mutation of one of its seeds by an RNG seeded from (run seed, target, i), so
//! any input is reproduced from those three numbers. Each input runs through the target's real
//! entry point under `catch_unwind`; a rejection must name a field (`names_field`).

use super::mutate::{mutate, Mutant};
use super::targets::{Runner, Target, Verdict};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
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

/// One input that broke the contract, kept to be reported and added to the corpus.
#[derive(Debug)]
pub struct Finding {
    pub index: u64,
    pub seed: String,
    pub input: String,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct Tally {
    pub inputs: u64,
    pub rejects: u64,
    pub panics: u64,
    pub unnamed: u64,
    pub elapsed: Duration,
    pub findings: Vec<Finding>,
}

/// Runs inputs `[0, count)` of `target` on `workers` threads; the result does not depend
/// on the number of workers.
pub fn run(target: &Target, corpus: &Corpus, run_seed: u64, count: u64, workers: usize) -> Tally {
    let started = Instant::now();
    let workers = workers.max(1) as u64;
    let mut total = Tally::default();
    let parts: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| s.spawn(move || run_slice(target, corpus, run_seed, (w..count).step_by(workers as usize))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    for p in parts {
        total.inputs += p.inputs;
        total.rejects += p.rejects;
        total.panics += p.panics;
        total.unnamed += p.unnamed;
        total.findings.extend(p.findings);
    }
    total.findings.sort_by_key(|f| f.index);
    total.findings.truncate(20);
    total.elapsed = started.elapsed();
    total
}

fn run_slice(target: &Target, corpus: &Corpus, run_seed: u64, indexes: impl Iterator<Item = u64>) -> Tally {
    let mut tally = Tally::default();
    let mut runner: Runner = (target.runner)();
    for (n, i) in indexes.enumerate() {
        // Handlers that keep state (the simulator's world) start afresh now and then.
        if n > 0 && n % 2000 == 0 {
            runner = (target.runner)();
        }
        let mut rng = StdRng::seed_from_u64(input_seed(run_seed, target.name, i));
        let seed = (i % corpus.values.len() as u64) as usize;
        let input = mutate(&mut rng, &corpus.values, seed, target.text);
        tally.inputs += 1;
        let verdict = catch_unwind(AssertUnwindSafe(|| runner(&corpus.names[seed], &input)));
        let mut finding = |what: String| {
            if tally.findings.len() < 20 {
                tally.findings.push(Finding { index: i, seed: corpus.names[seed].clone(), input: shown(&input), what });
            }
        };
        match verdict {
            Err(payload) => {
                tally.panics += 1;
                let message =
                    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()));
                finding(format!("panic: {}", message.unwrap_or_default()));
                runner = (target.runner)();
            }
            Ok(Verdict::Accepted) => {}
            Ok(Verdict::Rejected(error)) => {
                tally.rejects += 1;
                if !names_field(&error, corpus, &input, target) {
                    tally.unnamed += 1;
                    finding(format!("unnamed rejection: {error}"));
                }
            }
        }
    }
    tally
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

/// What "names the field" means, for every target:
/// - the error cites a field by name: a word of the error (split on anything but letters,
///   digits, `_` and `-`, compared without case) is an object key of the seeds, of the input
///   (a renamed or added key the error calls unknown), or one of the target's own fields
///   (headers, parameters); JSON pointers and paths (`/waves/0/groups`, `waves[0].groups`) are
///   made of such words;
/// - or the input has no fields to name: its root is not an object, or its text is not JSON,
///   and the error names the document (`target.document`) or the position (`line N`).
pub fn names_field(error: &str, corpus: &Corpus, input: &Mutant, target: &Target) -> bool {
    let mut input_keys = BTreeSet::new();
    collect_keys(&input.value, &mut input_keys);
    // A raw mutation may have made a key of its own (`ap}provals`): cited quoted, it is named.
    if target.text {
        if let Ok(parsed) = serde_json::from_str::<Value>(&input.text) {
            let mut raw_keys = BTreeSet::new();
            collect_keys(&parsed, &mut raw_keys);
            let lower = error.to_ascii_lowercase();
            if raw_keys.iter().any(|k| lower.contains(&format!("'{k}'")) || lower.contains(&format!("`{k}`"))) {
                return true;
            }
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
    let no_fields = !matches!(parsed, Some(Value::Object(_)));
    no_fields && (error.contains(target.document) || error.contains("line ") || error.contains("at /:"))
}

//! `bench fuzz`: structure-aware fuzzing of every parser that takes outside input (the module
//! event, a resource's parameters, the module configuration and where it is read from, the
//! fleet file, manifests, the lifecycle payload, the run ledger's records, hook samples, what
//! a hook returns, the hook cache's record, the simulator's HTTP routing, SigV4 headers, JSON
//! bodies and query forms). Each target starts from its checked-in seeds
//! (`fuzz/corpus/<target>/`) and runs at least a million inputs. A finding is a panic, a
//! rejection that names no field, a 5xx reply, an input slower than 100 ms, or a worker lost
//! outside `catch_unwind`; each is printed with its input, and the bench exits non-zero on
//! any, or when fewer inputs ran than asked. The tests run the same engine on a few thousand
//! inputs per target.

mod engine;
mod mutate;
mod targets;
#[cfg(test)]
mod tests;
mod watch;

use engine::{Corpus, Kind, Limits, Plan, Tally};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Inputs per target.
    #[arg(long, default_value_t = 1_000_000)]
    inputs: u64,
    /// The run's seed: the same seed runs the same inputs.
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// Only the targets named (comma-separated); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

/// The run found something, or ran short: the bench's exit is non-zero.
#[derive(Debug, thiserror::Error)]
#[error("bench fuzz: {findings} finding(s), {missing} input(s) fewer than asked")]
pub struct Failed {
    findings: u64,
    missing: u64,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let unknown: Vec<&String> = args.only.iter().filter(|o| !targets::all().iter().any(|t| t.name == o.as_str())).collect();
    anyhow::ensure!(unknown.is_empty(), "--only: no target named {unknown:?}");
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let plan = Plan { run_seed: args.seed, count: args.inputs, workers, limits: Limits::BENCH };
    // Panics are counted and shown as findings; the default hook would print each one.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut sum = Summary::default();
    for target in targets::all() {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == target.name) {
            continue;
        }
        let corpus = Arc::new(Corpus::load(&corpus_dir().join(target.name))?);
        let t = tokio::task::block_in_place(|| engine::run(&target, &corpus, &plan));
        print_target(target.name, corpus.values.len(), &t);
        sum.add(target.name, &t, args.inputs);
    }
    std::panic::set_hook(hook);
    println!("{}", sum.line());
    Ok(sum.result()?)
}

fn print_target(name: &str, seeds: usize, t: &Tally) {
    println!(
        "{name:<16} seeds={seeds:<3} inputs={} rejects={} panics={} hangs={} server_errors={} lost_workers={} unnamed={} \
         inputs/s={:.0} wall_s={:.1} slowest_ms={:.1} (input {} of seed {})",
        t.inputs,
        t.rejects,
        t.panics,
        t.hangs,
        t.server_errors,
        t.lost_workers,
        t.unnamed,
        t.inputs as f64 / t.elapsed.as_secs_f64(),
        t.elapsed.as_secs_f64(),
        t.slowest.took.as_secs_f64() * 1e3,
        t.slowest.index,
        t.slowest.seed,
    );
    // A few of each kind: many panics must not hide the one hang.
    for kind in [Kind::LostWorker, Kind::Hang, Kind::Panic, Kind::ServerError, Kind::Unnamed] {
        for f in t.findings.iter().filter(|f| f.kind == kind).take(3) {
            println!("  input {} (seed {}): {}\n    {}", f.index, f.seed, f.what, f.input);
        }
    }
}

#[derive(Default)]
pub(crate) struct Summary {
    targets: u64,
    total: Tally,
    /// Inputs asked for and not run, over all targets.
    missing: u64,
    /// The slowest input over all targets: (ms, target).
    slowest: (f64, String),
}

impl Summary {
    pub(crate) fn add(&mut self, name: &str, t: &Tally, asked: u64) {
        self.targets += 1;
        self.missing += asked.saturating_sub(t.inputs);
        let s = &mut self.total;
        s.inputs += t.inputs;
        s.rejects += t.rejects;
        s.panics += t.panics;
        s.hangs += t.hangs;
        s.server_errors += t.server_errors;
        s.lost_workers += t.lost_workers;
        s.unnamed += t.unnamed;
        let ms = t.slowest.took.as_secs_f64() * 1e3;
        if ms >= self.slowest.0 {
            self.slowest = (ms, name.to_owned());
        }
    }

    /// Any finding, or any input asked for and not run, fails the run.
    pub(crate) fn result(&self) -> Result<(), Failed> {
        let findings = self.total.findings_count();
        match findings > 0 || self.missing > 0 {
            true => Err(Failed { findings, missing: self.missing }),
            false => Ok(()),
        }
    }

    pub(crate) fn line(&self) -> String {
        let s = &self.total;
        format!(
            "bench fuzz: targets={} inputs={} panics={} hangs={} server_errors={} lost_workers={} unnamed={} missing_inputs={} slowest_ms={:.1} slowest_target={}",
            self.targets,
            s.inputs,
            s.panics,
            s.hangs,
            s.server_errors,
            s.lost_workers,
            s.unnamed,
            self.missing,
            self.slowest.0,
            if self.slowest.1.is_empty() { "-" } else { &self.slowest.1 },
        )
    }
}

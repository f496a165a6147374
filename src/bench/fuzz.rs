//! `bench fuzz`: structure-aware fuzzing of every parser that takes outside input (the module
//! event, a resource's parameters, the module configuration, the fleet file, the lifecycle
//! payload, hook samples, the simulator's SigV4 headers, JSON bodies and query forms). Each
//! target starts from its checked-in seeds (`fuzz/corpus/<target>/`) and runs at least a
//! million inputs; a panic or a rejection that names no field is a finding, printed with
//! its input. The tests run the same engine on a few thousand inputs per target.

mod engine;
mod mutate;
mod targets;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

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

pub async fn run(args: Args) -> anyhow::Result<()> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    // Panics are counted and shown as findings; the default hook would print each one.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (mut targets, mut inputs, mut panics, mut unnamed) = (0, 0, 0, 0);
    for target in targets::all() {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == target.name) {
            continue;
        }
        let corpus = engine::Corpus::load(&corpus_dir().join(target.name))?;
        let t = tokio::task::block_in_place(|| engine::run(&target, &corpus, args.seed, args.inputs, workers));
        println!(
            "{:<12} seeds={:<3} inputs={} rejects={} panics={} unnamed={} inputs/s={:.0}",
            target.name,
            corpus.values.len(),
            t.inputs,
            t.rejects,
            t.panics,
            t.unnamed,
            t.inputs as f64 / t.elapsed.as_secs_f64()
        );
        for f in t.findings.iter().take(5) {
            println!("  input {} (seed {}): {}\n    {}", f.index, f.seed, f.what, f.input);
        }
        targets += 1;
        inputs += t.inputs;
        panics += t.panics;
        unnamed += t.unnamed;
    }
    std::panic::set_hook(hook);
    println!("bench fuzz: targets={targets} inputs={inputs} panics={panics} unnamed={unnamed}");
    Ok(())
}

//! The one Engine per process and its CPU-time clock.

use std::time::Duration;
use wasmtime::{Config, Engine};

/// How often the epoch advances. A call's CPU cap is rounded up to whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

pub fn new_engine(max_wasm_stack: usize) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    // Epoch interruption costs less per instruction than fuel and measures wall time, which is
    // what a wave boundary waits on.
    config.epoch_interruption(true);
    config.max_wasm_stack(max_wasm_stack);
    let engine = Engine::new(&config)?;
    start_ticker(&engine);
    Ok(engine)
}

/// Advance the epoch every tick until the engine is dropped.
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("drs-hook-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn the epoch thread");
}

/// Ticks to allow for a call capped at `limit`: at least the limit, at most one tick more.
pub fn deadline_ticks(limit: Duration) -> u64 {
    (limit.as_micros().div_ceil(EPOCH_TICK.as_micros()) as u64) + 1
}

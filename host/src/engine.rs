//! The one Engine per process and its epoch clock.

use std::time::Duration;
use wasmtime::{Config, Engine};

/// How often the epoch advances: a computing guest yields to the executor this often, which
/// is when its call's deadline can be seen to have passed.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

pub fn new_engine(max_wasm_stack: usize) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    // Epoch interruption costs less per instruction than fuel and measures wall time, which is
    // what a wave boundary waits on. Calls run as futures under a deadline (deadline.rs):
    // wasmtime's async support is on whenever its `async` feature is.
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

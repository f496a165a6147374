//! Typed bindings for host/wit/hooks.wit (world `wave-hooks`).

wasmtime::component::bindgen!({
    path: "wit",
    world: "wave-hooks",
    // Tests and the executor compare decisions.
    additional_derives: [PartialEq, Eq],
});

pub use drs_orch::hooks::host_log::Level;
pub use drs_orch::hooks::types::{LaunchOutcome, Mode, Server, ServerOutcome};

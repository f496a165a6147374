//! Typed bindings for host/wit/hooks.wit (world `wave-hooks`).

wasmtime::component::bindgen!({
    path: "wit",
    world: "wave-hooks",
    // Tests and the executor compare decisions.
    additional_derives: [PartialEq, Eq],
});

pub use drs_orch::hooks::host_log::Level;
pub use drs_orch::hooks::types::{LaunchOutcome, Mode, Server, ServerOutcome};

impl Server {
    /// The server without its tags: the host puts back the ones the hook may see.
    pub(crate) fn clone_without_tags(&self) -> Server {
        Server {
            account: self.account.clone(),
            region: self.region.clone(),
            hostname: self.hostname.clone(),
            source_server_id: self.source_server_id.clone(),
            tags: Vec::new(),
        }
    }
}

impl drs_orch::hooks::types::WaveContext {
    /// The context without its servers: the host puts them back as the hook may see them.
    pub(crate) fn clone_without_servers(&self) -> Self {
        Self {
            execution_id: self.execution_id.clone(),
            tenant: self.tenant.clone(),
            mode: self.mode,
            wave_index: self.wave_index,
            wave_name: self.wave_name.clone(),
            now: self.now,
            servers: Vec::new(),
        }
    }
}

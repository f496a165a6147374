//! Per-call resource limits. Wraps wasmtime's StoreLimits so the host can tell a
//! memory-cap failure apart from any other trap.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

pub struct CallLimits {
    inner: StoreLimits,
    memory_bytes: usize,
    /// Set when the guest asked for more memory than the cap.
    pub memory_exceeded: bool,
}

impl CallLimits {
    pub fn new(memory_bytes: usize) -> Self {
        let inner = StoreLimitsBuilder::new()
            .memory_size(memory_bytes)
            // A Rust or JS component needs a handful of each; far more means abuse.
            .instances(64)
            .tables(64)
            .memories(16)
            .table_elements(100_000)
            // Fail a grow with a trap instead of -1: allocators often abort anyway, and a trap is clearer.
            .trap_on_grow_failure(true)
            .build();
        CallLimits { inner, memory_bytes, memory_exceeded: false }
    }
}

impl ResourceLimiter for CallLimits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_exceeded = true;
        }
        self.inner.memory_growing(current, desired, maximum)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

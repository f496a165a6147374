//! Per-call resource limits. The memory cap covers all of an instance's linear memories
//! together: wasmtime's `StoreLimits` caps each memory on its own, so a component with 16
//! memories could hold 16 times the cap. This limiter keeps the sum, and tells a memory-cap
//! failure apart from any other trap.

use wasmtime::ResourceLimiter;

/// A Rust or JavaScript component has one or two memories and a handful of tables and
/// instances; far more means abuse (each also costs the host a reservation).
pub const MAX_MEMORIES: usize = 4;
pub const MAX_TABLES: usize = 64;
pub const MAX_INSTANCES: usize = 64;
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

pub struct CallLimits {
    memory_bytes: usize,
    /// The bytes of every memory of the store, as granted so far.
    memory_total: usize,
    /// Set when the guest asked for more memory than the cap.
    pub memory_exceeded: bool,
}

impl CallLimits {
    pub fn new(memory_bytes: usize) -> Self {
        CallLimits { memory_bytes, memory_total: 0, memory_exceeded: false }
    }

    /// Bytes granted to all memories together.
    #[cfg(test)]
    pub fn memory_total(&self) -> usize {
        self.memory_total
    }
}

/// Fail a refused grow with a trap instead of -1: allocators often abort anyway, and a trap
/// is clearer.
fn refuse(what: &str) -> wasmtime::Result<bool> {
    Err(wasmtime::format_err!("{what}"))
}

impl ResourceLimiter for CallLimits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.memory_total.saturating_sub(current).saturating_add(desired);
        if total > self.memory_bytes {
            self.memory_exceeded = true;
            return refuse("forcing trap when growing memory: over the call's memory cap (all memories together)");
        }
        if maximum.is_some_and(|max| desired > max) {
            return refuse("forcing trap when growing memory past its declared maximum");
        }
        self.memory_total = total;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The grow was granted here but failed in wasmtime (the reservation could not grow):
        // trap, as for a refused one. The total is an over-estimate from now on, which only
        // makes the cap stricter for the rest of this short-lived store.
        Err(error)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS || maximum.is_some_and(|max| desired > max) {
            return refuse("forcing trap when growing table: over the call's table cap");
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    /// Two memories of 40 MiB each are 80 MiB together: over a 64 MiB cap, although each is under it.
    #[test]
    fn the_cap_covers_all_memories_together() {
        let mut limits = CallLimits::new(64 * MIB);
        assert!(limits.memory_growing(0, 40 * MIB, None).unwrap());
        assert!(limits.memory_growing(0, 40 * MIB, None).is_err());
        assert!(limits.memory_exceeded);
        assert_eq!(limits.memory_total(), 40 * MIB);
    }

    /// Growing one memory counts only the growth, not its size again.
    #[test]
    fn growth_of_one_memory_counts_once() {
        let mut limits = CallLimits::new(64 * MIB);
        assert!(limits.memory_growing(0, 16 * MIB, None).unwrap());
        assert!(limits.memory_growing(16 * MIB, 48 * MIB, None).unwrap());
        assert_eq!(limits.memory_total(), 48 * MIB);
        assert!(limits.memory_growing(0, 16 * MIB, None).unwrap(), "a second memory fits in what is left");
        assert!(limits.memory_growing(0, MIB, None).is_err(), "nothing is left");
    }
}

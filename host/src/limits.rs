//! Per-call resource limits. One budget covers what a call makes the host hold for it: all
//! of an instance's linear memories together (wasmtime's `StoreLimits` caps each memory on
//! its own, so a component with 16 memories could hold 16 times the cap), its tables (host
//! memory too: a slot per element) and the bytes that host calls hand it (`wasi.rs`). This
//! limiter keeps the sum, and tells a budget failure apart from any other trap.

use wasmtime::ResourceLimiter;

/// A Rust or JavaScript component has one or two memories and a handful of tables and
/// instances; far more means abuse (each also costs the host a reservation).
pub const MAX_MEMORIES: usize = 4;
pub const MAX_TABLES: usize = 64;
pub const MAX_INSTANCES: usize = 64;
pub const MAX_TABLE_ELEMENTS: usize = 100_000;
/// What one table element costs the host: a funcref slot is a pointer, and funcref is the
/// only element type this engine has (no GC, no stack switching).
pub const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

pub struct CallLimits {
    memory_bytes: usize,
    /// The bytes of every memory of the store, as granted so far.
    memory_total: usize,
    /// The bytes of every table of the store (elements × [`TABLE_ELEMENT_BYTES`]), as granted.
    table_total: usize,
    /// The bytes host calls have handed the guest in this call, all of them: counted as if
    /// kept, so that the budget bounds what the host makes for a call, not only what it holds
    /// at one instant (the guest's copy of them is in its memory as well).
    host_total: usize,
    /// Set when the guest asked for more than the budget.
    pub memory_exceeded: bool,
}

impl CallLimits {
    pub fn new(memory_bytes: usize) -> Self {
        CallLimits { memory_bytes, memory_total: 0, table_total: 0, host_total: 0, memory_exceeded: false }
    }

    /// Bytes granted to memories, tables and host calls together.
    pub fn used(&self) -> usize {
        self.memory_total.saturating_add(self.table_total).saturating_add(self.host_total)
    }

    /// Takes `bytes` from the budget for a host call about to hand them out; refused (and
    /// the budget marked exceeded) when they do not fit.
    pub fn charge_host_call(&mut self, bytes: usize) -> wasmtime::Result<()> {
        if self.used().saturating_add(bytes) > self.memory_bytes {
            self.memory_exceeded = true;
            return Err(wasmtime::format_err!("a host call's result is over the call's memory budget"));
        }
        self.host_total += bytes;
        Ok(())
    }

    /// Whether `total`, the new sum, fits; marks the budget exceeded when not.
    fn fits(&mut self, total: usize) -> bool {
        let fits = total <= self.memory_bytes;
        self.memory_exceeded |= !fits;
        fits
    }
}

/// Fail a refused grow with a trap instead of -1: allocators often abort anyway, and a trap
/// is clearer.
fn refuse(what: &str) -> wasmtime::Result<bool> {
    Err(wasmtime::format_err!("{what}"))
}

impl ResourceLimiter for CallLimits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let memory_total = self.memory_total.saturating_sub(current).saturating_add(desired);
        if !self.fits(self.used().saturating_sub(self.memory_total).saturating_add(memory_total)) {
            return refuse("forcing trap when growing memory: over the call's memory budget (memories, tables, host calls)");
        }
        if maximum.is_some_and(|max| desired > max) {
            return refuse("forcing trap when growing memory past its declared maximum");
        }
        self.memory_total = memory_total;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The grow was granted here but failed in wasmtime (the reservation could not grow):
        // trap, as for a refused one. The total is an over-estimate from now on, which only
        // makes the cap stricter for the rest of this short-lived store.
        Err(error)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS || maximum.is_some_and(|max| desired > max) {
            return refuse("forcing trap when growing table: over the call's table cap");
        }
        let growth = desired.saturating_sub(current).saturating_mul(TABLE_ELEMENT_BYTES);
        let table_total = self.table_total.saturating_add(growth);
        if !self.fits(self.used().saturating_add(growth)) {
            return refuse("forcing trap when growing table: over the call's memory budget (memories, tables, host calls)");
        }
        self.table_total = table_total;
        Ok(true)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // As for a memory: granted here, failed in wasmtime; trap, the total over-estimated.
        Err(error)
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
        assert_eq!(limits.used(), 40 * MIB);
    }

    /// Growing one memory counts only the growth, not its size again.
    #[test]
    fn growth_of_one_memory_counts_once() {
        let mut limits = CallLimits::new(64 * MIB);
        assert!(limits.memory_growing(0, 16 * MIB, None).unwrap());
        assert!(limits.memory_growing(16 * MIB, 48 * MIB, None).unwrap());
        assert_eq!(limits.used(), 48 * MIB);
        assert!(limits.memory_growing(0, 16 * MIB, None).unwrap(), "a second memory fits in what is left");
        assert!(limits.memory_growing(0, MIB, None).is_err(), "nothing is left");
    }

    /// Tables and host calls draw on the memories' budget: what is left after 1 MiB of
    /// memory, and no more.
    #[test]
    fn tables_and_host_calls_share_the_memory_budget() {
        let mut limits = CallLimits::new(2 * MIB);
        assert!(limits.memory_growing(0, MIB, None).unwrap());
        assert!(limits.table_growing(0, 50_000, None).unwrap());
        assert!(limits.table_growing(50_000, 100_000, None).unwrap(), "growth counts only the new slots");
        assert_eq!(limits.used(), MIB + 100_000 * TABLE_ELEMENT_BYTES);
        let left = 2 * MIB - limits.used();
        limits.charge_host_call(left).unwrap();
        assert!(!limits.memory_exceeded);
        assert!(limits.charge_host_call(1).is_err(), "the budget is spent");
        assert!(limits.memory_exceeded);

        let mut limits = CallLimits::new(2 * MIB);
        assert!(limits.memory_growing(0, 2 * MIB - 8 * 1024, None).unwrap());
        assert!(limits.table_growing(0, 1024, None).unwrap(), "8 KiB of slots fill the budget");
        assert!(limits.table_growing(1024, 1025, None).is_err(), "one slot more does not fit");
        assert!(limits.memory_exceeded);
        assert_eq!(limits.used(), 2 * MIB);
    }
}

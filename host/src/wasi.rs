//! The WASI a hook is linked against: wasmtime-wasi's p2 interfaces of the packages hooks may
//! import (cli, io, clocks, random, filesystem; `imports.rs` refuses the rest at load, and
//! they are not linked at all), with the two that would reach past the call's bounds replaced:
//! - `wasi:clocks/monotonic-clock`: reads the module's `now`, as the wall clock does, and
//!   never waits. wasmtime-wasi's `subscribe-duration` and `subscribe-instant` sleep on the
//!   real clock; a clock stopped at `now` has no later instant to wake at, so a pollable for
//!   one is refused (the guest stops with [`HookError::HostCall`]), and one for now or
//!   earlier is ready at once (a non-blocking poll). No pollable a hook can make waits.
//! - `wasi:random/random` and `wasi:random/insecure`: a list of bytes is made in host memory
//!   by one synchronous call that neither the deadline nor the guest's memory cap can cut
//!   short (wasmtime-wasi allows 64 MiB). Here one call hands out at most
//!   [`MAX_HOST_CALL_BYTES`], and every byte handed out is taken from the call's memory
//!   budget (`limits.rs`).
//!
//! The other granted imports that return a list hand out nothing a guest can size: stdin is
//! closed (its reads allocate nothing), no directory is preopened (so no file can be read),
//! the environment and arguments are empty, and `poll` answers with at most as many indexes
//! as it was given (what a guest gives is bounded by the store's hostcall fuel).
//!
//! [`HookError::HostCall`]: crate::HookError::HostCall

use crate::error::Refusal;
use crate::limits::CallLimits;
use crate::sandbox::CallState;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, io, random};
use wasmtime_wasi::p2::{DynPollable, Pollable};
use wasmtime_wasi::random::{WasiRandom, WasiRandomCtx};

/// The most bytes one host call hands a guest (a hook wanting a key or a nonce asks for tens).
pub const MAX_HOST_CALL_BYTES: u64 = 64 << 10;

/// A host call refused (see [`Refusal`]); `HookHost::classify` turns it into
/// `HookError::HostCall`.
#[derive(Debug, thiserror::Error)]
#[error("{import}: {refusal}")]
pub struct Refused {
    pub import: &'static str,
    pub refusal: Refusal,
}

pub fn add_to_linker(l: &mut Linker<CallState>) -> wasmtime::Result<()> {
    io::error::add_to_linker::<CallState, Io>(l, |s| &mut s.table)?;
    io::poll::add_to_linker::<CallState, Io>(l, |s| &mut s.table)?;
    io::streams::add_to_linker::<CallState, Io>(l, |s| &mut s.table)?;
    clocks::wall_clock::add_to_linker::<CallState, WasiClocks>(l, CallState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<CallState, StoppedClock>(l, |s| Stopped { now_ns: s.now_ns, table: &mut s.table })?;
    random::random::add_to_linker::<CallState, Budgeted>(l, budgeted)?;
    random::insecure::add_to_linker::<CallState, Budgeted>(l, budgeted)?;
    random::insecure_seed::add_to_linker::<CallState, WasiRandom>(l, |s| s.wasi.random())?;
    filesystem::types::add_to_linker::<CallState, WasiFilesystem>(l, CallState::filesystem)?;
    filesystem::preopens::add_to_linker::<CallState, WasiFilesystem>(l, CallState::filesystem)?;
    cli::exit::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::environment::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::stdin::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::stdout::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::stderr::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_input::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_output::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stdin::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stdout::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stderr::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    Ok(())
}

/// wasi:io, over the call's resource table (wasmtime-wasi-io implements it there).
struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}

/// The monotonic clock, stopped at the module's `now`.
struct StoppedClock;

impl HasData for StoppedClock {
    type Data<'a> = Stopped<'a>;
}

struct Stopped<'a> {
    now_ns: u64,
    table: &'a mut ResourceTable,
}

impl Stopped<'_> {
    /// A pollable ready `nanos` from now: at once for 0, refused for any later time.
    fn after(&mut self, import: &'static str, nanos: u64) -> wasmtime::Result<Resource<DynPollable>> {
        if nanos > 0 {
            return Err(Refused { import, refusal: Refusal::Wait { nanos } }.into());
        }
        let ready = self.table.push(Ready)?;
        wasmtime_wasi::p2::subscribe(self.table, ready)
    }
}

impl clocks::monotonic_clock::Host for Stopped<'_> {
    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(self.now_ns)
    }

    fn resolution(&mut self) -> wasmtime::Result<u64> {
        Ok(1_000_000_000)
    }

    fn subscribe_instant(&mut self, when: u64) -> wasmtime::Result<Resource<DynPollable>> {
        self.after("wasi:clocks/monotonic-clock.subscribe-instant", when.saturating_sub(self.now_ns))
    }

    fn subscribe_duration(&mut self, nanos: u64) -> wasmtime::Result<Resource<DynPollable>> {
        self.after("wasi:clocks/monotonic-clock.subscribe-duration", nanos)
    }
}

/// A pollable that is ready: what a wait for no time at all is.
struct Ready;

#[wasmtime_wasi::async_trait]
impl Pollable for Ready {
    async fn ready(&mut self) {}
}

/// wasi:random, each call capped and charged to the call's budget.
struct Budgeted;

impl HasData for Budgeted {
    type Data<'a> = BudgetedRandom<'a>;
}

fn budgeted(s: &mut CallState) -> BudgetedRandom<'_> {
    BudgetedRandom { random: s.wasi.random(), limits: &mut s.limits }
}

struct BudgetedRandom<'a> {
    random: &'a mut WasiRandomCtx,
    limits: &'a mut CallLimits,
}

impl BudgetedRandom<'_> {
    /// Refuses `len` bytes over the per-call cap; takes them from the budget otherwise.
    fn take(&mut self, import: &'static str, len: u64) -> wasmtime::Result<()> {
        if len > MAX_HOST_CALL_BYTES {
            return Err(Refused { import, refusal: Refusal::TooLarge { asked: len, limit: MAX_HOST_CALL_BYTES } }.into());
        }
        self.limits.charge_host_call(len as usize)
    }
}

impl random::random::Host for BudgetedRandom<'_> {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        self.take("wasi:random/random.get-random-bytes", len)?;
        random::random::Host::get_random_bytes(self.random, len)
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        random::random::Host::get_random_u64(self.random)
    }
}

impl random::insecure::Host for BudgetedRandom<'_> {
    fn get_insecure_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        self.take("wasi:random/insecure.get-insecure-random-bytes", len)?;
        random::insecure::Host::get_insecure_random_bytes(self.random, len)
    }

    fn get_insecure_random_u64(&mut self) -> wasmtime::Result<u64> {
        random::insecure::Host::get_insecure_random_u64(self.random)
    }
}

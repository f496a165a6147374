//! The wall-time bound of a hook call, and the bridge that lets blocking callers use it.
//!
//! Why async: epochs interrupt guest instructions, not a host function the guest is blocked
//! in. With wasmtime-wasi's synchronous bindings, `pollable.block` on a `subscribe-duration`
//! (what `std::thread::sleep` compiles to) parks the thread inside the host for as long as the
//! guest asked: a hook capped at 50 ms held a drill for 30 s. Bounding each WASI function
//! instead (clamping sleeps, polls, stream reads) would have to cover every blocking import,
//! today's and tomorrow's. With wasmtime's async support every such wait is a future, and
//! the guest's own code yields at each epoch tick (`Store::epoch_deadline_async_yield_and_update`),
//! so one `tokio::time::timeout` around instantiate + call + lift bounds all of it: when it
//! fires, the call's future is dropped, which unwinds the guest's fiber, and the store is
//! thrown away as after any call. What cannot be cut short is host code that does not await
//! (lifting a result, making random bytes): `decision.rs` and `wasi.rs` bound that by size.
//! Since then the clocks stopped waiting at all (`wasi.rs`: a sleep is refused), so no import
//! a hook may use waits today; the deadline still holds for guest code, and for any import
//! that blocks tomorrow.

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

/// The call ran past its cap.
#[derive(Debug)]
pub struct Elapsed;

/// `f` if it completes within `limit`.
pub async fn within<F: Future>(limit: Duration, f: F) -> Result<F::Output, Elapsed> {
    tokio::time::timeout(limit, f).await.map_err(|_| Elapsed)
}

/// The timers of calls made through the blocking methods: one worker thread, which sleeps on
/// the timer wheel while the calls run on their callers' threads. Process-wide and never
/// dropped (dropping a runtime from async code panics).
static TIMERS: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("drs-hook-timers")
        .enable_time()
        .enable_io()
        .build()
        .expect("start the hook timers' runtime (one thread)")
});

/// Run `f` to completion on the calling thread. Not `Runtime::block_on`, which panics inside
/// another runtime ("Cannot start a runtime from within a runtime", as `drs-orch hooks check`
/// did from its async main): a plain executor that parks the thread, with [`TIMERS`] entered
/// so that the call's timers and WASI's sleeps register there and its worker wakes them.
/// From async code this holds a worker thread for the length of the call (the cap at most);
/// prefer the `_async` methods there.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let _timers = TIMERS.enter();
    futures::executor::block_on(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A future that would wait an hour is cut at its limit, from a plain thread and from
    /// inside a runtime's async code alike.
    #[test]
    fn within_cuts_a_long_wait_from_any_thread() {
        // The sleep is made when first polled, as WASI's are: inside `block_on`.
        let wait = || within(Duration::from_millis(20), async { tokio::time::sleep(Duration::from_secs(3600)).await });
        let started = Instant::now();
        assert!(block_on(wait()).is_err());
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let started = Instant::now();
        let inside = rt.block_on(async { block_on(wait()).is_err() });
        assert!(inside);
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }
}

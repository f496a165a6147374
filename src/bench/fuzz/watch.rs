//! The run's watchdog. Each worker says which input it is running and since when (a beat);
//! the thread that started the workers joins each one as it finishes, counts a worker that
//! died (a panic outside `catch_unwind`) rather than dropping it, and names an input still
//! running past the stuck limit while it runs. A thread cannot be stopped: a stuck worker is
//! abandoned, its inputs missing from the run, which makes the run fail.

use super::engine::Tally;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the watchdog looks: well under any limit it enforces.
const POLL: Duration = Duration::from_millis(10);

struct Slot {
    index: AtomicU64,
    /// Nanoseconds from the run's start to the input's start, plus one; 0 between inputs.
    since: AtomicU64,
    /// Set by the watchdog when it gives the worker up: if its input ends after all, the
    /// worker stops there rather than run the rest of its inputs beside the next target's.
    abandoned: AtomicBool,
}

/// Every worker's beat, shared with the watchdog.
#[derive(Clone)]
pub struct Beats {
    started: Instant,
    slots: Arc<[Slot]>,
}

impl Beats {
    pub fn new(workers: usize) -> Beats {
        let slots = (0..workers)
            .map(|_| Slot { index: AtomicU64::new(0), since: AtomicU64::new(0), abandoned: AtomicBool::new(false) })
            .collect();
        Beats { started: Instant::now(), slots }
    }

    pub fn worker(&self, w: usize) -> Beat<'_> {
        Beat { beats: self, w }
    }

    /// The input worker `w` is running, and for how long; None between inputs.
    fn running(&self, w: usize) -> Option<(u64, Duration)> {
        let slot = self.slots.get(w)?;
        let since = slot.since.load(Ordering::Acquire);
        let index = slot.index.load(Ordering::Acquire);
        (since != 0).then(|| (index, self.started.elapsed().saturating_sub(Duration::from_nanos(since - 1))))
    }
}

/// One worker's side of [`Beats`].
pub struct Beat<'a> {
    beats: &'a Beats,
    w: usize,
}

impl Beat<'_> {
    pub fn start(&self, index: u64) {
        if let Some(slot) = self.beats.slots.get(self.w) {
            slot.index.store(index, Ordering::Release);
            slot.since.store(self.beats.started.elapsed().as_nanos() as u64 + 1, Ordering::Release);
        }
    }

    pub fn stop(&self) {
        if let Some(slot) = self.beats.slots.get(self.w) {
            slot.since.store(0, Ordering::Release);
        }
    }

    /// Whether the watchdog gave this worker up while its input ran.
    pub fn abandoned(&self) -> bool {
        self.beats.slots.get(self.w).is_some_and(|slot| slot.abandoned.load(Ordering::Acquire))
    }
}

/// An input found running past the stuck limit.
#[derive(Debug, Clone)]
pub struct Stuck {
    pub worker: usize,
    pub index: u64,
    pub running: Duration,
}

pub struct Watch {
    beats: Beats,
    limit: Duration,
    stuck: Vec<Stuck>,
}

impl Watch {
    pub fn new(beats: Beats, limit: Duration) -> Watch {
        Watch { beats, limit, stuck: vec![] }
    }

    /// Joins every worker as it finishes: its tally, or why it was lost. Returns when all
    /// have finished but those stuck.
    pub fn join(&mut self, handles: Vec<(usize, JoinHandle<Tally>)>) -> Vec<(usize, Result<Tally, String>)> {
        let mut pending = handles;
        let mut out = Vec::with_capacity(pending.len());
        loop {
            let (done, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(_, h)| h.is_finished());
            pending = rest;
            for (w, h) in done {
                // A stuck input that ended after all is reported by its worker, which then stopped.
                self.stuck.retain(|s| s.worker != w);
                out.push((w, h.join().map_err(|payload| format!("panicked outside catch_unwind: {}", leak(payload)))));
            }
            for (w, _) in &pending {
                if self.stuck.iter().any(|s| s.worker == *w) {
                    continue;
                }
                if let Some((index, running)) = self.beats.running(*w).filter(|(_, running)| *running > self.limit) {
                    eprintln!("fuzz: worker {w} has been running input {index} for {} ms: a hang", running.as_millis());
                    if let Some(slot) = self.beats.slots.get(*w) {
                        slot.abandoned.store(true, Ordering::Release);
                    }
                    self.stuck.push(Stuck { worker: *w, index, running });
                }
            }
            if pending.iter().all(|(w, _)| self.stuck.iter().any(|s| s.worker == *w)) {
                return out;
            }
            std::thread::sleep(POLL);
        }
    }

    /// The workers abandoned, each with the input it was stuck in.
    pub fn stuck(&self) -> &[Stuck] {
        &self.stuck
    }
}

/// A dead worker's panic message. The payload is leaked, not dropped: a payload whose drop
/// panics would take this thread down too.
fn leak(payload: Box<dyn std::any::Any + Send>) -> String {
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    std::mem::forget(payload);
    message
}

//! What can go wrong with a hook. Every failure is a value; none unwinds into the module.
//! Every message here is bounded: what a guest put in it (stderr quoted in a trap) is cut to
//! [`crate::MAX_MESSAGE_BYTES`], as its pause and abort messages are.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The component's SHA-256 is not the one the tenant's configuration pinned.
    #[error("component hash {actual} does not match its pin {expected}")]
    PinMismatch { expected: String, actual: String },
    /// The component file is larger than the host compiles; refused before it is read whole,
    /// hashed or compiled.
    #[error("component of {bytes} bytes is over the {limit}-byte cap for a hook")]
    TooLarge { bytes: u64, limit: usize },
    /// The component file could not be read.
    #[error("component file {path}: {message}")]
    Unreadable { path: PathBuf, message: String },
    /// Reading, checking and compiling the component (or reading it from the cache) took
    /// longer than the host's compile limit. The compile goes on in the background and lands
    /// in the cache; the next load waits for it there rather than starting another.
    #[error("compiling the component took longer than its {limit_ms} ms limit")]
    CompileTimeout { limit_ms: u64 },
    /// The component imports something the sandbox does not provide.
    #[error("component imports `{import}`, which hooks may not use")]
    Refused { import: String },
    /// The component does not implement the wave-hooks world (or is not a valid component).
    #[error("invalid hook component: {0}")]
    Invalid(String),
    /// The call ran past its wall-time cap (computing, or waiting in a host call).
    #[error("hook ran longer than its {limit_ms} ms limit")]
    Timeout { limit_ms: u64 },
    /// The guest tried to grow its memories or tables, or take bytes from host calls, past
    /// the call's memory budget (all of them together).
    #[error("hook exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit { limit_bytes: usize },
    /// The guest called a granted import in a way hooks may not: a wait on a clock, or more
    /// bytes in one call than a host call hands out. The guest was stopped there.
    #[error("hook called {import}: refused, {refusal}")]
    HostCall { import: &'static str, refusal: Refusal },
    /// The guest trapped (panic, unreachable, stack overflow, out-of-bounds access, ...).
    #[error("hook trapped: {0}")]
    Trap(String),
    /// The guest returned a decision the host cannot apply.
    #[error("hook returned an invalid decision: {0}")]
    BadReturn(String),
    /// The compile cache could not be used: its directory is not private to this user, or
    /// could not be created or written.
    #[error("hook cache {path}: {message}")]
    Cache { path: PathBuf, message: String },
}

/// Why a host call was refused (`HookError::HostCall`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A pollable that would be ready only later: hooks' clocks are stopped at the module's
    /// `now`, so a wait could only be on the real clock, which hooks do not get.
    #[error("a wait of {nanos} ns (a hook's clocks are stopped at the module's now; it may not wait)")]
    Wait { nanos: u64 },
    /// More bytes asked of one call than a call hands out.
    #[error("{asked} bytes asked in one call, over the {limit}-byte cap per call")]
    TooLarge { asked: u64, limit: u64 },
}

/// `text` cut to [`crate::MAX_MESSAGE_BYTES`] (with a note of its length): for any message
/// that quotes what a guest wrote or named.
pub(crate) fn bounded(text: &str) -> String {
    crate::decision::cut(text, crate::MAX_MESSAGE_BYTES)
}

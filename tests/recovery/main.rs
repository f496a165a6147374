//! The module driven through the platform's event protocol against the simulator: drills,
//! real recoveries, failure policies, pause gates, idempotency and the payload's size.
//! One test binary: each file is a topic.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

#[path = "../common/mod.rs"]
mod common;

mod cloudformation;
mod drill;
mod gate;
mod hooks;
mod idempotency;
mod launch;
mod payload;
mod policies;
mod real;
mod scale_payload;
mod standalone;

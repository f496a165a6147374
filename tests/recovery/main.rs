//! The module driven through the platform's event protocol against the simulator: drills,
//! real recoveries, failure policies, pause gates, idempotency and the payload's size; and
//! the native recovery plans that mirror a resource's waves.
//! One test binary: each file is a topic.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

#[path = "../common/mod.rs"]
mod common;

mod arc;
mod audit;
mod callbacks_retry;
mod cleanup_scope;
mod cloudformation;
mod conflicts;
mod crash_matrix;
mod drill;
mod forecast;
mod gate;
mod graph;
mod hook_atomic;
mod hooks;
mod iam_attack;
mod idempotency;
mod identity;
mod launch;
mod native;
mod objectives;
mod outage;
mod payload;
mod pitr;
mod pitr_expiry;
mod policies;
mod readiness;
mod real;
mod reports;
mod run_ledger;
mod secrets_scan;
mod staging;
mod standalone;
mod start_refused;
mod static_checks;
mod static_claims;
mod template_hardening;
mod templates;
mod tenancy;
mod two_regions;

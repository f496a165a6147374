//! The run ledger: one record per run (a resource's identity plus an execution id) in a
//! DynamoDB table of the hub account. What must happen once for a run is decided there by a
//! conditional write (`store.rs`): the run's opening (with its plan, `plan.rs`), its end.
//! The lifecycle payload is a reference to the record (`recovery/reference.rs`). DRS job tags
//! keep only what
//! finding a run's jobs and instances needs, so cleanup works when the ledger has no record.

pub mod claims;
pub mod plan;
pub mod read;
pub mod record;
pub mod store;

pub use record::{
    Approval, CleanupPass, CleanupState, Crossing, Decision, GateAnswer, GateAsked, GivenUp, Repointed, RunEnd, RunKey,
    RunListing, RunRecord, RECORD_VERSION,
};
pub use store::{Ledger, LedgerError, Opened};

use crate::aws::Clients;

/// The configured ledger, reached with the hub's credentials.
pub fn of(clients: &Clients) -> Ledger {
    Ledger::new(clients.hub(), &clients.config().ledger.table_name)
}

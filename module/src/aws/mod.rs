//! Reaching AWS: the cross-account client factory, failures classified by type, and calls
//! fanned out over partitions.

pub mod audit;
pub mod call_failed;
pub mod clients;
pub mod ec2_lookup;
pub mod errors;
pub mod fanout;

pub use call_failed::{failed, CallFailed};
pub use clients::{static_hub, Clients};

//! Reaching AWS: the cross-account client factory.

pub mod clients;
pub mod errors;
pub mod fanout;

pub use clients::{static_hub, Clients};

//! The operations served, one file per group: tables (`table_ops.rs`, `describe.rs`), single
//! items (`items.rs` over `write.rs`), Query (`query.rs`, `key_condition.rs`),
//! TransactWriteItems (`transact.rs`) and BatchGetItem (`batch_get.rs`).

pub mod batch_get;
pub mod common;
pub mod describe;
pub mod items;
pub mod key_condition;
pub mod query;
pub mod table_ops;
pub mod transact;
pub mod write;

//! The CLI's commands, one file each.

pub mod accounts;
pub mod approve;
pub mod discover;
pub mod drill;
pub mod hooks;
pub mod launch;
pub mod plan;
pub mod tags;

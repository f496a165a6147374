//! The CLI's commands, one file each.

pub mod accounts;
pub mod discover;
pub mod plan;

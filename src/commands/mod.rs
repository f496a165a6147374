//! The CLI's commands, one file each.

pub mod discover;

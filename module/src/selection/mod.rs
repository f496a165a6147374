//! Dynamic protection groups: a DRS resource's `HostNames` and `Tags` (see
//! schemas/drs-resource.schema.json) resolve to discovered source servers. Misses, conflicts
//! (a name matching several servers, a server claimed by two resources of one layer) and
//! servers not ready are reported by name; the resource's `Selection` policy decides whether
//! each fails the resource or warns.

mod matching;
mod params;
pub mod pending;
mod resolve;
#[cfg(test)]
mod tests;

pub use params::{Action, HostName, Policy, ResourceSelection};
pub use resolve::{resolve, resolve_layer, Conflict, Miss, NotReady, Resolution, ServerRef};

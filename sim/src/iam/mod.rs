//! IAM as the simulator evaluates it: a role's identity policy (IAM JSON statements, with the
//! fleet's `allowedActions` and `deniedActions` as shorthand for unconditioned ones) decides
//! each authorization request a call makes (`requests/`), and those DRS makes with the
//! caller's permissions (`dependent.rs`): actions and resource ARNs with wildcards, the
//! condition operators and keys the templates use, an explicit Deny over any Allow. Every
//! caller is evaluated; one whose role the simulator does not model is denied.

pub mod condition;
pub mod context;
pub mod dependent;
pub mod evaluate;
pub mod pattern;
pub mod policy;
pub mod requests;
pub mod staging;
pub mod template;

pub use context::{AuthRequest, Context};
pub use evaluate::{authorize, decide, Decision, Denial, Grant};
pub use policy::{Effect, Statement};

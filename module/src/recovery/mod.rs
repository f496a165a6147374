//! Recovery in waves: `activate` plans a resource's group into the lifecycle payload and
//! starts the first waves; `status` (each `activate_status_check`) reads the execution's
//! tagged jobs back from DRS, judges waves by their failure policy and starts those whose
//! dependencies completed (`branches`: waves form a graph);
//! `gate` holds paused waves until an approval; `cleanup` terminates what drills launched;
//! `replicate` reverses replication after a real recovery.

pub mod activate;
pub mod boundary;
pub mod branches;
pub mod cleanup;
pub mod gate;
pub mod launches;
pub mod left_out;
pub mod observe;
pub mod outage;
pub mod payload;
pub mod points;
pub mod progress;
pub mod recovered;
pub mod reference;
pub mod replicate;
pub mod repoint;
pub mod run;
pub mod start;
pub mod status;
pub mod tags;
pub mod wave;

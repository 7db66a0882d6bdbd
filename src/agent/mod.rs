//! Agent sessions: PTY spawn, reader/waiter threads, the vt100 pane, profiles, and stopping
//! process groups without orphans.

pub mod pane;
pub mod procs;
pub mod profile;
pub mod spawn;
pub mod term;
pub mod tested;
pub mod wiring;

pub use pane::{Pane, PaneIo, PaneRef};
pub use spawn::{spawn, Session, Sinks, SpawnRequest};

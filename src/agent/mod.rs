//! Agent sessions: PTY spawn, reader/waiter threads, the vt100 pane, profiles, and stopping
//! process groups without orphans.

mod error;
pub mod history;
mod log_tail;
mod pane;
pub mod procs;
pub mod profile;
pub mod spawn;
pub mod tested;
pub mod vt;
pub mod wiring;

pub use error::SpawnError;
pub use log_tail::read_tail;
pub use pane::{Pane, PaneIo, PaneRef};
pub use spawn::{spawn, Exit, Session, Sinks, SpawnRequest};

//! The driver: the thread that owns the (pure) board and the store, commits each drain of
//! its queue as one transaction, runs the machine's effects (processes, polls, timers, git)
//! and feeds their results back as events. Everything that touches the world is here, not
//! in `crate::board`.

mod batch;
mod handle;
mod panes;
mod runner;
mod thread;

pub use batch::{add_offline, batch_of};
pub use handle::{BoardHandle, EventTx, GoalSummary, IdemKey, Notice, Summary, TokenScope};
pub use panes::Panes;
pub use thread::{start, DriverParts};

//! The board: the only writer of task state, and pure: `handle(event) -> effects` with no
//! I/O. `crate::driver` owns it on a thread of its own, runs its effects (processes, timers,
//! store) and feeds their results back as events.

mod agent_hooks;
pub mod artifacts;
mod closing;
mod commands;
pub mod context;
pub mod delta;
mod edits;
pub mod effects;
mod land;
mod machine;
mod pinned;
mod placeholders;
mod reactions;
mod schedule;
pub mod snapshot;
mod subtasks;
mod tree;

pub use closing::SESSION_GRACE_MS;
pub use effects::{
    AuditEvent, Changes, Effect, Event, Handled, LandJob, LandTarget, PrJob, SpawnSpec, Transition,
};
pub use land::Watched;
pub use machine::{Board, GoalStats, Limits};
pub use pinned::Pinned;
pub use snapshot::Snapshot;

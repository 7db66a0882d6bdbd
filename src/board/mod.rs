//! The board: the only writer of task state. `machine` is the pure core, `driver` runs its
//! effects (processes, timers, store) and feeds results back as events.

mod agent_hooks;
pub mod artifacts;
mod closing;
mod commands;
pub mod context;
mod edits;
pub mod effects;
mod land;
mod machine;
mod pinned;
mod placeholders;
mod reactions;
mod schedule;
mod subtasks;
mod tree;

pub use closing::SESSION_GRACE_MS;
pub use effects::{
    AuditEvent, Changes, Effect, Event, Handled, LandJob, LandTarget, PrJob, SpawnSpec, Transition,
};
pub use land::Watched;
pub use machine::{Board, GoalStats, Limits};
pub use pinned::Pinned;
pub mod driver;
mod handle;
mod runner;

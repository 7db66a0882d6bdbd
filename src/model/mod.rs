//! The domain: tasks, statuses, kinds and the specs a goal file produces. No IO here.

mod permission;
mod records;
mod spec;
mod task;

pub use permission::{AllowRule, PermissionAsk};
pub use records::{AuditEvent, SpawnSpec};
pub use spec::{
    GoalSettings, LandSpec, LandStrategy, NewTask, OnTimeout, SessionPolicy, SpawnFallback,
    TaskSpec, DEFAULT_PR_COMMAND,
};
pub use task::{shell_dir, Conflict, Kind, Proc, Status, Task, TaskId, WorkDir};

/// Milliseconds since the Unix epoch; the board's only notion of time (an input, never read).
pub type Millis = i64;

/// Where a command came from, recorded in the audit trail (`tui`, `cli`, `http:<client>`, ...).
pub type Source = String;

/// Wall-clock time in [`Millis`]; only drivers call this, never the pure board.
pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

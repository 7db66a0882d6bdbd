//! What one applied batch changed, as task records: what an attached TUI applies to the
//! snapshot it already has instead of reading every task again (`GET /api/events?deltas=1`,
//! event `delta`). Versions are the board summary's: each batch that changed something
//! bumps it by one, so a client that sees a version skip knows it missed a change and reads
//! a full snapshot (`GET /api/goals?view=full`, which carries the version it shows).

use std::collections::HashMap;

use super::machine::Board;
use crate::model::{Kind, Task, TaskId};

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Delta {
    /// The summary version after this batch.
    pub version: u64,
    /// The changed tasks' records, as they are now.
    pub tasks: Vec<Task>,
    pub deleted: Vec<TaskId>,
    pub goals: Vec<TaskId>,
    pub paused: bool,
    /// For each task waiting on a decision: the agent task a "request changes" re-runs.
    pub rework: HashMap<TaskId, TaskId>,
}

impl Delta {
    pub fn of(b: &Board, dirty: &[TaskId], deleted: &[TaskId], version: u64) -> Delta {
        Delta {
            version,
            tasks: dirty.iter().filter_map(|id| b.task(*id).cloned()).collect(),
            deleted: deleted.to_vec(),
            goals: b.goals().to_vec(),
            paused: b.paused(),
            rework: rework(b),
        }
    }
}

/// The rework target of every task waiting on a decision (few: the inbox).
pub fn rework(b: &Board) -> HashMap<TaskId, TaskId> {
    b.tasks()
        .filter(|t| t.awaits_decision() && t.kind != Kind::Agent)
        .filter_map(|t| b.rework_target(t.id).map(|r| (t.id, r)))
        .collect()
}

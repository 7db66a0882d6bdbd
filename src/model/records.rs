//! Plain records the board hands out and others keep or act on: an audit row (stored by
//! `store`) and the spec of one agent attempt (turned into a command line by `agent`).

use std::path::PathBuf;

use serde::Serialize;

use super::{Millis, TaskId, WorkDir};

/// Everything needed to start one attempt of an agent task.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpawnSpec {
    pub task: TaskId,
    pub goal: TaskId,
    pub attempt: u32,
    pub title: String,
    pub command: Option<Vec<String>>,
    pub agent: Option<String>,
    pub prompt: String,
    /// Where the task stands (the compact context): agent profiles append it to the prompt.
    pub context: String,
    pub repo: PathBuf,
    pub worktree: bool,
    /// The task's worktree from an earlier attempt (reused on retry).
    pub workdir: Option<WorkDir>,
    /// The branch of the nearest finished dependency, to stack work on.
    pub base_branch: Option<String>,
    pub session_id: String,
    pub resume: bool,
    /// This session becomes its goal's pinned session.
    pub pinned: bool,
}

/// One row of the audit trail.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct AuditEvent {
    pub task: Option<TaskId>,
    pub at: Millis,
    pub who: String,
    pub kind: String,
    pub payload: serde_json::Value,
}

//! Where the TUI's commands go and where its snapshots come from: the board in this process,
//! or one it is attached to over the listener. Everything else in the app is the same.

use std::sync::Arc;

use serde_json::Value;

use crate::attach::{Fresh, Remote};
use crate::board::Snapshot;
use crate::command::{Command, CommandError};
use crate::driver::BoardHandle;
use crate::model::{NewTask, TaskId};

#[derive(Clone)]
pub enum Backend {
    Local(BoardHandle),
    Remote(Arc<Remote>),
}

impl Backend {
    /// Applies a command as `tui`; the answer once it is committed.
    pub async fn command(&self, cmd: Command) -> Result<Value, CommandError> {
        match self {
            Backend::Local(b) => b.command(cmd, "tui").await,
            Backend::Remote(r) => r.command(cmd).await,
        }
    }

    /// Adds a goal: as a task tree in-process, as goal-file JSON over HTTP.
    pub async fn add_goal(&self, goal: Box<NewTask>, body: Value) -> Result<Value, CommandError> {
        match self {
            Backend::Local(b) => {
                // What the goal learns from its repo (the branch checked out now, signal
                // repos), as the listener does for an attached TUI; git reads, off the loop.
                let mut goal = goal;
                let goal = tokio::task::spawn_blocking(move || {
                    crate::git::fill_signal_repos(&mut goal);
                    goal
                })
                .await
                .map_err(|e| CommandError::Storage {
                    message: format!("cannot read the goal's repository: {e}"),
                })?;
                b.command(Command::AddGoal { goal }, "tui").await
            }
            Backend::Remote(r) => r.add_goal(body).await,
        }
    }

    /// Adds tasks under a group: as task trees in-process, as `{"tasks": [...]}` over HTTP.
    pub async fn add_tasks(
        &self,
        parent: TaskId,
        tasks: Vec<NewTask>,
        body: Value,
    ) -> Result<Value, CommandError> {
        match self {
            Backend::Local(b) => {
                let cmd = Command::Subtasks {
                    task: parent,
                    tasks,
                };
                b.command(cmd, "tui").await
            }
            Backend::Remote(r) => r.add_tasks(parent, body).await,
        }
    }

    /// What changed: in-process always a whole snapshot; attached, usually the deltas
    /// since the snapshot the app has.
    pub async fn fresh(&self) -> Option<Fresh> {
        match self {
            Backend::Local(b) => b.query(Snapshot::from_board).await.map(Fresh::Full),
            Backend::Remote(r) => r.fresh().await,
        }
    }

    /// Attached: the next look reads a full snapshot (a delta was missing).
    pub fn need_full(&self) {
        if let Backend::Remote(r) = self {
            r.need_full();
        }
    }

    /// A key reached a flagged pane (attached, the input route tells the board itself).
    pub fn input_sent(&self, task: TaskId) {
        if let Backend::Local(b) = self {
            b.input_sent(task);
        }
    }

    /// The pid of the board attached to, if this TUI is attached.
    pub fn attached(&self) -> Option<u32> {
        match self {
            Backend::Local(_) => None,
            Backend::Remote(r) => Some(r.pid),
        }
    }
}

//! What goes into the board (events) and what comes out (effects, changes to store and show).

use std::path::PathBuf;

use serde::Serialize;

use crate::command::{Command, CommandError};
pub use crate::model::{AuditEvent, SpawnSpec};
use crate::model::{Conflict, LandStrategy, Millis, Source, Status, TaskId, WorkDir};

/// Everything the board reacts to, in the order it arrives.
#[derive(Clone, Debug)]
pub enum Event {
    Command {
        cmd: Command,
        who: Source,
    },
    Spawned {
        task: TaskId,
        attempt: u32,
        pid: u32,
        workdir: Option<WorkDir>,
    },
    /// The review diff of a task (or of the agent work a gate reviews) was computed.
    DiffReady {
        task: TaskId,
        hash: String,
        stat: String,
    },
    SpawnFailed {
        task: TaskId,
        attempt: u32,
        error: String,
    },
    /// `code` is the exit code, `signal` the signal's name if one ended it; `tail` the last
    /// lines of output.
    Exited {
        task: TaskId,
        attempt: u32,
        code: i32,
        signal: Option<String>,
        tail: String,
    },
    PollFinished {
        task: TaskId,
        attempt: u32,
        code: i32,
        stdout: String,
    },
    /// A pane rang the bell, sent a notification or matched an attention pattern.
    NeedsYou {
        task: TaskId,
        reason: String,
    },
    /// Someone typed into the task's pane: a "needs you" flag from the pane clears.
    InputSent {
        task: TaskId,
    },
    /// Time passed: deadlines, polls and spawn windows are checked.
    Tick,
    /// The conflict watcher checked a goal's branches: every task of the goal with
    /// conflicts (any other task of it has none).
    ConflictsChecked {
        goal: TaskId,
        found: Vec<(TaskId, Vec<Conflict>)>,
    },
    /// A land job ended: its result (`commit`, `pr_url`, …), or why it stopped.
    Landed {
        task: TaskId,
        attempt: u32,
        outcome: Result<serde_json::Value, String>,
    },
}

/// IO the driver performs on the board's behalf; results come back as events.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Spawn(SpawnSpec),
    /// Stop the session of this attempt (process group: SIGTERM, then SIGKILL).
    Kill {
        task: TaskId,
        attempt: u32,
    },
    /// Type text into a running session, identified by its spawner (task, attempt):
    /// a paste (bracketed when the program asked for it), then Enter.
    WriteInput {
        session: (TaskId, u32),
        text: String,
    },
    /// Type a pinned task's prompt into its goal's session (the driver adds the profile's
    /// note on how to finish).
    TypePrompt {
        session: (TaskId, u32),
        task: TaskId,
        prompt: String,
        /// Where the task stands (compact), for the driver's note after the prompt.
        context: String,
        agent: Option<String>,
    },
    RunPoll {
        task: TaskId,
        attempt: u32,
        command: String,
        cwd: PathBuf,
    },
    RemoveWorktrees {
        goal: TaskId,
        repo: PathBuf,
    },
    /// Answer the agent's held tool call (the hook waiting on the listener).
    AnswerPermission {
        task: TaskId,
        request: u64,
        allow: bool,
        reason: Option<String>,
    },
    /// Nobody waits for this answer any more (it was given in the pane): let the held
    /// hook call go without one.
    DropPermission {
        task: TaskId,
        request: u64,
    },
    /// Compute the diff base..branch and report it for `task` (`DiffReady`).
    ComputeDiff {
        task: TaskId,
        repo: PathBuf,
        base: String,
        branch: String,
    },
    /// Merge branches into a target (or push them for a PR); reported as `Landed`.
    Land(LandJob),
}

/// Everything a land task's attempt needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LandJob {
    pub task: TaskId,
    pub goal: TaskId,
    pub attempt: u32,
    pub title: String,
    pub repo: PathBuf,
    /// `None`: the branch the repository has checked out when the job runs.
    pub into: Option<String>,
    pub strategy: LandStrategy,
    /// The agent tasks' branches, in tree order.
    pub branches: Vec<LandTarget>,
    pub pr: Option<PrJob>,
}

/// One agent task's branch to land.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LandTarget {
    pub task: TaskId,
    pub title: String,
    pub branch: String,
}

/// Where a pull request goes: the remote to push to and the command that opens it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrJob {
    pub remote: String,
    pub command: Vec<String>,
}

/// The result of one `handle` call.
#[derive(Debug, Default)]
pub struct Handled {
    pub effects: Vec<Effect>,
    /// For commands: what to answer the caller.
    pub reply: Option<Result<serde_json::Value, CommandError>>,
}

/// A status change, for headless lines, SSE and the TUI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    pub id: TaskId,
    pub goal: TaskId,
    pub title: String,
    pub from: Status,
    pub to: Status,
    pub reason: String,
    /// Extra facts for the line, e.g. "exit 0, 41 s".
    pub note: String,
    pub at: Millis,
}

/// What changed since the last `take_changes`: the driver commits it as one transaction.
#[derive(Debug, Default)]
pub struct Changes {
    pub dirty: std::collections::BTreeSet<TaskId>,
    pub deleted: Vec<TaskId>,
    pub audit: Vec<AuditEvent>,
    pub transitions: Vec<Transition>,
    /// Tasks that started needing a human, with why.
    pub attention: Vec<(TaskId, String)>,
    pub paused: Option<bool>,
    /// Tasks whose conflicts changed.
    pub conflicts: Vec<TaskId>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.dirty.is_empty()
            && self.deleted.is_empty()
            && self.audit.is_empty()
            && self.transitions.is_empty()
            && self.attention.is_empty()
            && self.paused.is_none()
            && self.conflicts.is_empty()
    }
}

//! A task node: its kind, status, reason and the runtime facts the board keeps about it.

use serde::{Deserialize, Serialize};

use super::{Millis, TaskSpec};

/// Stable integer id, shown as `#12`.
pub type TaskId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Active,
    PendingReview,
    Blocked,
    Done,
    Failed,
    Skipped,
}

impl Status {
    /// `done`, `failed` and `skipped` never change except by an explicit command.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Skipped)
    }

    /// A dependency in this status lets its dependents run.
    pub fn is_satisfied(self) -> bool {
        matches!(self, Status::Done | Status::Skipped)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::PendingReview => "pending_review",
            Status::Blocked => "blocked",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "pending" => Status::Pending,
            "active" => Status::Active,
            "pending_review" => Status::PendingReview,
            "blocked" => Status::Blocked,
            "done" => Status::Done,
            "failed" => Status::Failed,
            "skipped" => Status::Skipped,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Group,
    Agent,
    HumanReview,
    Signal,
    /// Merges the goal's agent branches into a target branch, or proposes them as a PR.
    Land,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Group => "group",
            Kind::Agent => "agent",
            Kind::HumanReview => "human_review",
            Kind::Signal => "signal",
            Kind::Land => "land",
        }
    }
}

/// The process side of an agent task, as far as the board knows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Proc {
    /// No session.
    #[default]
    Idle,
    /// A spawn effect was issued; `Spawned` or `SpawnFailed` will follow.
    Starting,
    /// The session runs with this pid (also its process group).
    Running { pid: u32 },
}

/// A task's git worktree: where it works, on which branch, from which base commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkDir {
    pub path: std::path::PathBuf,
    pub branch: String,
    pub base: String,
}

/// One node of a goal tree. A goal is a task without a parent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub parent: Option<TaskId>,
    pub goal: TaskId,
    pub kind: Kind,
    pub spec: TaskSpec,
    pub children: Vec<TaskId>,
    /// Dependencies from `after`, resolved to ids when the goal was added.
    pub after: Vec<TaskId>,
    pub status: Status,
    pub reason: String,
    /// Why this task needs a human, or `None`.
    pub attention: Option<String>,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub completed_at: Option<Millis>,
    /// Spawns so far (monotonic): events from an older attempt are recognised and ignored.
    pub attempt: u32,
    /// Retries used since the last explicit `retry`.
    pub retries_used: u32,
    pub proc: Proc,
    /// Comments and signal payloads appended to the prompt on re-runs.
    pub feedback: Vec<String>,
    pub summary: Option<String>,
    pub result: Option<serde_json::Value>,
    /// Gate or agent deadline (timeouts), kept across restarts.
    pub deadline: Option<Millis>,
    /// Next time a poll gate's command should run.
    pub next_poll: Option<Millis>,
    /// A poll is running; its result carries this attempt number.
    pub poll_in_flight: bool,
    /// The next spawn does not count against the spawn limit (restart recovery).
    pub free_spawn: bool,
    /// Conversation id given to the agent before it is spawned.
    pub session_id: Option<String>,
    /// The next spawn should resume the stored session instead of starting over.
    pub resume: bool,
    /// Hash of the diff a reviewer is shown (agent tasks with review, review gates).
    pub diff_hash: Option<String>,
    /// `git diff --stat` of that diff.
    #[serde(default)]
    pub diff_stat: Option<String>,
    /// The worktree of an agent task, once made.
    #[serde(default)]
    pub workdir: Option<WorkDir>,
    /// A tool call the agent holds until a human (or an `allow` rule) answers it.
    #[serde(default)]
    pub permission: Option<super::PermissionAsk>,
    /// The agent said its turn ended (Claude Code's `Stop` hook) and waits for input; a new
    /// prompt or typed input clears it. Not "done".
    #[serde(default)]
    pub turn_ended: bool,
    /// Where this agent task's branch no longer merges with another live task's branch or
    /// the goal's target branch (found by the conflict watcher; cleared when resolved).
    #[serde(default)]
    pub conflicts: Vec<Conflict>,
}

/// A merge of two branches that would stop on conflicts, as the watcher found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The other task, or `None` for the goal's target branch.
    pub task: Option<TaskId>,
    /// The other side's branch.
    pub branch: String,
    /// Paths that conflict, sorted.
    pub files: Vec<String>,
}

impl Conflict {
    /// "conflicts with #5: src/api.rs" (or "with main: …"); at most three paths named.
    pub fn line(&self) -> String {
        let with = match self.task {
            Some(t) => format!("#{t}"),
            None => self.branch.clone(),
        };
        let mut files = self
            .files
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if self.files.len() > 3 {
            files.push_str(&format!(" (+{} more)", self.files.len() - 3));
        }
        format!("conflicts with {with}: {files}")
    }
}

impl Task {
    pub fn new(
        id: TaskId,
        parent: Option<TaskId>,
        goal: TaskId,
        kind: Kind,
        spec: TaskSpec,
        now: Millis,
    ) -> Task {
        Task {
            id,
            parent,
            goal,
            kind,
            spec,
            children: Vec::new(),
            after: Vec::new(),
            status: Status::Pending,
            reason: String::new(),
            attention: None,
            created_at: now,
            started_at: None,
            completed_at: None,
            attempt: 0,
            retries_used: 0,
            proc: Proc::Idle,
            feedback: Vec::new(),
            summary: None,
            result: None,
            deadline: None,
            next_poll: None,
            poll_in_flight: false,
            free_spawn: false,
            session_id: None,
            resume: false,
            diff_hash: None,
            diff_stat: None,
            workdir: None,
            permission: None,
            turn_ended: false,
            conflicts: Vec::new(),
        }
    }

    pub fn is_goal(&self) -> bool {
        self.parent.is_none()
    }

    /// A human gate or an agent under review, waiting on a decision.
    pub fn awaits_decision(&self) -> bool {
        self.status == Status::PendingReview
            || (self.status == Status::Active
                && self.kind == Kind::Signal
                && self.spec.gate.as_deref() == Some("human_approval"))
    }
}

/// Where a shell for `task` opens (`goal`: its goal, for the repository). No IO:
/// `crate::shell::command` says if the directory is gone.
pub fn shell_dir(task: &Task, goal: Option<&Task>) -> Result<std::path::PathBuf, String> {
    let id = task.id;
    if task.kind != Kind::Agent {
        return Err(format!(
            "#{id} is a {} task: open a shell on one of its agent tasks",
            task.kind.as_str().replace('_', " ")
        ));
    }
    if let Some(w) = &task.workdir {
        return Ok(w.path.clone());
    }
    if task.spec.worktree {
        return Err(format!(
            "#{id} has no worktree yet: it is made when the task first runs"
        ));
    }
    goal.and_then(|g| g.spec.goal.as_ref())
        .map(|g| g.repo.clone())
        .ok_or_else(|| format!("#{id} has no goal repository to work in"))
}

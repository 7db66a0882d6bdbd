//! The one Command enum that keys, HTTP routes and CLI words all speak.

use serde::{Deserialize, Serialize};

use crate::model::{LandStrategy, NewTask, TaskId};
use crate::signal_match::SignalTarget;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalStatus {
    Pass,
    Fail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    RequestChanges,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Command {
    AddGoal {
        goal: Box<NewTask>,
    },
    Decide {
        task: TaskId,
        decision: Decision,
        comment: Option<String>,
        diff_hash: Option<String>,
    },
    Signal {
        task: TaskId,
        status: SignalStatus,
        payload: serde_json::Value,
    },
    ResolveSignals {
        target: SignalTarget,
        status: SignalStatus,
        payload: serde_json::Value,
    },
    Complete {
        task: TaskId,
        summary: String,
        review: bool,
        artifacts: serde_json::Map<String, serde_json::Value>,
    },
    Block {
        task: TaskId,
        reason: String,
    },
    /// An agent stores a named result on its task (`{result.KEY}` for later prompts).
    Artifact {
        task: TaskId,
        key: String,
        value: serde_json::Value,
    },
    /// An agent splits its own task into these children.
    Subtasks {
        task: TaskId,
        tasks: Vec<NewTask>,
    },
    /// A new prompt for an agent task that has not run yet (or failed, or is blocked).
    EditPrompt {
        task: TaskId,
        prompt: String,
    },
    Retry {
        task: TaskId,
    },
    Skip {
        task: TaskId,
    },
    Stop {
        task: TaskId,
    },
    Delete {
        task: TaskId,
    },
    /// Land a finished agent task or group now: a land task is added to its goal and runs.
    Land {
        task: TaskId,
        /// Default: the goal's recorded branch.
        into: Option<String>,
        /// Default: merge.
        strategy: Option<LandStrategy>,
        pr: bool,
    },
    Pause,
    Resume,
    /// An agent's hook holds a tool call until someone answers (`AnswerPermission`).
    AskPermission {
        task: TaskId,
        tool: String,
        input: serde_json::Value,
    },
    /// Allow or deny the task's held tool call (`a` / `x`, `taskboard allow|deny`, HTTP).
    AnswerPermission {
        task: TaskId,
        allow: bool,
        reason: Option<String>,
    },
    /// Nobody answered in time: the agent shows its own dialog in the pane.
    ExpirePermission {
        task: TaskId,
        request: u64,
    },
    /// Something an agent's hook reported about its session.
    Hook {
        task: TaskId,
        event: HookEvent,
    },
}

/// What an agent's hooks report (Claude Code hooks, Codex `notify`, aider notifications).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum HookEvent {
    /// The agent waits for a person (a permission prompt, an idle prompt, a question).
    NeedsYou { message: String },
    /// A prompt was submitted: the agent works again.
    Working,
    /// The agent's turn ended; it waits for the next prompt.
    TurnEnded,
    /// A tool call ran (or failed): if it was the held one, it was answered in the pane.
    ToolFinished {
        tool: String,
        input: serde_json::Value,
    },
    /// The agent started (or resumed) this conversation.
    SessionStarted {
        session_id: String,
        source: Option<String>,
    },
}

impl Command {
    /// A short name for the audit log and tracing.
    pub fn name(&self) -> &'static str {
        match self {
            Command::AddGoal { .. } => "add_goal",
            Command::Decide { .. } => "decision",
            Command::Signal { .. } => "signal",
            Command::ResolveSignals { .. } => "resolve_signals",
            Command::Complete { .. } => "complete",
            Command::Block { .. } => "block",
            Command::Artifact { .. } => "artifact",
            Command::Subtasks { .. } => "subtasks",
            Command::EditPrompt { .. } => "edit_prompt",
            Command::Retry { .. } => "retry",
            Command::Skip { .. } => "skip",
            Command::Stop { .. } => "stop",
            Command::Delete { .. } => "delete",
            Command::Land { .. } => "land",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::AskPermission { .. } => "ask_permission",
            Command::AnswerPermission { .. } => "permission",
            Command::ExpirePermission { .. } => "permission_expired",
            Command::Hook { .. } => "hook",
        }
    }
}

/// Why the board refused a command; maps onto HTTP codes and CLI exit codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum CommandError {
    #[error("no task #{id}")]
    NotFound { id: TaskId },
    #[error("{message}")]
    Conflict {
        message: String,
        status: Option<String>,
    },
    #[error("{message}")]
    Invalid {
        message: String,
        field: Option<String>,
    },
    #[error("could not store the change: {message}")]
    Storage { message: String },
}

impl CommandError {
    pub fn conflict(
        message: impl Into<String>,
        status: Option<crate::model::Status>,
    ) -> CommandError {
        CommandError::Conflict {
            message: message.into(),
            status: status.map(|s| s.as_str().to_string()),
        }
    }
}

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
            Command::Subtasks { .. } => "subtasks",
            Command::EditPrompt { .. } => "edit_prompt",
            Command::Retry { .. } => "retry",
            Command::Skip { .. } => "skip",
            Command::Stop { .. } => "stop",
            Command::Delete { .. } => "delete",
            Command::Land { .. } => "land",
            Command::Pause => "pause",
            Command::Resume => "resume",
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

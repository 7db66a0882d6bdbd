//! What a goal file says about a task once validated: the immutable part of a task.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Kind;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionPolicy {
    #[default]
    Spawn,
    Pinned,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpawnFallback {
    #[default]
    Block,
    Pinned,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    #[default]
    Fail,
    Pass,
    Escalate,
}

/// Settings only a goal (the root) carries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GoalSettings {
    /// Absolute path of the git repository the goal works in.
    pub repo: PathBuf,
    pub spawn_fallback: SpawnFallback,
    pub max_agents: Option<usize>,
    pub spawns_per_minute: Option<u32>,
    pub vars: BTreeMap<String, String>,
    /// The file the goal came from, if any.
    pub source: Option<PathBuf>,
}

/// Every field a task of any kind may carry; the goal file validator decides which kind may
/// set which. Inherited fields (`session`, `agent`, `worktree`) are already resolved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub title: String,
    pub key: Option<String>,
    pub priority: i64,
    pub parallel: bool,
    pub session: SessionPolicy,
    pub agent: Option<String>,
    pub worktree: bool,
    pub prompt: Option<String>,
    pub command: Option<Vec<String>>,
    pub review: bool,
    pub plan: bool,
    pub retries: u32,
    /// Seconds.
    pub timeout: Option<u64>,
    pub on_timeout: OnTimeout,
    pub gate: Option<String>,
    /// `owner/name` as CI knows it (signal tasks).
    pub repo: Option<String>,
    pub pr: Option<u64>,
    pub pr_url: Option<String>,
    pub poll: Option<String>,
    /// Seconds.
    pub poll_every: Option<u64>,
    /// Present on goals only.
    pub goal: Option<GoalSettings>,
}

/// A validated task tree about to be added to the board. `after` names keys of the same goal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewTask {
    pub kind: Kind,
    pub spec: TaskSpec,
    pub after: Vec<String>,
    pub children: Vec<NewTask>,
}

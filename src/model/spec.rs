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
    /// The branch the repository had checked out when the goal was added: where `land`
    /// tasks merge by default and what the conflict watcher compares against.
    #[serde(default)]
    pub branch: Option<String>,
}

/// How a `land` task brings the branches into its target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LandStrategy {
    /// Fast-forward only: blocks when the branches diverged.
    Ff,
    /// A merge commit per landed branch.
    #[default]
    Merge,
    /// One commit with all the work.
    Squash,
}

impl LandStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            LandStrategy::Ff => "ff",
            LandStrategy::Merge => "merge",
            LandStrategy::Squash => "squash",
        }
    }
}

/// A `land` task's fields (goal file), or an on-demand landing made by `L` / `taskboard land`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LandSpec {
    /// Target branch; `None`: the goal's recorded branch.
    pub into: Option<String>,
    pub strategy: LandStrategy,
    /// Keys of the tasks or groups to land (goal file); empty: every agent task of the goal.
    pub tasks: Vec<String>,
    /// The same, as ids (resolved when the goal is added, or given by an on-demand landing).
    #[serde(default)]
    pub task_ids: Vec<crate::model::TaskId>,
    /// Push a branch and open a pull request instead of moving `into`.
    pub pr: bool,
    /// Where to push (default `origin`).
    pub remote: Option<String>,
    /// The command that opens the PR (default `gh pr create …`); `{branch}`, `{into}`,
    /// `{remote}`, `{title}`, `{commit}` are filled.
    pub pr_command: Option<Vec<String>>,
    /// Made by `L` / `taskboard land`: waits only for what it lands, not earlier siblings.
    #[serde(default)]
    pub on_demand: bool,
}

/// The default `pr_command`.
pub const DEFAULT_PR_COMMAND: &[&str] = &[
    "gh", "pr", "create", "--fill", "--head", "{branch}", "--base", "{into}",
];

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
    /// Present on `land` tasks only.
    #[serde(default)]
    pub land: Option<LandSpec>,
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

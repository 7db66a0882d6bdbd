//! The goal file as TOML says it, with a span on every field so errors can point at it.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Option<Spanned<T>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTask {
    pub title: S<String>,
    pub key: S<String>,
    pub kind: S<String>,
    pub after: S<Vec<Spanned<String>>>,
    pub priority: S<i64>,
    pub repo: S<String>,
    pub spawn_fallback: S<String>,
    pub max_agents: S<usize>,
    pub spawns_per_minute: S<u32>,
    pub vars: S<BTreeMap<String, Spanned<RawVar>>>,
    pub parallel: S<bool>,
    pub session: S<String>,
    pub agent: S<String>,
    pub worktree: S<bool>,
    pub prompt: S<String>,
    pub command: S<Vec<String>>,
    pub review: S<bool>,
    pub plan: S<bool>,
    pub retries: S<u32>,
    pub timeout: S<String>,
    pub on_timeout: S<String>,
    pub gate: S<String>,
    pub pr: S<RawPr>,
    pub pr_url: S<String>,
    pub poll: S<String>,
    pub poll_every: S<String>,
    pub into: S<String>,
    pub strategy: S<String>,
    pub tasks: S<Vec<Spanned<String>>>,
    pub remote: S<String>,
    pub pr_command: S<Vec<String>>,
    pub task: Option<Vec<Spanned<RawTask>>>,
}

/// `pr = 42` or `pr = "42"` (so templates can fill it). `Other` catches any other value so
/// the validator, not serde's "did not match any variant", says what is wrong.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawPr {
    Number(i64),
    Text(String),
    Other(toml::Value),
}

/// `[vars] pr = { default = "", description = "…" }`, or `pr = "default"`. `Invalid` catches
/// any other shape so the validator can say how to write a var.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawVar {
    Default(String),
    Full(RawVarFull),
    Invalid(toml::Value),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVarFull {
    pub default: Option<String>,
    #[allow(dead_code)] // shown by `--help`-like listings later; accepted now
    pub description: Option<String>,
}

impl RawVar {
    pub fn default_value(&self) -> Option<&str> {
        match self {
            RawVar::Default(d) => Some(d),
            RawVar::Full(f) => f.default.as_deref(),
            RawVar::Invalid(_) => None,
        }
    }
}

/// Every field a goal-file table may have, some only on some kinds (`task`, the children,
/// is apart).
pub const FIELDS: &[&str] = &[
    "title",
    "key",
    "kind",
    "after",
    "priority",
    "repo",
    "spawn_fallback",
    "max_agents",
    "spawns_per_minute",
    "vars",
    "parallel",
    "session",
    "agent",
    "worktree",
    "prompt",
    "command",
    "review",
    "plan",
    "retries",
    "timeout",
    "on_timeout",
    "gate",
    "pr",
    "pr_url",
    "poll",
    "poll_every",
    "into",
    "strategy",
    "tasks",
    "remote",
    "pr_command",
];

/// Which fields each kind accepts (ARCHITECTURE §3); anything else is an "unknown field".
pub fn allowed_fields(kind: Option<crate::model::Kind>) -> &'static [&'static str] {
    use crate::model::Kind;
    match kind {
        None => &[
            "title",
            "priority",
            "repo",
            "spawn_fallback",
            "max_agents",
            "spawns_per_minute",
            "vars",
            "parallel",
            "session",
            "agent",
            "worktree",
        ],
        Some(Kind::Group) => &[
            "title", "key", "kind", "after", "priority", "parallel", "session", "agent", "worktree",
        ],
        Some(Kind::Agent) => &[
            "title", "key", "kind", "after", "priority", "session", "agent", "worktree", "prompt",
            "command", "review", "plan", "retries", "timeout",
        ],
        Some(Kind::HumanReview) => &[
            "title",
            "key",
            "kind",
            "after",
            "priority",
            "prompt",
            "timeout",
            "on_timeout",
        ],
        Some(Kind::Signal) => &[
            "title",
            "key",
            "kind",
            "after",
            "priority",
            "gate",
            "repo",
            "pr",
            "pr_url",
            "poll",
            "poll_every",
            "retries",
            "timeout",
            "on_timeout",
        ],
        Some(Kind::Land) => &[
            "title",
            "key",
            "kind",
            "after",
            "priority",
            "into",
            "strategy",
            "tasks",
            "pr",
            "remote",
            "pr_command",
        ],
    }
}

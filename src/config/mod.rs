//! Config file (TOML): limits, listener, agent profiles. Defaults live here, in code.

mod check;
pub mod keymap;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// An agent profile: how to start (and resume) one agent program.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub command: Vec<String>,
    #[serde(default)]
    pub resume: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub attention: Vec<String>,
    /// Append the "how to finish" note to each prompt.
    #[serde(default = "yes")]
    pub prompt_suffix: bool,
    /// Which agent program this runs, for the per-session wiring the board sets up (hooks,
    /// MCP server, notifications): `claude`, `codex` or `aider`. None: no wiring.
    #[serde(default)]
    pub integration: Option<Integration>,
}

/// The agent programs the board wires up per session (see `agent::wiring`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Integration {
    Claude,
    Codex,
    Aider,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub max_agents: usize,
    pub spawns_per_minute: u32,
    pub default_agent: String,
    pub listen: String,
    pub scrollback: usize,
    pub notify_command: Option<String>,
    /// Ring the outer terminal (BEL + OSC 9) when something starts needing you.
    pub bell: bool,
    pub agents: BTreeMap<String, Profile>,
    /// TUI key bindings: action name → key or keys (`approve = "a"`, `quit = ["q", "ctrl-c"]`).
    pub keys: BTreeMap<String, KeyBinding>,
    /// Agents' tool calls allowed without asking (`"Bash(cargo test:*)"`, `"Read"`).
    pub allow: Vec<String>,
    /// How long a held tool call waits for an answer before the agent asks in its pane.
    pub permission_wait: String,
}

/// One or more keys bound to a TUI action in `[keys]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum KeyBinding {
    One(String),
    Many(Vec<String>),
}

impl KeyBinding {
    pub fn keys(&self) -> Vec<&str> {
        match self {
            KeyBinding::One(k) => vec![k.as_str()],
            KeyBinding::Many(ks) => ks.iter().map(String::as_str).collect(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_agents: 4,
            spawns_per_minute: 5,
            default_agent: "claude".into(),
            listen: "127.0.0.1:0".into(),
            scrollback: 1000,
            notify_command: None,
            bell: true,
            agents: BTreeMap::new(),
            keys: BTreeMap::new(),
            allow: Vec::new(),
            permission_wait: "10m".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every mistake in the file (at most [`crate::tomlcheck::MAX_PROBLEMS`], then a count).
    #[error("{}", show_problems(path, problems, *more))]
    Invalid {
        path: PathBuf,
        problems: Vec<ConfigProblem>,
        more: usize,
    },
}

/// One mistake in the config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

fn show_problems(path: &Path, problems: &[ConfigProblem], more: usize) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{}:{}:{}: {}", path.display(), p.line, p.col, p.message))
        .collect();
    if more > 0 {
        lines.push(format!(
            "… and {more} more (only the first {} are shown)",
            crate::tomlcheck::MAX_PROBLEMS
        ));
    }
    lines.join("\n")
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The built-in profiles (ARCHITECTURE §4); the config file may override any of them.
pub fn builtin_profiles() -> BTreeMap<String, Profile> {
    let p = |command: &[&str], resume: Option<&[&str]>, attention: &[&str]| Profile {
        command: strs(command),
        resume: resume.map(strs),
        env: BTreeMap::new(),
        attention: strs(attention),
        prompt_suffix: true,
        integration: None,
    };
    let wired = |integration: Integration, profile: Profile| Profile {
        integration: Some(integration),
        ..profile
    };
    BTreeMap::from([
        (
            "claude".to_string(),
            wired(
                Integration::Claude,
                p(
                    &["claude", "--session-id", "{session_id}", "{prompt}"],
                    Some(&[
                        "claude",
                        "--resume",
                        "{session_id}",
                        "taskboard restarted this session: go on with the task where you left off.",
                    ]),
                    &[
                        r"Do you want to proceed\?",
                        // First run: folder trust, API key, login, connection, theme.
                        r"Is this a project you created or one you trust\?",
                        r"Do you want to use this API key\?",
                        r"Unable to connect to Anthropic services",
                        r"Select login method",
                        r"Please run /login",
                        r"Choose the text style that looks best",
                    ],
                ),
            ),
        ),
        (
            "codex".to_string(),
            wired(
                Integration::Codex,
                p(
                    // No shared background server: it would outlive the session.
                    &["codex", "--no-daemon", "{prompt}"],
                    None,
                    &[
                        r"Would you like to run the following command\?",
                        r"Would you like to make the following edits\?",
                        r"Would you like to grant these permissions",
                        r"Allow the \S+ MCP server to run tool",
                        r"Trust this folder\?",
                        r"Sign in with ChatGPT",
                    ],
                ),
            ),
        ),
        (
            "aider".to_string(),
            wired(
                Integration::Aider,
                p(
                    &[
                        "aider",
                        "--yes-always",
                        "--no-check-update",
                        "--no-analytics",
                        "--no-show-model-warnings",
                        "--no-gitignore",
                        "--message",
                        "{prompt}",
                    ],
                    None,
                    &[r"\(Y\)es/\(N\)o"],
                ),
            ),
        ),
        (
            "shell".to_string(),
            Profile {
                prompt_suffix: false,
                ..p(&["sh", "-c", "{prompt}"], None, &[])
            },
        ),
    ])
}

impl Config {
    /// Loads `path` if given; `required` makes a missing file an error (an explicit --config).
    pub fn load(path: Option<&Path>, required: bool) -> Result<Config, ConfigError> {
        let mut cfg = match path {
            Some(p) if p.exists() || required => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                Self::parse(&text, p)?
            }
            _ => Config::default(),
        };
        for (name, profile) in builtin_profiles() {
            cfg.agents.entry(name).or_insert(profile);
        }
        Ok(cfg)
    }

    /// Parses config text, reporting every mistake in it at once (see [`check`]).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        check::parse(text, path)
    }

    /// The `allow` list, parsed.
    pub fn allow_rules(&self) -> Result<Vec<crate::model::AllowRule>, String> {
        self.allow
            .iter()
            .map(|r| crate::model::AllowRule::parse(r))
            .collect()
    }

    /// `permission_wait`, parsed (at least 1 s).
    pub fn permission_wait(&self) -> Result<std::time::Duration, String> {
        let d = humantime::parse_duration(self.permission_wait.trim()).map_err(|e| {
            format!(
                "permission_wait {:?}: {e} (e.g. \"10m\", \"90s\")",
                self.permission_wait
            )
        })?;
        if d < std::time::Duration::from_secs(1) {
            return Err("permission_wait must be at least 1s".into());
        }
        Ok(d)
    }

    /// Default config path: the platform config dir's `taskboard/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "taskboard")
            .map(|d| d.config_dir().join("config.toml"))
    }
}

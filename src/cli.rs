//! The command line (clap): words, flags and their help texts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "taskboard",
    version,
    about = "A terminal task board that supervises coding agents",
    long_about = None,
    after_help = "Without a command: the TUI on the data dir. When a board already runs there (`taskboard up`), the TUI attaches to it: `q` detaches and its agents keep running, `Q` stops it."
)]
pub struct Cli {
    /// Data dir (default: $TASKBOARD_HOME, else the platform data dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file (default: the platform config dir's taskboard/config.toml, if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a goal file (or go on with the data dir's unfinished goals).
    Run(RunArgs),
    /// A temp git repo + the demo goal with a bundled fake agent (paths printed, kept).
    Demo(DemoArgs),
    /// Show the tree with statuses (read-only; works while a board runs).
    Status {
        /// Print the stable JSON shape documented in the README.
        #[arg(long)]
        json: bool,
    },
    /// Add a goal file to the running board (or to the store when none runs).
    Add {
        file: PathBuf,
        /// Template value for `{{K}}` in the goal file (repeatable).
        #[arg(long = "var", value_name = "K=V", value_parser = parse_var)]
        vars: Vec<(String, String)>,
    },
    /// Resolve a waiting signal gate: one task, or every task matching gate + PR.
    #[command(group(clap::ArgGroup::new("target").required(true).args(["task", "gate"])))]
    Signal {
        /// The signal task's id.
        #[arg(long)]
        task: Option<u64>,
        /// Gate name (gh_ci, gh_review, human_approval, ...); matches every waiting task.
        #[arg(long, requires = "which_pr")]
        gate: Option<String>,
        /// Repository as CI names it (owner/name).
        #[arg(long, requires = "gate")]
        repo: Option<String>,
        /// PR number (with --repo).
        #[arg(long, group = "which_pr", requires = "repo")]
        pr: Option<u64>,
        /// PR URL (instead of --repo and --pr).
        #[arg(long, group = "which_pr")]
        pr_url: Option<String>,
        #[arg(long, value_parser = ["pass", "fail"])]
        status: String,
        /// JSON payload (stored as the gate's result, or given to the agent as feedback).
        #[arg(long)]
        payload: Option<String>,
    },
    /// Mark an agent task complete (for agents; the task defaults to $TASKBOARD_TASK_ID).
    Complete {
        #[arg(long, env = "TASKBOARD_TASK_ID")]
        task: u64,
        #[arg(long)]
        summary: String,
        /// Ask for a human review before the task counts as done.
        #[arg(long)]
        review: bool,
    },
    /// Say an agent task cannot go on (for agents; the task defaults to $TASKBOARD_TASK_ID).
    Block {
        #[arg(long, env = "TASKBOARD_TASK_ID")]
        task: u64,
        #[arg(long)]
        reason: String,
    },
    /// Split an agent task into subtasks (for agents; the task defaults to $TASKBOARD_TASK_ID).
    /// FILE is TOML with [[task]] entries (the goal file's schema) or JSON {"tasks": [...]};
    /// `-` reads it from stdin.
    Subtasks {
        #[arg(long, env = "TASKBOARD_TASK_ID")]
        task: u64,
        file: PathBuf,
    },
    /// Store a named result on an agent task (for agents; the task defaults to
    /// $TASKBOARD_TASK_ID). Later prompts read it as {result.KEY}; `context` shows it.
    Artifact {
        #[arg(long, env = "TASKBOARD_TASK_ID")]
        task: u64,
        /// The name (letters, digits, `_`, `-`, `.`), e.g. pr_url.
        key: String,
        /// The value (text).
        value: String,
    },
    /// Print where a task stands: goal, group, prompt, siblings, and what finished before it
    /// (for agents; the task defaults to $TASKBOARD_TASK_ID).
    Context {
        #[arg(long, env = "TASKBOARD_TASK_ID")]
        task: u64,
        /// Print the JSON form (the text is its `text` field).
        #[arg(long)]
        json: bool,
    },
    /// Serve the taskboard tools (complete, block, subtasks, status, artifact) to an agent
    /// over MCP on stdin/stdout. Register it once: `claude mcp add taskboard -- taskboard mcp`.
    /// The board and task come from the agent's TASKBOARD_URL, TASKBOARD_TOKEN and
    /// TASKBOARD_TASK_ID (run by hand: --task ID and the data dir's running board).
    Mcp {
        #[arg(long, env = "TASKBOARD_TASK_ID")]
        task: Option<u64>,
    },
    /// Approve a review or approval gate.
    Approve {
        id: u64,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject a review gate (the gate fails).
    Reject {
        id: u64,
        #[arg(long)]
        comment: String,
    },
    /// Send work back to the agent before a gate, with a comment.
    RequestChanges {
        id: u64,
        #[arg(long)]
        comment: String,
    },
    /// Allow an agent's held tool call (the inbox shows it as "permission: Tool: …").
    Allow { id: u64 },
    /// Deny an agent's held tool call; the reason is what the agent is told.
    Deny {
        id: u64,
        #[arg(long)]
        reason: Option<String>,
    },
    /// For agents' hooks (written into each session's settings by the board): relays what
    /// the agent reports to the board. claude: the hook's JSON on stdin; codex: the JSON
    /// `notify` argument; aider: nothing. Prints the answer for a held tool call. Never
    /// fails the agent: without a board it prints nothing and exits 0.
    Hook {
        #[arg(value_parser = ["claude", "codex", "aider"])]
        agent: String,
        /// Codex's notify JSON (its last argument).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Retry a failed or blocked task (on a group: every failed/blocked task in it).
    Retry { id: u64 },
    /// Skip a task; what depends on it may run.
    Skip { id: u64 },
    /// Stop a running agent (its task fails).
    Stop { id: u64 },
    /// Delete a task or goal (a goal's worktrees go too; branches stay).
    Delete { id: u64 },
    /// Print a task's audit trail.
    Audit { id: u64 },
    /// Land a finished agent task or group now: merge its branches into a branch (default:
    /// the one the goal's repo had checked out when the goal was added), or open a PR.
    Land {
        id: u64,
        /// Target branch.
        #[arg(long, value_name = "BRANCH")]
        into: Option<String>,
        /// ff, merge (default) or squash.
        #[arg(long, value_parser = ["ff", "merge", "squash"])]
        strategy: Option<String>,
        /// Push a branch to origin and open a pull request (`gh pr create`) instead.
        #[arg(long)]
        pr: bool,
    },
    /// Print a task's output (a group's: each task's, in order). Colours only on a terminal.
    Logs {
        id: u64,
        /// Keep printing new output until the task is over (Ctrl-C stops).
        #[arg(long, short)]
        follow: bool,
    },
    /// Open a shell ($SHELL) in the directory a task's agent works in (its worktree).
    Shell { id: u64 },
    /// Start the board for the data dir in the background (it outlives the terminal).
    Up {
        /// Listener address (default from config: 127.0.0.1:0, any free port).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Stop the background board (asks first when agents are running).
    Down {
        /// Stop even when agents are running, without asking.
        #[arg(long)]
        force: bool,
    },
    /// Run the board in the foreground until stopped (what `up` starts in the background).
    #[command(hide = true)]
    Serve {
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Check that taskboard can run agents here: git, the data dir, a running board and its
    /// listener, each agent profile's program and version, Claude Code's set-up.
    ///
    /// One line per check: ✔ fine, ⚠ a warning (shown with what to do; does not fail), ✘ a
    /// problem (with what to do). Failures: git missing; the data dir not writable or under
    /// 100 MiB free; a running board whose listener does not answer; the config file not
    /// loading; the default agent's program missing; when the default agent is Claude Code,
    /// its onboarding not done or `<data>/worktrees` not trusted. Warnings: another profile's
    /// program missing (only tasks that name it need it), a version the README does not list
    /// as tested, no `--version` answer within 5 s, under 1 GiB free. Exit 0 when nothing
    /// failed, 1 otherwise. Reads the agents' own config files, never writes them.
    Doctor {
        /// Print {"ok": bool, "checks": [{"check", "status", "summary", "hint"}]}.
        #[arg(long)]
        json: bool,
    },
    /// Write a commented starter goal file (DIR/goal.toml: an agent task, a CI gate, a review
    /// gate) and, if there is none yet, a commented config file. Never overwrites: when
    /// DIR/goal.toml exists, nothing is written and the exit code is 1.
    Init {
        /// The repository the goal works on (default: the current directory).
        #[arg(value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Print a shell completion script: bash, zsh or fish (also elvish, powershell).
    ///
    /// bash: add `source <(taskboard completions bash)` to ~/.bashrc.
    /// zsh: add `source <(taskboard completions zsh)` to ~/.zshrc (after compinit).
    /// fish: `taskboard completions fish > ~/.config/fish/completions/taskboard.fish`.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Stop all new dispatch (running agents keep running).
    Pause,
    /// Start dispatching again.
    Resume,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Goal file (TOML). Without it, unfinished goals in the data dir go on.
    pub file: Option<PathBuf>,
    /// Template value for `{{K}}` in the goal file (repeatable).
    #[arg(long = "var", value_name = "K=V", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// No UI: print one line per status change; exit when the goal is over.
    #[arg(long)]
    pub headless: bool,
    /// Approve every human review gate automatically.
    #[arg(long)]
    pub auto_approve: bool,
    /// Give up after this long (e.g. 30s, 10m) with exit code 124.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Listener address (default from config: 127.0.0.1:0, any free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run without the UI, printing status lines.
    #[arg(long)]
    pub headless: bool,
    /// Approve the demo's review gate automatically.
    #[arg(long)]
    pub auto_approve: bool,
}

pub fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected K=V, got {s:?}")),
    }
}

pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write it like 30s, 10m or 2h)"))
}

//! `taskboard shell ID` and the TUI's `s`: an interactive shell (`$SHELL`, else `/bin/sh`)
//! in the directory a task's agent works in: its worktree, or the goal's repository for a
//! task that works in place. `taskboard shell` runs it in the user's terminal; the TUI runs
//! the same `Spec` in a PTY pane of its own (`crate::app`). Never the board's: no token.

use std::path::{Path, PathBuf};

use crate::datadir::DataDir;
use crate::failure::Failure;
use crate::model::TaskId;

/// Variables a user's shell must not inherit: they would make it act as an agent.
const NOT_INHERITED: [&str; 2] = ["TASKBOARD_TOKEN", "TASKBOARD_URL"];

/// What a shell for a task runs, where, and with what environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub program: String,
    pub dir: PathBuf,
    /// Set on top of this process's environment.
    pub env: Vec<(String, String)>,
    /// Taken out of this process's environment.
    pub env_remove: Vec<String>,
}

/// The shell for `task` in `dir`, with the task's id and directory in its environment (no
/// token: this shell is the user's, not the agent's); an error if `dir` is gone (a deleted
/// goal's worktree; its branch is kept).
pub fn spec(dir: &Path, task: TaskId) -> Result<Spec, String> {
    if !dir.is_dir() {
        return Err(format!(
            "{} is gone (a deleted goal's worktree? its branch is kept)",
            dir.display()
        ));
    }
    let program = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    Ok(Spec {
        program,
        dir: dir.to_path_buf(),
        env: vec![
            ("TASKBOARD_TASK_ID".into(), task.to_string()),
            ("TASKBOARD_WORKTREE".into(), dir.display().to_string()),
        ],
        env_remove: NOT_INHERITED.iter().map(|k| k.to_string()).collect(),
    })
}

/// `spec` as a command to run in this terminal.
pub fn command(dir: &Path, task: TaskId) -> Result<std::process::Command, String> {
    let s = spec(dir, task)?;
    let mut c = std::process::Command::new(&s.program);
    c.current_dir(&s.dir);
    for k in &s.env_remove {
        c.env_remove(k);
    }
    c.envs(s.env.iter().map(|(k, v)| (k, v)));
    Ok(c)
}

/// `taskboard shell ID`: runs the shell in the foreground; its exit code.
pub fn run(data: &DataDir, id: TaskId) -> Result<i32, Failure> {
    let board = crate::logs::load(data)?;
    let task = board.task(id).ok_or_else(|| Failure {
        message: format!("no task #{id}"),
        code: 1,
    })?;
    let dir = crate::model::shell_dir(task, board.task(task.goal))
        .map_err(|message| Failure { message, code: 1 })?;
    let branch = task
        .workdir
        .as_ref()
        .map(|w| format!(", branch {}", w.branch))
        .unwrap_or_default();
    eprintln!(
        "shell in {} (#{id} {}{branch}); exit to leave",
        dir.display(),
        task.spec.title
    );
    let mut cmd = command(&dir, id).map_err(|message| Failure { message, code: 1 })?;
    let status = cmd.status().map_err(|e| Failure {
        message: format!("cannot start the shell: {e}"),
        code: 1,
    })?;
    Ok(status.code().unwrap_or(1))
}

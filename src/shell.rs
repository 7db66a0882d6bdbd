//! `taskboard shell ID` and the TUI's `s`: an interactive shell (`$SHELL`, else `/bin/sh`)
//! in the directory a task's agent works in: its worktree, or the goal's repository for a
//! task that works in place. The TUI steps aside while it runs, as `taskboard shell` would.

use crate::datadir::DataDir;
use crate::failure::Failure;
use crate::model::TaskId;

/// The shell command for `task` in `dir`, with the task's id and directory in its
/// environment (no token: this shell is the user's, not the agent's); an error if `dir`
/// is gone (a deleted goal's worktree; its branch is kept).
pub fn command(dir: &std::path::Path, task: TaskId) -> Result<std::process::Command, String> {
    if !dir.is_dir() {
        return Err(format!(
            "{} is gone (a deleted goal's worktree? its branch is kept)",
            dir.display()
        ));
    }
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut c = std::process::Command::new(shell);
    c.current_dir(dir)
        .env("TASKBOARD_TASK_ID", task.to_string())
        .env("TASKBOARD_WORKTREE", dir)
        .env_remove("TASKBOARD_TOKEN")
        .env_remove("TASKBOARD_URL");
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

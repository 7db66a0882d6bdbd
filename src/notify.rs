//! `notify_command` (config, ARCHITECTURE §4): whenever an item arrives in the inbox (a
//! review, a block, an agent asking for you), run the command with that item as one line of
//! JSON on stdin. It listens to the board's notices on its own tokio task and runs each
//! command as its own process, so a slow or hung command never holds up the board. The
//! command gets no token (`TASKBOARD_TOKEN` and friends are taken out of its environment),
//! and neither it nor its output is logged: it may hold a webhook secret of the user's.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::broadcast::error::RecvError;

use crate::driver::{BoardHandle, Notice};
use crate::model::TaskId;

/// How long one run may take before its process group is killed.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Variables of the board's own environment a notifier never sees.
const WITHHELD: [&str; 6] = [
    "TASKBOARD_TOKEN",
    "TASKBOARD_URL",
    "TASKBOARD_TASK_ID",
    "TASKBOARD_GOAL_ID",
    "TASKBOARD_PROMPT",
    "TASKBOARD_MARK",
];

/// Starts the notifier for `command` (run as `sh -c COMMAND`). Must run inside a tokio
/// runtime; it ends when the board does.
pub fn start(board: &BoardHandle, command: String) {
    let mut notices = board.subscribe();
    let board = board.clone();
    tokio::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(Notice::Attention {
                    task,
                    title,
                    reason,
                }) => {
                    let item = inbox_item(&board, task, title, reason).await;
                    tokio::spawn(run(command.clone(), task, item));
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "notify_command: notices were dropped")
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// The inbox item as the notifier reads it: `{"id","goal","title","status","reason","at"}`.
async fn inbox_item(board: &BoardHandle, task: TaskId, title: String, reason: String) -> String {
    let facts = board
        .query(move |b| b.task(task).map(|t| (t.goal, t.status)))
        .await
        .flatten();
    let (goal, status) = match facts {
        Some((goal, status)) => (Some(goal), serde_json::to_value(status).ok()),
        None => (None, None),
    };
    json!({
        "id": task,
        "goal": goal,
        "title": title,
        "status": status,
        "reason": reason,
        "at": crate::model::now_millis(),
    })
    .to_string()
}

/// One run: `sh -c COMMAND` in its own process group, the item on stdin, nothing on the
/// board's terminal; killed (the whole group) after [`LIMIT`].
async fn run(command: String, task: TaskId, item: String) {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    for var in WITHHELD {
        cmd.env_remove(var);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(task, "notify_command could not start: {e}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin is fine: ignore a broken pipe.
        let _ = stdin.write_all(item.as_bytes()).await;
        let _ = stdin.write_all(b"\n").await;
    }
    match tokio::time::timeout(LIMIT, child.wait()).await {
        Ok(Ok(st)) if st.success() => tracing::debug!(task, "notify_command ran"),
        Ok(Ok(st)) => tracing::warn!(
            task,
            "notify_command failed ({st}); run it by hand with an item on stdin to see why"
        ),
        Ok(Err(e)) => tracing::warn!(task, "notify_command: {e}"),
        Err(_) => {
            if let Some(pid) = child.id() {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.wait().await;
            tracing::warn!(task, "notify_command took over {LIMIT:?} and was killed");
        }
    }
}

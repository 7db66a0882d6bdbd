//! The TUI attached to a board that runs elsewhere (`taskboard up`, ARCHITECTURE §1): the
//! tree and its changes come from the listener (`GET /api/goals?view=full`,
//! `GET /api/events`), pane bytes from the task log files, and keys, sizes and commands go
//! back over HTTP. The app loop, the views and the keys are the in-process ones; only where
//! commands go and where pane bytes come from differ.

pub mod events;
pub mod follow;
pub mod io;
pub mod panes;
pub mod request;

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, watch};

use crate::board::Snapshot;
use crate::command::{Command, CommandError};
use crate::datadir::DataDir;
use crate::driver::{Notice, Summary};
use crate::http::client::Client;

pub use panes::RemotePanes;

/// The board this TUI is attached to.
pub struct Remote {
    client: Arc<Client>,
    /// The board's process.
    pub pid: u32,
    /// Changes received on the event stream, not yet taken.
    feed: Arc<std::sync::Mutex<events::Feed>>,
}

/// What an attached TUI learns when it looks: a whole snapshot, or the changes since the
/// one it has (applied in order with `Snapshot::apply`).
pub enum Fresh {
    Full(Snapshot),
    Deltas(Vec<crate::board::delta::Delta>),
}

/// What the app loop needs to run attached: the remote, its panes, and the same two
/// channels an in-process board gives (pane output notices, a version bumped on changes).
pub struct Attached {
    pub remote: Arc<Remote>,
    pub panes: RemotePanes,
    pub notices: broadcast::Receiver<Notice>,
    pub summary: watch::Receiver<Summary>,
}

/// Attaches to the board `pid` running on `data`; call inside the runtime.
pub async fn connect(data: &DataDir, pid: u32, scrollback: usize) -> Result<Attached, String> {
    let client = Client::of_data_dir(data)
        .map_err(|e| e.to_string())?
        .named("tui");
    let health = client
        .call("GET", "/api/health", None, None)
        .await
        .map_err(|e| e.to_string())?;
    let theirs = health["version"].as_str().unwrap_or("?");
    let ours = env!("CARGO_PKG_VERSION");
    if theirs != ours {
        return Err(format!(
            "the board on {} (pid {pid}) runs taskboard {theirs} and this is {ours}: \
             restart it (`taskboard down`, then `taskboard up`) to attach",
            data.root.display()
        ));
    }
    let client = Arc::new(client);
    let (notice_tx, notices) = broadcast::channel(1024);
    let output = Arc::new(move |task| {
        let _ = notice_tx.send(Notice::Output(task));
    });
    let follower = follow::Follower::start(output)
        .map_err(|e| format!("cannot watch the task logs (inotify): {e}"))?;
    let (input_tx, input_rx) = mpsc::unbounded_channel();
    tokio::spawn(io::run(client.clone(), input_rx));
    let (changed_tx, summary) = watch::channel(Summary::default());
    let feed = Arc::new(std::sync::Mutex::new(events::Feed {
        full: true,
        ..Default::default()
    }));
    tokio::spawn(events::run(client.clone(), pid, changed_tx, feed.clone()));
    let panes = RemotePanes::new(follower, input_tx, data.logs(), scrollback);
    Ok(Attached {
        remote: Arc::new(Remote { client, pid, feed }),
        panes,
        notices,
        summary,
    })
}

impl Remote {
    /// Sends a command over its route; the answer is the board's, as in-process.
    pub async fn command(&self, cmd: Command) -> Result<Value, CommandError> {
        let Some(r) = request::request(&cmd) else {
            return Err(CommandError::Invalid {
                message: format!("`{}` cannot be sent to an attached board", cmd.name()),
                field: None,
            });
        };
        self.client
            .call(r.method, &r.path, r.body.as_ref(), None)
            .await
            .map_err(|e| request::error(e, request::task_of(&cmd)))
    }

    /// Adds a goal given as the goal file's JSON (`POST /api/goals`).
    pub async fn add_goal(&self, body: Value) -> Result<Value, CommandError> {
        self.post("/api/goals", body, None).await
    }

    /// Adds tasks under a group (`POST /api/tasks/:id/subtasks`).
    pub async fn add_tasks(&self, parent: u64, body: Value) -> Result<Value, CommandError> {
        let path = format!("/api/tasks/{parent}/subtasks");
        self.post(&path, body, Some(parent)).await
    }

    async fn post(
        &self,
        path: &str,
        body: Value,
        task: Option<u64>,
    ) -> Result<Value, CommandError> {
        self.client
            .call("POST", path, Some(&body), None)
            .await
            .map_err(|e| request::error(e, task))
    }

    /// What changed since the last look: the queued deltas, or a full snapshot when one is
    /// needed (deltas queued before it are older than it and go). `None` if the board did
    /// not answer (the next look asks again).
    pub async fn fresh(&self) -> Option<Fresh> {
        let (full, deltas) = match self.feed.lock() {
            Ok(mut f) => (std::mem::take(&mut f.full), std::mem::take(&mut f.deltas)),
            Err(_) => (true, Vec::new()),
        };
        if !full {
            return Some(Fresh::Deltas(deltas));
        }
        let snap = self.snapshot().await;
        if snap.is_none() {
            self.need_full();
        }
        snap.map(Fresh::Full)
    }

    /// The app found a change missing: the next look reads a full snapshot.
    pub fn need_full(&self) {
        if let Ok(mut f) = self.feed.lock() {
            f.full = true;
        }
    }

    /// The board's tasks now; `None` if it did not answer.
    pub async fn snapshot(&self) -> Option<Snapshot> {
        let v = self
            .client
            .call("GET", "/api/goals?view=full", None, None)
            .await
            .ok()?;
        serde_json::from_value(v)
            .map_err(|e| tracing::warn!("cannot read the board's snapshot: {e}"))
            .ok()
    }
}

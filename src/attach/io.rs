//! Keys and pane sizes of an attached TUI, sent to the board over its listener
//! (`POST /api/tasks/:id/input` with the bytes, `/resize` with rows and cols). One task sends
//! them in order on one keep-alive connection; writers never wait for the network.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use tokio::sync::mpsc;

use crate::agent::PaneIo;
use crate::http::client::{Client, Conn};
use crate::model::TaskId;

/// After this long without typing, the next key also claims the pane size (the size used is
/// the last one that typed or resized, as in tmux).
const CLAIM_AFTER: Duration = Duration::from_secs(1);

pub enum Op {
    Input(TaskId, Vec<u8>),
    Resize(TaskId, u16, u16),
}

/// The input side of one attached pane.
pub struct RemoteIo {
    task: TaskId,
    tx: mpsc::UnboundedSender<Op>,
    /// rows << 16 | cols, as this TUI last drew the pane.
    size: AtomicU32,
    claimed: Mutex<Option<Instant>>,
}

impl RemoteIo {
    pub fn new(task: TaskId, tx: mpsc::UnboundedSender<Op>) -> RemoteIo {
        RemoteIo {
            task,
            tx,
            size: AtomicU32::new(0),
            claimed: Mutex::new(None),
        }
    }

    fn send(&self, op: Op) -> std::io::Result<()> {
        self.tx
            .send(op)
            .map_err(|_| std::io::Error::other("the connection to the board is closed"))
    }
}

impl PaneIo for RemoteIo {
    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let stale = match self.claimed.lock() {
            Ok(mut at) => {
                let stale = at.is_none_or(|t| t.elapsed() > CLAIM_AFTER);
                *at = Some(Instant::now());
                stale
            }
            Err(_) => false,
        };
        let size = self.size.load(Ordering::Acquire);
        if stale && size != 0 {
            self.send(Op::Resize(self.task, (size >> 16) as u16, size as u16))?;
        }
        self.send(Op::Input(self.task, bytes.to_vec()))
    }

    fn resize(&self, rows: u16, cols: u16) {
        self.size
            .store((u32::from(rows) << 16) | u32::from(cols), Ordering::Release);
        if let Ok(mut at) = self.claimed.lock() {
            *at = Some(Instant::now());
        }
        let _ = self.send(Op::Resize(self.task, rows, cols));
    }
}

/// Sends queued keys and sizes until every pane is gone; consecutive keys for one pane go
/// as one request, consecutive sizes as the last one.
pub async fn run(client: Arc<Client>, mut rx: mpsc::UnboundedReceiver<Op>) {
    let mut conn = Conn::new(&client);
    let mut next = None;
    loop {
        let op = match next.take() {
            Some(op) => op,
            None => match rx.recv().await {
                Some(op) => op,
                None => return,
            },
        };
        let (path, body) = match op {
            Op::Input(task, mut bytes) => {
                while let Ok(more) = rx.try_recv() {
                    match more {
                        Op::Input(t, b) if t == task && bytes.len() < 64 * 1024 => {
                            bytes.extend_from_slice(&b)
                        }
                        other => {
                            next = Some(other);
                            break;
                        }
                    }
                }
                (format!("/api/tasks/{task}/input"), Bytes::from(bytes))
            }
            Op::Resize(task, mut rows, mut cols) => {
                while let Ok(more) = rx.try_recv() {
                    match more {
                        Op::Resize(t, r, c) if t == task => (rows, cols) = (r, c),
                        other => {
                            next = Some(other);
                            break;
                        }
                    }
                }
                let body = serde_json::json!({"rows": rows, "cols": cols}).to_string();
                (format!("/api/tasks/{task}/resize"), Bytes::from(body))
            }
        };
        if let Err(e) = conn.request("POST", &path, body).await {
            tracing::warn!("{path}: {e}");
        }
    }
}

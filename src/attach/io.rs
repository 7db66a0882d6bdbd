//! Keys and pane sizes of an attached TUI, sent to the board over its listener
//! (`POST /api/tasks/:id/input?rows=R&cols=C` with the bytes, `/resize` with rows and cols).
//! Keys carry this TUI's pane size, so the size used is the last one that typed or resized,
//! as in tmux. One task sends them in order on one keep-alive connection; writers never wait
//! for the network.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use hyper::body::Bytes;
use tokio::sync::mpsc;

use crate::agent::PaneIo;
use crate::http::client::{Client, Conn};
use crate::model::TaskId;

/// Bytes of keys sent in one request at most.
const MAX_BODY: usize = 32 * 1024;

pub enum Op {
    /// Bytes typed, and the pane size (rows << 16 | cols; 0 = not known yet).
    Input(TaskId, Vec<u8>, u32),
    Resize(TaskId, u16, u16),
}

/// The input side of one attached pane.
pub struct RemoteIo {
    task: TaskId,
    tx: mpsc::UnboundedSender<Op>,
    /// rows << 16 | cols, as this TUI last drew the pane.
    size: AtomicU32,
}

impl RemoteIo {
    pub fn new(task: TaskId, tx: mpsc::UnboundedSender<Op>) -> RemoteIo {
        RemoteIo {
            task,
            tx,
            size: AtomicU32::new(0),
        }
    }
}

impl PaneIo for RemoteIo {
    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let size = self.size.load(Ordering::Acquire);
        // Requests stay well under the listener's 64 KiB body limit.
        for chunk in bytes.chunks(MAX_BODY) {
            self.tx
                .send(Op::Input(self.task, chunk.to_vec(), size))
                .map_err(|_| std::io::Error::other("the connection to the board is closed"))?;
        }
        Ok(())
    }

    fn resize(&self, rows: u16, cols: u16) {
        self.size
            .store((u32::from(rows) << 16) | u32::from(cols), Ordering::Release);
        let _ = self.tx.send(Op::Resize(self.task, rows, cols));
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
            Op::Input(task, mut bytes, size) => {
                while let Ok(more) = rx.try_recv() {
                    match more {
                        Op::Input(t, b, s)
                            if t == task && s == size && bytes.len() + b.len() <= MAX_BODY =>
                        {
                            bytes.extend_from_slice(&b)
                        }
                        other => {
                            next = Some(other);
                            break;
                        }
                    }
                }
                let path = match size {
                    0 => format!("/api/tasks/{task}/input"),
                    s => format!(
                        "/api/tasks/{task}/input?rows={}&cols={}",
                        s >> 16,
                        s & 0xffff
                    ),
                };
                (path, Bytes::from(bytes))
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

//! The board's changes for an attached TUI: `GET /api/events?deltas=1` (Server-Sent
//! Events). Each `delta` event (the changed task records of one applied batch) is queued in
//! the `Feed` and bumps a version the app watches; the app then takes the queued deltas and
//! applies them to the snapshot it has (`Snapshot::apply`). A full snapshot is read only
//! when one is needed: on connecting (and again after the stream dropped), after `lagged`,
//! or when the app finds a version missing. The connection is made again if it drops while
//! the board lives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::sync::watch;

use crate::board::delta::Delta;
use crate::driver::Summary;
use crate::http::client::Client;

/// Changes received and not yet taken by the app.
#[derive(Debug, Default)]
pub struct Feed {
    pub deltas: Vec<Delta>,
    /// A full snapshot is needed before (or instead of) the deltas.
    pub full: bool,
}

impl Feed {
    /// What one block of the stream means for the feed; true if the app should look.
    pub fn on_block(&mut self, block: &[u8]) -> bool {
        let (mut event, mut data) = ("", Vec::new());
        for line in block.split(|b| *b == b'\n') {
            if let Some(v) = line.strip_prefix(b"event:") {
                event = match std::str::from_utf8(v).map(str::trim) {
                    Ok("delta") => "delta",
                    Ok("lagged") => "lagged",
                    Ok(_) => "other",
                    Err(_) => "other",
                };
            } else if let Some(v) = line.strip_prefix(b"data:") {
                if !data.is_empty() {
                    data.push(b'\n');
                }
                data.extend_from_slice(v.strip_prefix(b" ").unwrap_or(v));
            }
        }
        match event {
            "delta" => match serde_json::from_slice::<Delta>(&data) {
                Ok(d) => self.deltas.push(d),
                Err(e) => {
                    tracing::warn!("cannot read a delta from the board: {e}");
                    self.full = true;
                }
            },
            "lagged" => self.full = true,
            // `task`, `board`, `attention`, `conflicts`: the deltas carry what they say;
            // comments (the keep-alive): nothing.
            _ => return false,
        }
        true
    }
}

/// Follows the event stream until the board's process is gone; then drops `changed`, which
/// tells the app the board has stopped.
pub async fn run(
    client: Arc<Client>,
    board_pid: u32,
    changed: watch::Sender<Summary>,
    feed: Arc<Mutex<Feed>>,
) {
    let bump = || changed.send_modify(|s| s.version += 1);
    loop {
        if let Ok(mut body) = client.stream("/api/events?deltas=1").await {
            // Whatever happened while we were not listening.
            if let Ok(mut f) = feed.lock() {
                f.full = true;
            }
            bump();
            let mut buf: Vec<u8> = Vec::new();
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                crate::http::client::received(data.len());
                buf.extend_from_slice(&data);
                let mut any = false;
                while let Some(end) = find(&buf, b"\n\n") {
                    if let Ok(mut f) = feed.lock() {
                        any |= f.on_block(&buf[..end]);
                    }
                    buf.drain(..end + 2);
                }
                if any {
                    bump();
                }
            }
        }
        if !crate::http::client::pid_alive(board_pid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_queued_and_the_rest_is_left_to_them() {
        let mut f = Feed::default();
        assert!(!f.on_block(b": keep-alive"));
        assert!(!f.on_block(b"event: task\ndata: {\"id\":3}"));
        assert!(!f.on_block(b"event: board\ndata: {\"version\":3}"));
        assert!(f.on_block(
            b"event: delta\ndata: {\"version\":4,\"tasks\":[],\"deleted\":[5],\"goals\":[1],\"paused\":false,\"rework\":{}}"
        ));
        assert_eq!(f.deltas.len(), 1);
        assert_eq!(f.deltas[0].version, 4);
        assert_eq!(f.deltas[0].deleted, vec![5]);
        assert!(!f.full);
        assert!(f.on_block(b"event: lagged\ndata: {\"missed\":9}"));
        assert!(f.full);
        assert_eq!(find(b"a\n\nb", b"\n\n"), Some(1));
    }

    #[test]
    fn an_unreadable_delta_asks_for_a_full_snapshot() {
        let mut f = Feed::default();
        assert!(f.on_block(b"event: delta\ndata: {\"version\":"));
        assert!(f.full && f.deltas.is_empty());
    }
}

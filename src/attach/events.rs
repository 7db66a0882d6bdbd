//! The board's changes for an attached TUI: `GET /api/events` (Server-Sent Events). Each
//! `task`, `attention`, `board` or `lagged` event bumps a version the app watches, and the
//! app then reads a fresh snapshot, as it does in-process after the board's own summary
//! changes. The connection is made again if it drops while the board lives.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::sync::watch;

use crate::driver::Summary;
use crate::http::client::Client;

/// Follows the event stream until the board's process is gone; then drops `changed`, which
/// tells the app the board has stopped.
pub async fn run(client: Arc<Client>, board_pid: u32, changed: watch::Sender<Summary>) {
    let bump = || changed.send_modify(|s| s.version += 1);
    loop {
        if let Ok(mut body) = client.stream("/api/events").await {
            // Whatever happened while we were not listening.
            bump();
            let mut buf: Vec<u8> = Vec::new();
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                buf.extend_from_slice(&data);
                let mut any = false;
                while let Some(end) = find(&buf, b"\n\n") {
                    any |= names_an_event(&buf[..end]);
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

/// One SSE block: true unless it is only comments (the keep-alive).
fn names_an_event(block: &[u8]) -> bool {
    block
        .split(|b| *b == b'\n')
        .any(|line| line.starts_with(b"event:") || line.starts_with(b"data:"))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_comments_are_not_events() {
        assert!(!names_an_event(b": keep-alive"));
        assert!(names_an_event(b"event: task\ndata: {\"id\":3}"));
        assert_eq!(find(b"a\n\nb", b"\n\n"), Some(1));
    }
}

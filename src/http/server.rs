//! The accept loop: HTTP/1 only, a cap on connections at once, and graceful shutdown. At the
//! cap a new connection is admitted by shedding the one that has been idle longest (no
//! request in progress: a keep-alive connection between requests, or one whose request head
//! is not complete), so a flood of idle or slow connections from one local program cannot
//! starve the CLI, CI signals or an attached TUI. Requests in progress, event streams
//! included, are never shed; when every connection has one, the newcomer waits.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore, TryAcquireError};

use super::conn::{self, ConnState};

/// At most this many connections are served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Headers not complete this long after a connection began waiting for a request → closed.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection without a byte of a request this long (new, or kept alive after an answer)
/// → closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// At the cap, how long to wait for the shed connection's place before asking another one
/// (the one asked may have begun a request meanwhile; it then finishes it first).
const SHED_RETRY: Duration = Duration::from_millis(25);

/// Serves `app` on `listener` until `shutdown` turns true. Each connection holds one of
/// `permits` (made with [`MAX_CONNECTIONS`]) while it lives.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    permits: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    // The connections served, oldest first; only this loop holds the list.
    let mut conns: Vec<Arc<ConnState>> = Vec::new();
    loop {
        let (stream, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        conns.retain(|c| !c.ended());
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(TryAcquireError::Closed) => return,
            Err(TryAcquireError::NoPermits) => {
                match make_room(&permits, &mut conns, &mut shutdown).await {
                    Some(p) => p,
                    None => return,
                }
            }
        };
        let state = Arc::new(ConnState::default());
        conns.push(state.clone());
        tokio::spawn(conn::serve(
            stream,
            app.clone(),
            state,
            permit,
            shutdown.clone(),
        ));
    }
}

/// At the cap: asks the connection idle longest to close and waits for a place; `None` when
/// the listener stops meanwhile.
async fn make_room(
    permits: &Arc<Semaphore>,
    conns: &mut Vec<Arc<ConnState>>,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<OwnedSemaphorePermit> {
    loop {
        conns.retain(|c| !c.ended());
        if let Some(c) = oldest_idle(conns) {
            c.ask_to_shed();
        }
        tokio::select! {
            p = permits.clone().acquire_owned() => return p.ok(),
            _ = tokio::time::sleep(SHED_RETRY) => {}
            _ = shutdown.changed() => return None,
        }
    }
}

fn oldest_idle(conns: &[Arc<ConnState>]) -> Option<&Arc<ConnState>> {
    conns
        .iter()
        .filter(|c| c.sheddable())
        .min_by_key(|c| c.idle_since())
}

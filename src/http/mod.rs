//! The localhost listener (ARCHITECTURE §6): routes, auth, the accept loop, and the client
//! the CLI uses. HTTP never touches the screen; it talks to the board.

pub mod auth;
pub mod client;
mod conn;
mod context;
mod errors;
pub mod head;
pub mod hooks;
mod io;
mod linger;
mod routes;
pub mod server;
mod writes;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::sync::watch;

use crate::datadir::DataDir;
use crate::driver::BoardHandle;
use crate::store::StoreHandle;
pub use auth::Keys;
pub use routes::{BODY_LIMIT, MAX_STREAMS};

/// What every route shares. Axum clones the state for each extractor of each request, so it
/// is one `Arc` (a clone of the parts themselves costs a handful of atomics and two
/// allocations for the keys).
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Shared>);

pub struct Shared {
    pub board: BoardHandle,
    pub keys: Keys,
    pub store: StoreHandle,
    /// Places for `GET /api/events` streams ([`routes::MAX_STREAMS`]).
    pub streams: std::sync::Arc<tokio::sync::Semaphore>,
    /// How long a held tool call waits for a human (config `permission_wait`).
    pub permission_wait: std::time::Duration,
}

impl AppState {
    pub fn new(
        board: BoardHandle,
        keys: Keys,
        store: StoreHandle,
        permission_wait: std::time::Duration,
    ) -> AppState {
        let streams = std::sync::Arc::new(tokio::sync::Semaphore::new(routes::MAX_STREAMS));
        AppState(std::sync::Arc::new(Shared {
            board,
            keys,
            store,
            streams,
            permission_wait,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// `--listen` / config `listen`: an address on the loopback interface only.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let with_host = if s.chars().all(|c| c.is_ascii_digit()) {
        format!("127.0.0.1:{s}")
    } else if let Some(port) = s.strip_prefix("localhost:") {
        format!("127.0.0.1:{port}")
    } else if let Some(port) = s.strip_prefix(':') {
        format!("127.0.0.1:{port}")
    } else {
        s.to_string()
    };
    let addr: SocketAddr = with_host
        .parse()
        .map_err(|_| format!("--listen {s:?}: expected 127.0.0.1:PORT (PORT 0 = any free port)"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "--listen {s:?}: the listener binds the loopback interface only (127.0.0.1)"
        ));
    }
    Ok(addr)
}

/// A bound socket, before the board exists (agents need the URL at spawn time).
pub struct Bound {
    pub listener: tokio::net::TcpListener,
    pub url: String,
}

/// The accept queue: connections past the served ones wait here. std's `bind` asks for 128;
/// a burst beyond that made the kernel reset connections (seen at 1,000 at once).
const BACKLOG: u32 = 1024;

pub fn bind(addr: SocketAddr) -> std::io::Result<Bound> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(BACKLOG)?;
    let port = listener.local_addr()?.port();
    let ip = match addr.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        v6 => v6,
    };
    let host = match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    Ok(Bound {
        listener,
        url: format!("http://{host}:{port}"),
    })
}

/// A serving listener; `stop` ends it and removes the endpoint file.
pub struct Listener {
    pub url: String,
    stop: watch::Sender<bool>,
    endpoint: std::path::PathBuf,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Listener {
    /// Stops accepting, lets requests in flight get their answers (up to 2 s), and removes
    /// the endpoint file.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let _ = std::fs::remove_file(&self.endpoint);
        let all = server::MAX_CONNECTIONS as u32;
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(2),
            self.permits.acquire_many(all),
        )
        .await;
    }
}

/// Starts serving and writes `<data>/endpoint` (URL, then pid).
pub fn serve(bound: Bound, state: AppState, data: &DataDir) -> std::io::Result<Listener> {
    let (stop, rx) = watch::channel(false);
    let app = routes::router(state);
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(server::MAX_CONNECTIONS));
    tokio::spawn(server::serve(bound.listener, app, permits.clone(), rx));
    let endpoint = data.endpoint();
    let tmp = data.root.join("endpoint.tmp");
    std::fs::write(&tmp, format!("{}\n{}\n", bound.url, std::process::id()))?;
    std::fs::rename(&tmp, &endpoint)?;
    Ok(Listener {
        url: bound.url,
        stop,
        endpoint,
        permits,
    })
}

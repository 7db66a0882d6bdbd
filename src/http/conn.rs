//! One connection of the listener: what it is doing (idle, a request head arriving, a request
//! in progress), told by its IO and its service through atomics and read by the accept loop
//! to choose whom to shed at the cap; and the task that serves it and closes it when idle too
//! long or asked to make room. A request in progress (an event stream included) is never cut
//! by either: a shed or an idle timeout only ever closes a connection with no request.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit};

use super::io::Watched;
use super::server::{HEADER_TIMEOUT, IDLE_TIMEOUT};

/// Milliseconds on one monotonic clock shared by all connections.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// What one connection is doing. Each field has one writer: the connection's own task (its
/// IO, its service, its body guard); the accept loop only reads, and asks through `shed`.
#[derive(Debug)]
pub struct ConnState {
    /// When it last had no request: accepted, or its last answer finished (`now_ms`).
    idle_since: AtomicU64,
    /// Bytes of a request head arrived since then (a slow client is still idle).
    head_started: AtomicBool,
    /// A complete head went to hyper and its request has not begun yet.
    head_pending: AtomicBool,
    /// Requests begun and finished (their answer's body ended or was dropped).
    started: AtomicU64,
    finished: AtomicU64,
    /// Its socket was read at least once: a fresh connection whose bytes nobody looked at
    /// yet is not idle, it is unknown.
    polled: AtomicBool,
    /// It is closing on its own (a lingering close, a 431): leave it be.
    closing: AtomicBool,
    ended: AtomicBool,
    shed_asked: AtomicBool,
    shed: Notify,
}

impl Default for ConnState {
    fn default() -> ConnState {
        ConnState {
            idle_since: AtomicU64::new(now_ms()),
            head_started: AtomicBool::new(false),
            head_pending: AtomicBool::new(false),
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            polled: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            shed_asked: AtomicBool::new(false),
            shed: Notify::new(),
        }
    }
}

impl ConnState {
    /// No request in progress and none about to begin.
    pub fn idle(&self) -> bool {
        let finished = self.finished.load(SeqCst);
        !self.head_pending.load(SeqCst) && self.started.load(SeqCst) == finished
    }

    pub fn idle_since(&self) -> u64 {
        self.idle_since.load(SeqCst)
    }

    pub fn ended(&self) -> bool {
        self.ended.load(SeqCst)
    }

    /// May be closed to make room: idle, looked at, not closing, not asked already.
    pub fn sheddable(&self) -> bool {
        !self.ended()
            && self.polled.load(SeqCst)
            && !self.closing.load(SeqCst)
            && !self.shed_asked.load(SeqCst)
            && self.idle()
    }

    /// Asks the connection's task to close it if it is still idle (else it finishes its
    /// request and closes then).
    pub fn ask_to_shed(&self) {
        self.shed_asked.store(true, SeqCst);
        self.shed.notify_one();
    }

    pub(super) fn mark_polled(&self) {
        self.polled.store(true, SeqCst);
    }
    pub(super) fn mark_closing(&self) {
        self.closing.store(true, SeqCst);
    }
    pub(super) fn head_bytes(&self) {
        self.head_started.store(true, SeqCst);
    }
    pub(super) fn head_complete(&self) {
        self.head_pending.store(true, SeqCst);
        self.head_started.store(false, SeqCst);
    }

    fn closable(&self) -> bool {
        self.idle() && !self.closing.load(SeqCst)
    }

    /// Idle with not one byte of a request for `IDLE_TIMEOUT` (a head that started is
    /// hyper's header timeout's to judge).
    fn idle_expired(&self, now: u64) -> bool {
        self.closable()
            && !self.head_started.load(SeqCst)
            && now.saturating_sub(self.idle_since()) >= IDLE_TIMEOUT.as_millis() as u64
    }

    /// When to look again whether it has been idle too long.
    fn next_check(&self, now: u64) -> Duration {
        let idle_for = IDLE_TIMEOUT.as_millis() as u64;
        let due = if self.closable() {
            (self.idle_since() + idle_for).saturating_sub(now)
        } else {
            idle_for
        };
        Duration::from_millis(due.max(10))
    }
}

/// Counts a request from the service call until its answer's body ends or is dropped.
struct InFlight(Arc<ConnState>);

impl InFlight {
    fn begin(conn: Arc<ConnState>) -> InFlight {
        conn.started.fetch_add(1, SeqCst);
        conn.head_pending.store(false, SeqCst);
        InFlight(conn)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.head_started.store(false, SeqCst);
        self.0.idle_since.store(now_ms(), SeqCst);
        self.0.finished.fetch_add(1, SeqCst);
    }
}

/// The router as hyper calls it, marking each request in progress.
pub struct Tracked<S> {
    inner: S,
    conn: Arc<ConnState>,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for Tracked<S>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: Body + Unpin,
{
    type Response = Response<Guarded<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let guard = InFlight::begin(self.conn.clone());
        let answer = self.inner.call(req);
        Box::pin(async move {
            let res = answer.await?;
            Ok(res.map(|body| Guarded {
                body,
                _guard: guard,
            }))
        })
    }
}

/// An answer's body that keeps its request counted as in progress until it ends.
pub struct Guarded<B> {
    body: B,
    _guard: InFlight,
}

impl<B: Body + Unpin> Body for Guarded<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }
    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Marks the connection ended and frees its place when its task ends, however it ends.
struct Place {
    conn: Arc<ConnState>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.conn.ended.store(true, SeqCst);
    }
}

/// Bytes the client sent that nobody read yet (the runtime may not have told the task yet):
/// a connection with some is not idle, whatever its state says. `fd` is the connection's
/// socket, owned by the hyper connection that lives as long as the caller's task.
fn has_unread(fd: std::os::fd::RawFd) -> bool {
    use nix::sys::socket::{recv, MsgFlags};
    let mut byte = [0u8; 1];
    matches!(
        recv(fd, &mut byte, MsgFlags::MSG_PEEK | MsgFlags::MSG_DONTWAIT),
        Ok(n) if n > 0
    )
}

/// Serves one connection until it ends, it is idle too long, it is shed while idle, or the
/// listener stops.
pub async fn serve(
    stream: TcpStream,
    app: Router,
    state: Arc<ConnState>,
    permit: OwnedSemaphorePermit,
    mut stop: watch::Receiver<bool>,
) {
    let _place = Place {
        conn: state.clone(),
        _permit: permit,
    };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
    let service = Tracked {
        inner: TowerToHyperService::new(app),
        conn: state.clone(),
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        // Our own scan of each head answers first (the JSON 431); this holds a pipelined
        // head (sent before the answer to the one ahead of it, so read unscanned) to about
        // the same limit, with hyper's bare 431.
        .max_header_size(super::head::MAX_HEAD_BYTES + 256)
        .keep_alive(true)
        // A client that shuts its write side after the request (`nc -N`, some CI scripts)
        // still gets its answer; without this hyper drops the response.
        .half_close(true)
        .serve_connection(TokioIo::new(Watched::new(stream, state.clone())), service);
    tokio::pin!(conn);
    let mut asked = false;
    loop {
        let check = state.next_check(now_ms());
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = state.shed.notified(), if !asked => {
                if state.closable() {
                    if !has_unread(fd) {
                        tracing::trace!(fd, "shed an idle connection");
                        return;
                    }
                    // Its request is here but unread: read it (and stay a candidate, should
                    // it be a slow client's next byte).
                    state.shed_asked.store(false, SeqCst);
                    continue;
                }
                // A request began meanwhile: it finishes, then the connection closes.
                asked = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep(check) => {
                if state.idle_expired(now_ms()) && !has_unread(fd) {
                    tracing::trace!(fd, "closed a connection idle for {IDLE_TIMEOUT:?}");
                    return;
                }
            }
            _ = stop.changed() => {
                if state.closable() {
                    return;
                }
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
                return;
            }
        }
    }
}

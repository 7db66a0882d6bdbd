//! Benchmark B10, two rows measured the same way in one run (keep-alive connections,
//! interleaved, alternating who goes first):
//! - the HTTP layer: `POST /api/tasks/:id/resize` on a live agent (token check, JSON parse,
//!   the pane looked up on the board, an answer; nothing committed) against a minimal axum
//!   handler that parses the JSON and answers;
//! - the durable path: `POST /api/tasks/:id/signal` on a gate that keeps waiting (applied
//!   and committed with fsync before the answer) against a minimal axum handler that
//!   commits the same rows with the same pragmas and the same group commit
//!   (`group_commit.rs`) before it answers.
//!
//! The durable path against the parse-and-answer handler is printed for information.
//! Also times a slowloris close. Run: `cargo bench --bench http_signal` (`-- --quick`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Also compiled into tests/bench_smoke.rs, which uses only part of it.
#![allow(dead_code)]

#[path = "group_commit.rs"]
mod group_commit;

pub const SIGNAL_BODY: &str = r#"{"status":"fail","payload":{"summary":"bench"}}"#;
pub const RESIZE_BODY: &str = r#"{"rows":24,"cols":80}"#;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The reference: one route that parses the JSON and answers JSON, like the signal route.
pub fn serve_reference(port: u16) {
    use axum::{routing::post, Json, Router};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        async fn handler(Json(v): Json<serde_json::Value>) -> Json<serde_json::Value> {
            Json(serde_json::json!({"id": 1, "status": v["status"]}))
        }
        let app = Router::new()
            .route("/api/tasks/{id}/signal", post(handler))
            .route("/api/tasks/{id}/resize", post(handler));
        let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        axum::serve(l, app).await.expect("serve");
    });
}

/// The durable reference: parses the JSON, has the change committed by a rusqlite writer
/// doing the board's group commit (`task_json`: the board's record of the gate), answers.
pub fn serve_reference_durable(port: u16, dir: &std::path::Path, task_json: String) {
    use axum::{extract::State, routing::post, Json, Router};
    let writer = Arc::new(std::sync::Mutex::new(group_commit::Writer::start(
        dir, task_json,
    )));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        type W = Arc<std::sync::Mutex<group_commit::Writer>>;
        async fn handler(
            State(w): State<W>,
            Json(v): Json<serde_json::Value>,
        ) -> Json<serde_json::Value> {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let payload = v["payload"].to_string();
            if let Ok(w) = w.lock() {
                w.send(
                    payload,
                    Box::new(move || {
                        let _ = tx.send(());
                    }),
                );
            }
            let _ = rx.await;
            Json(serde_json::json!({"id": 2, "status": "active"}))
        }
        let app = Router::new()
            .route("/api/tasks/{id}/signal", post(handler))
            .with_state(writer);
        let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        axum::serve(l, app).await.expect("serve");
    });
}

/// Keep-alive load from `conns` threads for `secs`; returns requests/s (2xx only).
pub fn load(addr: &str, path: &str, body: &str, token: &str, conns: usize, secs: f64) -> f64 {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (stop, ok, req, addr) = (stop.clone(), ok.clone(), req.clone(), addr.to_string());
            std::thread::spawn(move || {
                let Ok(mut s) = TcpStream::connect(&addr) else {
                    return;
                };
                let _ = s.set_nodelay(true);
                let mut buf = vec![0u8; 8192];
                while !stop.load(Ordering::Relaxed) {
                    if s.write_all(req.as_bytes()).is_err() {
                        return;
                    }
                    let mut got = Vec::new();
                    loop {
                        let n = match s.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        got.extend_from_slice(&buf[..n]);
                        if let Some(end) = find(&got, b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                            let len: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse().ok())
                                .unwrap_or(0);
                            if got.len() >= end + 4 + len {
                                if head.starts_with("http/1.1 2") {
                                    ok.fetch_add(1, Ordering::Relaxed);
                                }
                                break;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    ok.load(Ordering::Relaxed) as f64 / secs
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn wait_port(addr: &str) {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end && TcpStream::connect(addr).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct Board {
    pub child: Child,
    pub addr: String,
    pub token: String,
    pub gate: u64,
    /// A live agent (`sleep`), whose pane the HTTP-layer row resizes.
    pub agent: u64,
    pub dir: tempfile::TempDir,
}

impl Board {
    /// The board's data dir.
    pub fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

/// A headless taskboard with one signal gate that never runs out of retries and one live
/// agent; its data dir is in the system temp dir (the machine's disk).
pub fn start_board(bin: &str) -> Board {
    let dir = tempfile::tempdir().expect("tempdir");
    let goal = dir.path().join("bench.toml");
    std::fs::write(&goal, "title = \"bench\"\nparallel = true\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"bench\"\nretries = 4000000000\n[[task]]\ntitle = \"agent\"\ncommand = [\"sleep\", \"600\"]\nworktree = false\n").expect("goal");
    let data = dir.path().join("data");
    let child = Command::new(bin)
        .args([
            "--data-dir",
            data.to_str().unwrap_or("data"),
            "--config",
            "/dev/null",
            "run",
            goal.to_str().unwrap_or(""),
            "--headless",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start taskboard");
    let ep = data.join("endpoint");
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end
        && std::fs::read_to_string(&ep)
            .map(|t| t.lines().count() < 2)
            .unwrap_or(true)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = std::fs::read_to_string(&ep)
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let token = std::fs::read_to_string(data.join("token"))
        .unwrap_or_default()
        .trim()
        .to_string();
    let board = Board {
        child,
        addr: url.trim_start_matches("http://").to_string(),
        token,
        gate: 2,
        agent: 3,
        dir,
    };
    // The agent's pane is open once a resize is answered.
    let path = format!("/api/tasks/{}/resize", board.agent);
    while Instant::now() < end
        && load(&board.addr, &path, RESIZE_BODY, &board.token, 1, 0.05) == 0.0
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    board
}

/// Seconds until the server closes a connection that sent half a header line.
pub fn slowloris(addr: &str) -> f64 {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return f64::NAN;
    };
    let _ = s.write_all(b"POST /api/tasks/2/signal HT");
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let t = Instant::now();
    let mut b = [0u8; 64];
    let _ = s.read(&mut b);
    t.elapsed().as_secs_f64()
}

pub struct Figures {
    /// req/s per repetition: our resize, our signal, parse-and-answer, group-commit reference.
    pub resize: Vec<f64>,
    pub signal: Vec<f64>,
    pub plain: Vec<f64>,
    pub durable: Vec<f64>,
    pub slowloris_s: f64,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    l.local_addr().expect("addr").port()
}

pub fn run(
    bin: &str,
    self_exe: &str,
    conns: usize,
    secs: f64,
    reps: usize,
    with_slowloris: bool,
) -> Figures {
    let mut board = start_board(bin);
    let signal = format!("/api/tasks/{}/signal", board.gate);
    let resize = format!("/api/tasks/{}/resize", board.agent);
    // A first signal so the gate's stored record is what the reference will write.
    load(&board.addr, &signal, SIGNAL_BODY, &board.token, 1, 0.2);
    let record = group_commit::task_json(&board.dir.path().join("data").join("taskboard.db"));
    let ref_dir = tempfile::tempdir().expect("tempdir");
    let record_file = ref_dir.path().join("record.json");
    std::fs::write(&record_file, &record).expect("record");
    let (plain_port, durable_port) = (free_port(), free_port());
    let mut plain_srv = Command::new(self_exe)
        .args(["--serve-ref", &plain_port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("reference server");
    let mut durable_srv = Command::new(self_exe)
        .args(["--serve-ref-durable", &durable_port.to_string()])
        .arg(ref_dir.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("durable reference server");
    let plain_addr = format!("127.0.0.1:{plain_port}");
    let durable_addr = format!("127.0.0.1:{durable_port}");
    wait_port(&plain_addr);
    wait_port(&durable_addr);
    let mut f = Figures {
        resize: Vec::new(),
        signal: Vec::new(),
        plain: Vec::new(),
        durable: Vec::new(),
        slowloris_s: f64::NAN,
    };
    for rep in 0..reps {
        let ours = |f: &mut Figures| {
            f.resize.push(load(
                &board.addr,
                &resize,
                RESIZE_BODY,
                &board.token,
                conns,
                secs,
            ));
            f.signal.push(load(
                &board.addr,
                &signal,
                SIGNAL_BODY,
                &board.token,
                conns,
                secs,
            ));
        };
        let theirs = |f: &mut Figures| {
            f.plain
                .push(load(&plain_addr, &resize, RESIZE_BODY, "", conns, secs));
            f.durable
                .push(load(&durable_addr, &signal, SIGNAL_BODY, "", conns, secs));
        };
        if rep % 2 == 0 {
            ours(&mut f);
            theirs(&mut f);
        } else {
            theirs(&mut f);
            ours(&mut f);
        }
    }
    if with_slowloris {
        f.slowloris_s = slowloris(&board.addr);
    }
    for c in [&mut plain_srv, &mut durable_srv, &mut board.child] {
        let _ = c.kill();
        let _ = c.wait();
    }
    f
}

/// `--profile resize|signal|ref|ref-durable SECS`: one side under the row's load for SECS
/// seconds, its server's pid printed first (for `perf record -p`), then its req/s.
fn profile(self_exe: &str, what: &str, secs: f64) {
    let mut board = start_board(env!("CARGO_BIN_EXE_taskboard"));
    let signal = format!("/api/tasks/{}/signal", board.gate);
    let resize = format!("/api/tasks/{}/resize", board.agent);
    load(&board.addr, &signal, SIGNAL_BODY, &board.token, 1, 0.2);
    let (mut server, addr, token) = match what {
        "ref" | "ref-durable" => {
            let dir = tempfile::tempdir().expect("tempdir");
            let record = group_commit::task_json(&board.data().join("taskboard.db"));
            std::fs::write(dir.path().join("record.json"), record).expect("record");
            let port = free_port();
            let flag = if what == "ref" {
                "--serve-ref"
            } else {
                "--serve-ref-durable"
            };
            let child = Command::new(self_exe)
                .args([flag, &port.to_string()])
                .arg(dir.keep())
                .stdout(Stdio::null())
                .spawn()
                .expect("reference server");
            let addr = format!("127.0.0.1:{port}");
            wait_port(&addr);
            (Some(child), addr, String::new())
        }
        _ => (None, board.addr.clone(), board.token.clone()),
    };
    let pid = server.as_ref().map(|c| c.id()).unwrap_or(board.child.id());
    println!("PID {pid}");
    std::thread::sleep(Duration::from_secs(1));
    let (path, body) = match what {
        "resize" | "ref" => (&resize, RESIZE_BODY),
        _ => (&signal, SIGNAL_BODY),
    };
    let rate = load(&addr, path, body, &token, 16, secs);
    println!("{what}: {rate:.0} req/s");
    for c in server.iter_mut().chain([&mut board.child]) {
        let _ = c.kill();
        let _ = c.wait();
    }
}

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve-ref-durable") {
        let port = args
            .get(i + 1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(18081);
        let dir = std::path::PathBuf::from(args.get(i + 2).cloned().unwrap_or_default());
        let record = std::fs::read_to_string(dir.join("record.json")).unwrap_or_default();
        serve_reference_durable(port, &dir, record);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--serve-ref") {
        serve_reference(
            args.get(i + 1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(18080),
        );
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let what = args.get(i + 1).cloned().unwrap_or_default();
        let secs = args.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(10.0);
        profile(&args[0], &what, secs);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (secs, reps) = if quick { (1.0, 1) } else { (5.0, 5) };
    let conns = args
        .iter()
        .position(|a| a == "--conns")
        .and_then(|i| args.get(i + 1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(16);
    let f = run(
        env!("CARGO_BIN_EXE_taskboard"),
        &args[0],
        conns,
        secs,
        reps,
        !quick,
    );
    let runs = |v: &[f64]| v.iter().map(|x| *x as u64).collect::<Vec<_>>();
    let m = |v: &[f64]| median(v);
    println!("B10 HTTP ({conns} keep-alive connections, {reps}x{secs}s interleaved, alternating)");
    for (what, v) in [
        ("taskboard POST /api/tasks/:id/resize", &f.resize),
        ("minimal axum, parse + answer", &f.plain),
        ("taskboard POST /api/tasks/:id/signal", &f.signal),
        ("minimal axum + group commit", &f.durable),
    ] {
        println!("  {what:<40} {:>9.0} req/s  (runs: {:?})", m(v), runs(v));
    }
    println!(
        "  HTTP layer: taskboard / axum {:.2} (goal >= 0.80)",
        m(&f.resize) / m(&f.plain)
    );
    println!(
        "  durable path: taskboard / axum + group commit {:.2} (goal >= 0.80)",
        m(&f.signal) / m(&f.durable)
    );
    println!(
        "  (information) durable signal / axum without a commit {:.2}",
        m(&f.signal) / m(&f.plain)
    );
    if !quick {
        println!(
            "  slowloris (half a header line) closed after {:.1} s (goal <= 10 s)",
            f.slowloris_s
        );
    }
}

//! Benchmark: requests/s on taskboard's durable signal path (`POST /api/tasks/:id/signal`,
//! a gate that keeps waiting, so every request is applied and committed) next to a minimal
//! axum handler, measured the same way in the same run. Also times a slowloris close.
//! Run: `cargo bench --bench http_signal` (add `-- --quick` for a short run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Also compiled into tests/bench_smoke.rs, which uses only part of it.
#![allow(dead_code)]

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
        let app = Router::new().route("/api/tasks/{id}/signal", post(handler));
        let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        axum::serve(l, app).await.expect("serve");
    });
}

/// Keep-alive load from `conns` threads for `secs`; returns requests/s (2xx only).
pub fn load(addr: &str, path: &str, token: &str, conns: usize, secs: f64) -> f64 {
    let body = r#"{"status":"fail","payload":{"summary":"bench"}}"#;
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
    _dir: tempfile::TempDir,
}

impl Board {
    /// The board's data dir.
    pub fn data(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }
}

/// A headless taskboard with one signal gate that never runs out of retries.
pub fn start_board(bin: &str) -> Board {
    let dir = tempfile::tempdir().expect("tempdir");
    let goal = dir.path().join("bench.toml");
    std::fs::write(&goal, "title = \"bench\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"bench\"\nretries = 4000000000\n").expect("goal");
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
    Board {
        child,
        addr: url.trim_start_matches("http://").to_string(),
        token,
        gate: 2,
        _dir: dir,
    }
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
    pub ours: Vec<f64>,
    pub reference: Vec<f64>,
    pub slowloris_s: f64,
}

pub fn run(
    bin: &str,
    self_exe: &str,
    conns: usize,
    secs: f64,
    reps: usize,
    with_slowloris: bool,
) -> Figures {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    let mut reference = Command::new(self_exe)
        .args(["--serve-ref", &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("reference server");
    let ref_addr = format!("127.0.0.1:{port}");
    wait_port(&ref_addr);
    let mut board = start_board(bin);
    let path = format!("/api/tasks/{}/signal", board.gate);
    let (mut ours, mut refs) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        ours.push(load(&board.addr, &path, &board.token, conns, secs));
        refs.push(load(&ref_addr, &path, "", conns, secs));
    }
    let slowloris_s = if with_slowloris {
        slowloris(&board.addr)
    } else {
        f64::NAN
    };
    let _ = reference.kill();
    let _ = reference.wait();
    let _ = board.child.kill();
    let _ = board.child.wait();
    Figures {
        ours,
        reference: refs,
        slowloris_s,
    }
}

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve-ref") {
        serve_reference(
            args.get(i + 1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(18080),
        );
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (secs, reps) = if quick { (1.0, 1) } else { (5.0, 3) };
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
    let (o, r) = (median(&f.ours), median(&f.reference));
    println!("signal path ({conns} keep-alive connections, {reps}×{secs}s interleaved)");
    println!(
        "  taskboard POST /api/tasks/:id/signal  {o:>9.0} req/s  (runs: {:?})",
        f.ours.iter().map(|x| *x as u64).collect::<Vec<_>>()
    );
    println!(
        "  minimal axum handler                   {r:>9.0} req/s  (runs: {:?})",
        f.reference.iter().map(|x| *x as u64).collect::<Vec<_>>()
    );
    println!("  ratio taskboard / axum: {:.2} (goal ≥ 0.80)", o / r);
    if !quick {
        println!(
            "  slowloris (half a header line) closed after {:.1} s (goal ≤ 10 s)",
            f.slowloris_s
        );
    }
}

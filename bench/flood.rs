//! Benchmark B15: real clients under a connection flood. 1,000 connections that never send
//! a byte and 100 that send half a request head and then one byte a second, each made again
//! at once whenever the board closes it, so that many stay open or queued the whole time
//! (the board serves at most 256 at once). Meanwhile: `GET /api/health` over a new
//! connection, the CLI's `taskboard status` and `taskboard signal`, each timed; the same
//! requests on the same board with no flood are the reference, in the same run.
//! Run: `cargo bench --bench flood` (add `-- --quick` for a short run, `-- --bin PATH` to
//! measure another build).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Also compiled into tests (bench_smoke, flood), which use only part of it.
#![allow(dead_code)]

#[path = "http_signal.rs"]
pub mod http_signal;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use http_signal::{median, start_board, Board};

/// Raises this process's open-file limit to at least `n` (the soft limit is often 1,024;
/// root may raise the hard one too).
pub fn raise_nofile(n: u64) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    if soft < n {
        setrlimit(Resource::RLIMIT_NOFILE, n, hard.max(n))
            .unwrap_or_else(|e| panic!("cannot raise RLIMIT_NOFILE to {n}: {e}"));
    }
}

/// What the flood did.
#[derive(Debug, Default, Clone, Copy)]
pub struct FloodStats {
    /// Connections made (each one the board closed was made again).
    pub connects: u64,
    /// Connections the board closed.
    pub closed: u64,
    /// Connections open from the flood's side at the end.
    pub open: u64,
}

/// The flood: idle and slow-header connections on a thread of their own, made again as soon
/// as the board closes them, until stopped.
pub struct Flood {
    stop: Arc<AtomicBool>,
    counts: Arc<[AtomicU64; 3]>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flood {
    pub fn start(addr: &str, idle: usize, slow: usize) -> Flood {
        let addr: std::net::SocketAddr = addr.parse().expect("a 127.0.0.1:PORT address");
        assert!(addr.ip().is_loopback(), "the flood stays on loopback");
        let stop = Arc::new(AtomicBool::new(false));
        let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
        let (st, cs) = (stop.clone(), counts.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let tasks: Vec<_> = (0..idle + slow)
                    .map(|i| tokio::spawn(one(addr, i < slow, st.clone(), cs.clone())))
                    .collect();
                for t in tasks {
                    let _ = t.await;
                }
            });
        });
        Flood {
            stop,
            counts,
            thread: Some(thread),
        }
    }

    pub fn stats(&self) -> FloodStats {
        FloodStats {
            connects: self.counts[0].load(Ordering::Relaxed),
            closed: self.counts[1].load(Ordering::Relaxed),
            open: self.counts[2].load(Ordering::Relaxed),
        }
    }

    /// Waits until `n` connections are open from the flood's side (or `limit` passes).
    pub fn wait_open(&self, n: u64, limit: Duration) -> bool {
        self.wait_until(limit, |s| s.open >= n)
    }

    /// Waits until the stats satisfy `done` (or `limit` passes).
    pub fn wait_until(&self, limit: Duration, done: impl Fn(&FloodStats) -> bool) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if done(&self.stats()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn stop(mut self) -> FloodStats {
        let stats = self.stats();
        self.halt();
        stats
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.halt();
    }
}

/// One flooding connection, made again whenever it is closed.
async fn one(
    addr: std::net::SocketAddr,
    slow: bool,
    stop: Arc<AtomicBool>,
    counts: Arc<[AtomicU64; 3]>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        counts[0].fetch_add(1, Ordering::Relaxed);
        counts[2].fetch_add(1, Ordering::Relaxed);
        // Closed with a reset, so that the churn of shed connections (each made again at
        // once) leaves no TIME_WAIT behind: ~20,000 a second of those took every local port
        // on loopback within seconds, and then nothing, the CLI included, could connect.
        let _ = s.set_zero_linger();
        if slow {
            let _ = s
                .write_all(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                .await;
        }
        let mut buf = [0u8; 1024];
        let closed = loop {
            if stop.load(Ordering::Relaxed) {
                break false;
            }
            match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                Ok(Ok(_)) => {}
                Err(_) if slow => {
                    if s.write_all(b"a").await.is_err() {
                        break true;
                    }
                }
                Err(_) => {}
            }
        };
        counts[2].fetch_sub(1, Ordering::Relaxed);
        if closed {
            counts[1].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Milliseconds for `GET /api/health` over a new connection, until the whole answer is in;
/// panics unless it is a 200.
pub fn health_ms(addr: &str) -> f64 {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        s,
        "GET /api/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.starts_with("HTTP/1.1 200") && text.contains("\"ok\":true"),
        "health under load: {text:?} after {ms:.0} ms"
    );
    ms
}

/// Milliseconds for the CLI word `args` on `data` (the real binary); panics unless it exits 0.
pub fn cli_ms(bin: &str, data: &std::path::Path, args: &[&str]) -> f64 {
    let t = Instant::now();
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(data)
        .args(["--config", "/dev/null"])
        .args(args)
        .env_remove("TASKBOARD_URL")
        .env_remove("TASKBOARD_TOKEN")
        .output()
        .expect("run taskboard");
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(
        out.status.success(),
        "taskboard {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ms
}

/// One sample of each: health, `status --json`, a `signal` to the gate.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    pub health: Vec<f64>,
    pub status: Vec<f64>,
    pub signal: Vec<f64>,
}

impl Samples {
    pub fn take(&mut self, bin: &str, board: &Board, data: &std::path::Path) {
        self.health.push(health_ms(&board.addr));
        self.status.push(cli_ms(bin, data, &["status", "--json"]));
        let gate = board.gate.to_string();
        self.signal.push(cli_ms(
            bin,
            data,
            &["signal", "--task", &gate, "--status", "fail"],
        ));
    }

    pub fn max(&self) -> f64 {
        self.health
            .iter()
            .chain(&self.status)
            .chain(&self.signal)
            .fold(0.0, |a, b| a.max(*b))
    }

    pub fn line(&self) -> String {
        let max = |v: &[f64]| v.iter().fold(0.0f64, |a, b| a.max(*b));
        format!(
            "health median {:.1} ms (max {:.1}), status median {:.1} ms (max {:.1}), signal median {:.1} ms (max {:.1})",
            median(&self.health),
            max(&self.health),
            median(&self.status),
            max(&self.status),
            median(&self.signal),
            max(&self.signal)
        )
    }
}

pub struct Figures {
    pub quiet: Samples,
    pub flooded: Samples,
    pub flood: FloodStats,
}

/// `n` samples with no flood, then `n` under `idle` + `slow` flooding connections.
pub fn run(bin: &str, idle: usize, slow: usize, n: usize) -> Figures {
    raise_nofile(4 * (idle + slow) as u64 + 1024);
    let mut board = start_board(bin);
    let data = board.data();
    let mut quiet = Samples::default();
    for _ in 0..n {
        quiet.take(bin, &board, &data);
    }
    let flood = Flood::start(&board.addr, idle, slow);
    // In effect: every flooding connection made at least once and the board shedding (at
    // its cap). A release build sheds so fast that a flood of 1,100 is a churn (~20,000
    // connections a second, each closed at once) rather than 1,100 open at a time.
    let made = (idle + slow) as u64;
    assert!(
        flood.wait_until(Duration::from_secs(30), |s| s.connects >= made
            && s.closed >= 100),
        "the flood never got going: {:?}",
        flood.stats()
    );
    std::thread::sleep(Duration::from_secs(1));
    let mut flooded = Samples::default();
    for _ in 0..n {
        flooded.take(bin, &board, &data);
        std::thread::sleep(Duration::from_millis(100));
    }
    let stats = flood.stop();
    let _ = board.child.kill();
    let _ = board.child.wait();
    Figures {
        quiet,
        flooded,
        flood: stats,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--bin PATH`: another build (an older one, to compare).
    let bin = args
        .iter()
        .position(|a| a == "--bin")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_taskboard").to_string());
    let (idle, slow, n) = if quick { (300, 30, 3) } else { (1000, 100, 20) };
    let f = run(&bin, idle, slow, n);
    println!(
        "answers under a flood of {idle} idle + {slow} slow-header connections ({n} samples each)"
    );
    println!("  quiet:   {}", f.quiet.line());
    println!("  flooded: {}", f.flooded.line());
    println!(
        "  flood: {} connections made, {} closed by the board",
        f.flood.connects, f.flood.closed
    );
    println!(
        "  worst under flood {:.0} ms (goal < 1000 ms), ratio of medians flooded / quiet: health {:.2}, status {:.2}, signal {:.2}",
        f.flooded.max(),
        median(&f.flooded.health) / median(&f.quiet.health),
        median(&f.flooded.status) / median(&f.quiet.status),
        median(&f.flooded.signal) / median(&f.quiet.signal)
    );
}

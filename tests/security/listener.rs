//! The listener's controls (docs/SECURITY.md): Host/Origin checks, loopback only, a stale
//! endpoint never gets the token, idempotency scoped to a token, the limits under 1,000
//! concurrent connections, and the orphan sweep sparing other users' processes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::*;

#[test]
fn host_and_origin_checks_stop_rebinding_and_cross_site_requests() {
    let s = Scratch::new();
    let f = s.file(
        "h.toml",
        "title = \"h\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n",
    );
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate", "active", LONG));
    let gate = id_of(&s, "gate");
    let auth = format!("Bearer {}", live.token);
    let path = format!("/api/tasks/{gate}/signal");
    let pass = Some(r#"{"status":"pass"}"#);
    for (name, value) in [
        ("Origin", "http://evil.example"),
        ("Origin", "null"),
        ("Origin", "http://127.0.0.1.evil.example:80"),
        ("Host", "evil.example"),
        ("Host", "localhost.evil.example"),
    ] {
        let mut addr_headers = vec![("Authorization", auth.as_str())];
        addr_headers.push((name, value));
        let code = if name == "Host" {
            raw_with_host(&live.addr(), value, &auth, &path)
        } else {
            http(&live.addr(), "POST", &path, pass, &addr_headers).0
        };
        assert_eq!(code, 403, "{name}: {value}");
    }
    // What a web page can send without a preflight: no token, so nothing happens.
    let (code, _) = http(
        &live.addr(),
        "POST",
        &path,
        pass,
        &[
            ("Origin", "http://localhost:3000"),
            ("Content-Type", "text/plain"),
        ],
    );
    assert_eq!(code, 401);
    // A preflight is never granted: no CORS headers, so a page cannot read or send more.
    let mut c = TcpStream::connect(live.addr()).unwrap();
    write!(c, "OPTIONS {path} HTTP/1.1\r\nHost: {}\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization\r\nConnection: close\r\n\r\n", live.addr()).unwrap();
    let mut resp = String::new();
    let _ = c.read_to_string(&mut resp);
    assert!(
        !resp.to_ascii_lowercase().contains("access-control-allow"),
        "{resp}"
    );
    assert_eq!(by_title(&flatten(&s.status()), "gate")["status"], "active");
}

fn raw_with_host(addr: &str, host: &str, auth: &str, path: &str) -> u16 {
    let mut c = TcpStream::connect(addr).unwrap();
    let body = r#"{"status":"pass"}"#;
    write!(c, "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut resp = String::new();
    let _ = c.read_to_string(&mut resp);
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_listener_is_on_loopback_only() {
    let s = Scratch::new();
    let f = s.file(
        "l.toml",
        "title = \"l\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n",
    );
    for bad in ["0.0.0.0:0", "[::]:0", "10.1.2.3:0"] {
        let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--listen", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
        assert!(text(&out).contains("loopback"), "{bad}: {}", text(&out));
    }
    let live = Live::start(&s, Some(&f), &[]);
    assert!(live.url.starts_with("http://127.0.0.1:"), "{}", live.url);
    let port: u16 = live.url.rsplit(':').next().unwrap().parse().unwrap();
    // The kernel's own view: the listening socket's local address is 127.0.0.1.
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let listening: Vec<&str> = tcp
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[3] == "0A" && f[1].ends_with(&format!(":{port:04X}"))
        })
        .collect();
    assert_eq!(listening.len(), 1, "{listening:?}");
    assert!(listening[0]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .starts_with("0100007F:"));
}

#[test]
fn a_stale_endpoint_never_gets_the_token() {
    let s = Scratch::new();
    let f = s.file(
        "e.toml",
        "title = \"e\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n",
    );
    let mut live = Live::start(&s, Some(&f), &[]);
    live.kill9();
    // Something else now listens where the board was; the endpoint file still points there.
    let thief = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    thief.set_nonblocking(true).unwrap();
    let dead = live.child.id();
    for pid in [dead, std::process::id()] {
        std::fs::write(
            s.data().join("endpoint"),
            format!("http://{}\n{pid}\n", thief.local_addr().unwrap()),
        )
        .unwrap();
        let out = s.run(&["pause"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            text(&out).contains("no taskboard is running"),
            "{}",
            text(&out)
        );
        assert!(
            matches!(thief.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "the client connected to a stale endpoint (pid {pid})"
        );
    }
}

#[test]
fn idempotency_answers_belong_to_the_token_that_made_them() {
    let s = Scratch::new();
    let f = s.file("i.toml", "title = \"i\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\nretries = 100\n");
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate", "active", LONG));
    let gate = id_of(&s, "gate");
    let path = format!("/api/tasks/{gate}/signal");
    let send = |token: &str| {
        let auth = format!("Bearer {token}");
        http(
            &live.addr(),
            "POST",
            &path,
            Some(r#"{"status":"fail"}"#),
            &[("Authorization", &auth), ("Idempotency-Key", "same")],
        )
        .0
    };
    let gate_token = keys(&s).task_token(gate);
    assert_eq!(send(&live.token), 200);
    assert_eq!(send(&live.token), 200);
    assert_eq!(send(&gate_token), 200, "another token's key is its own");
    let t = flatten(&s.status());
    assert_eq!(
        by_title(&t, "gate")["retries_used"],
        2,
        "applied once per token"
    );
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn limits_hold_under_1000_concurrent_connections() {
    raise_nofile(8192);
    let s = Scratch::new();
    let f = s.file("c.toml", "title = \"c\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\nretries = 100000\n");
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate", "active", LONG));
    let gate = id_of(&s, "gate");
    let base = fds(live.child.id());
    let addr = live.addr();
    let auth = format!("Bearer {}", live.token);
    let start = Instant::now();
    // 250 connections that never finish their headers, 750 real requests at the same time.
    let threads: Vec<_> = (0..1000)
        .map(|i| {
            let (addr, auth) = (addr.clone(), auth.clone());
            std::thread::spawn(move || -> (usize, u16, Duration) {
                let kind = i % 4;
                let mut c = loop {
                    match TcpStream::connect(&addr) {
                        Ok(c) => break c,
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                };
                c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                let t0 = Instant::now();
                let req = match kind {
                    0 => "GET /api/health HT".to_string(),
                    1 => {
                        let big = format!("{{\"status\":\"fail\",\"payload\":\"{}\"}}", "x".repeat(100_000));
                        format!("POST /api/tasks/{gate}/signal HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{big}", big.len())
                    }
                    2 => format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
                    _ => {
                        let body = r#"{"status":"fail"}"#;
                        format!("POST /api/tasks/{gate}/signal HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
                    }
                };
                let _ = c.write_all(req.as_bytes());
                let mut resp = Vec::new();
                let _ = c.read_to_end(&mut resp);
                let text = String::from_utf8_lossy(&resp);
                let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
                (kind, code, t0.elapsed())
            })
        })
        .collect();
    let mut peak = 0;
    while threads.iter().any(|t| !t.is_finished()) && start.elapsed() < Duration::from_secs(90) {
        peak = peak.max(fds(live.child.id()));
        std::thread::sleep(Duration::from_millis(20));
    }
    let results: Vec<(usize, u16, Duration)> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    let took = start.elapsed();
    let count = |k: usize, c: u16| results.iter().filter(|r| r.0 == k && r.1 == c).count();
    assert_eq!(
        count(1, 413),
        250,
        "oversize bodies: {:?}",
        results
            .iter()
            .filter(|r| r.0 == 1)
            .map(|r| r.1)
            .collect::<Vec<_>>()
    );
    assert_eq!(count(2, 200), 250, "health checks");
    assert_eq!(count(3, 200), 250, "signals");
    let slow: Vec<Duration> = results.iter().filter(|r| r.0 == 0).map(|r| r.2).collect();
    assert!(
        slow.iter().all(|d| *d <= Duration::from_secs(13)),
        "half headers held too long: {:?}",
        slow.iter().max()
    );
    // Half headers are idle connections: at the cap the oldest make room for the requests
    // (shed at once), the rest go at the header timeout. None is left open.
    assert!(
        results.iter().filter(|r| r.0 == 0).all(|r| r.1 == 0),
        "a half header got an answer"
    );
    assert!(
        peak <= base + 256 + 8,
        "{peak} open files (base {base}): the 256-connection cap leaked"
    );
    println!("1,000 connections: {took:?}, board fds peaked at {peak} (base {base})");
    let t = flatten(&s.status());
    assert_eq!(
        by_title(&t, "gate")["retries_used"],
        250,
        "every answered signal applied once"
    );
    let (code, _) = http(&live.addr(), "GET", "/api/health", None, &[]);
    assert_eq!(code, 200, "still serving");
}

#[test]
fn the_orphan_sweep_spares_other_users_processes() {
    let s = Scratch::new();
    let f = s.file(
        "w.toml",
        "title = \"w\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n",
    );
    let mut live = Live::start(&s, Some(&f), &[]);
    live.kill9();
    let board = std::fs::read_to_string(s.data().join("board-id")).unwrap();
    let mark = format!("TASKBOARD_MARK={}:7:1", board.trim());
    // Another user's process wearing this board's marker, and one of our own.
    let spawn = |as_nobody: bool| {
        let mut c = if as_nobody {
            let mut c = std::process::Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "env",
                &mark,
                "sleep",
                "60",
            ]);
            c
        } else {
            let mut c = std::process::Command::new("env");
            c.args([&mark, "sleep", "60"]);
            c
        };
        c.spawn().expect("spawn a marked process")
    };
    let mut theirs = spawn(true);
    let mut ours = spawn(false);
    // Both wear the mark once `env` has run (what the sweep reads), not after a pause.
    let marked = |pid: u32| {
        std::fs::read(format!("/proc/{pid}/environ"))
            .map(|e| e.split(|b| *b == 0).any(|v| v == mark.as_bytes()))
            .unwrap_or(false)
    };
    assert!(
        wait_for(Duration::from_secs(10), || marked(theirs.id())
            && marked(ours.id())),
        "the stand-in processes never wore the mark"
    );
    let live = Live::start(&s, None, &[]);
    assert!(
        wait_for(Duration::from_secs(5), || matches!(
            ours.try_wait(),
            Ok(Some(_))
        )),
        "our own leftover was not swept"
    );
    assert!(
        matches!(theirs.try_wait(), Ok(None)),
        "another user's process was killed"
    );
    let _ = theirs.kill();
    let _ = theirs.wait();
    drop(live);
}

//! Property tests of the listener (ARCHITECTURE §6) against a real board on 127.0.0.1:
//! random methods, paths, headers, tokens and bodies, and raw random bytes. Bad input gets a
//! 4xx (or, for bytes that are not HTTP, a closed connection), never a 5xx and never a crash:
//! the board answers its health check and keeps its tasks throughout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "prop_support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Sends raw bytes, returns the status code (0 when the connection closed without one).
fn send(addr: &str, raw: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).expect("the listener accepts connections");
    s.set_read_timeout(Some(Duration::from_secs(15))).ok();
    let _ = s.write_all(raw);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // Only the status line is needed (an SSE stream never ends).
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The parts of one generated request.
#[derive(Clone, Debug)]
struct Req {
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Req {
    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.path).into_bytes();
        for (k, v) in &self.headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                self.body.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&self.body);
        out
    }
}

const ROUTES: [&str; 18] = [
    "/api/health",
    "/api/goals",
    "/api/tasks/{}",
    "/api/tasks/{}/signal",
    "/api/tasks/{}/complete",
    "/api/tasks/{}/block",
    "/api/tasks/{}/decision",
    "/api/tasks/{}/retry",
    "/api/tasks/{}/skip",
    "/api/tasks/{}/stop",
    "/api/tasks/{}/audit",
    "/api/signals/resolve",
    "/api/pause",
    "/api/resume",
    "/api/events",
    "/api/tasks/{}/subtasks",
    "/api/tasks/{}/artifact",
    "/api/tasks/{}/context",
];

/// Ids of the board's tasks (1-6), and ids that name nothing or nothing sensible.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u64..7).prop_map(|n| n.to_string()),
        (1u64..7).prop_map(|n| n.to_string()),
        (1000u64..u64::MAX).prop_map(|n| n.to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("%23".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("1e3".to_string()),
        Just("%00".to_string()),
        Just("..".to_string()),
        Just("%ZZ".to_string()),
        "[a-zA-Z0-9%._~-]{0,12}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0..ROUTES.len(), id(), "(\\?[a-z=&%0-9]{0,12})?")
            .prop_map(|(r, id, q)| format!("{}{q}", ROUTES[r].replace("{}", &id))),
        1 => "/[ -~&&[^ ]]{0,40}",
        1 => Just("*".to_string()),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let fields = prop_oneof![
        Just("status"),
        Just("payload"),
        Just("decision"),
        Just("comment"),
        Just("gate"),
        Just("repo"),
        Just("pr"),
        Just("pr_url"),
        Just("summary"),
        Just("review"),
        Just("reason"),
        Just("key"),
        Just("value"),
        Just("tasks"),
        Just("title"),
        Just("artifacts"),
        Just("sha"),
    ];
    let value = prop_oneof![
        Just("\"pass\"".to_string()),
        Just("\"fail\"".to_string()),
        Just("\"approve\"".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("1.5e308".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"\\ud800\"".to_string()),
        "\"[ -~]{0,20}\"".prop_map(|s| s.replace('\\', "/")),
        Just(format!("\"{}\"", "x".repeat(70_000))),
        Just(format!("{}1{}", "[".repeat(200), "]".repeat(200))),
    ];
    prop_oneof![
        4 => prop::collection::vec((fields, value), 0..5).prop_map(|kv| {
            let inner: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", inner.join(",")).into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => "[ -~]{0,60}".prop_map(String::into_bytes),
        1 => Just(Vec::new()),
    ]
}

fn headers(admin: String, task: String) -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let auth = prop_oneof![
        1 => Just(Vec::new()),
        20 => Just(format!("Bearer {admin}").into_bytes()),
        1 => Just(format!("Bearer {task}").into_bytes()),
        1 => Just(format!("bearer {admin}").into_bytes()),
        1 => Just(format!("Bearer {admin}x").into_bytes()),
        1 => Just(b"Bearer t1.0000".to_vec()),
        1 => Just(b"Bearer t18446744073709551615.ab".to_vec()),
        1 => Just(b"Basic dXNlcjpwYXNz".to_vec()),
        1 => prop::collection::vec(0x20u8..0xff, 0..80),
    ];
    let host = prop_oneof![
        20 => Just(b"127.0.0.1".to_vec()),
        1 => Just(b"localhost:1".to_vec()),
        1 => Just(b"[::1]:8".to_vec()),
        1 => Just(b"evil.example".to_vec()),
        1 => Just(Vec::new()),
        1 => prop::collection::vec(0x21u8..0xff, 0..30),
    ];
    let extra = prop::collection::vec(
        (
            prop_oneof![
                Just("Origin".to_string()),
                Just("X-Taskboard-Client".to_string()),
                Just("Idempotency-Key".to_string()),
                Just("Content-Type".to_string()),
                Just("Transfer-Encoding".to_string()),
                Just("Expect".to_string()),
                Just("Upgrade".to_string()),
                "[A-Za-z-]{1,20}",
            ],
            prop_oneof![
                prop::collection::vec(0x20u8..0x7f, 0..40),
                prop::collection::vec(0x80u8..0xff, 1..10),
                (1usize..400).prop_map(|n| vec![b'k'; n]),
            ],
        ),
        0..4,
    );
    (auth, host, extra).prop_map(|(auth, host, extra)| {
        let mut h = vec![("Host".to_string(), host)];
        if !auth.is_empty() {
            h.push(("Authorization".to_string(), auth));
        }
        h.extend(extra);
        h
    })
}

fn healthy(live: &Live) {
    let (code, v) = http(&live.addr(), "GET", "/api/health", None, &[]);
    assert_eq!(
        (code, v["ok"].as_bool()),
        (200, Some(true)),
        "health check failed"
    );
    let (code, v) = live.req("GET", "/api/goals", None);
    assert_eq!(code, 200, "{v}");
    assert_eq!(flatten(&v).len(), 6, "the tasks are still there: {v}");
}

#[test]
fn random_requests_never_get_a_5xx_and_never_crash_the_board() {
    let s = Scratch::new();
    let goal = "title = \"h\"\nparallel = true\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\nrepo = \"o/r\"\npr = 1\nretries = 1000000\n[[task]]\ntitle = \"review\"\nkind = \"human_review\"\n[[task]]\ntitle = \"agent\"\ncommand = [\"sh\", \"-c\", \"printf %s \\\"$TASKBOARD_TOKEN\\\" > token.txt; sleep 600\"]\nworktree = false\n[[task]]\ntitle = \"later\"\nkind = \"signal\"\ngate = \"later\"\nafter = [\"x\"]\n";
    let goal =
        format!("{goal}[[task]]\nkey = \"x\"\ntitle = \"x\"\nkind = \"signal\"\ngate = \"x\"\n");
    let f = s.file("h.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_for(Duration::from_secs(20), || !s
        .read("token.txt")
        .is_empty()));
    let task_token = s.read("token.txt");
    let mut runner = TestRunner::new(Config {
        cases: support::cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("DELETE"),
            Just("PUT"),
            Just("PATCH"),
            Just("HEAD"),
            Just("OPTIONS"),
            Just("TRACE"),
            Just("CONNECT"),
            Just("BREW"),
        ],
        path(),
        headers(live.token.clone(), task_token),
        body(),
    );
    let n = std::cell::Cell::new(0u32);
    let seen = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    runner
        .run(&strategy, |(method, path, headers, body)| {
            // Deleting the board's own tasks would leave nothing to test against.
            let own = path
                .strip_prefix("/api/tasks/")
                .and_then(|r| r.split(['/', '?']).next())
                .and_then(|i| i.parse::<u64>().ok())
                .is_some_and(|i| i < 7);
            if method == "DELETE" && own {
                return Ok(());
            }
            let req = Req {
                method: method.to_string(),
                path,
                headers,
                body,
            };
            let code = send(&live.addr(), &req.bytes());
            *seen.borrow_mut().entry(code).or_default() += 1;
            prop_assert!(
                code != 0,
                "no answer to {:?}",
                String::from_utf8_lossy(&req.bytes())
            );
            prop_assert!(
                code < 500,
                "{} for {:?}",
                code,
                String::from_utf8_lossy(&req.bytes())
            );
            n.set(n.get() + 1);
            if n.get().is_multiple_of(100) {
                healthy(&live);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let seen = seen.into_inner();
    println!("status codes seen: {seen:?}");
    assert!(
        seen.keys().any(|c| (200..300).contains(c)),
        "some requests must get through"
    );
    assert!(seen.contains_key(&400) && seen.contains_key(&401) && seen.contains_key(&403));
    healthy(&live);
}

#[test]
fn random_bytes_never_get_a_5xx_and_never_crash_the_board() {
    let s = Scratch::new();
    let goal = "title = \"b\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n";
    let f = s.file("b.toml", goal);
    let live = Live::start(&s, Some(&f), &[]);
    let mut runner = TestRunner::new(Config {
        cases: support::cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        // Almost HTTP: a real request line, then noise.
        (prop::collection::vec(any::<u8>(), 0..200), 0usize..3).prop_map(|(noise, k)| {
            let start: &[u8] = [
                &b"GET /api/health HTTP/1.1\r\n"[..],
                b"POST /api/goals HTTP/1.1\r\nHost: localhost\r\n",
                b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            ][k];
            [start, &noise[..]].concat()
        }),
    ];
    let n = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |raw| {
            let code = send(&live.addr(), &raw);
            prop_assert!(
                code < 500,
                "{} for {:?}",
                code,
                String::from_utf8_lossy(&raw)
            );
            n.set(n.get() + 1);
            if n.get().is_multiple_of(100) {
                let (code, _) = http(&live.addr(), "GET", "/api/health", None, &[]);
                prop_assert_eq!(code, 200);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (code, v) = live.req("GET", "/api/goals", None);
    assert_eq!((code, flatten(&v).len()), (200, 2), "{v}");
}

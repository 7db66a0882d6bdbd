//! The listener on a real 127.0.0.1 port, driven by the real binary: signals, auth,
//! hostile input, idempotency, durability and the CLI client words.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::*;

const LONG: Duration = Duration::from_secs(30);

fn shepherd(pr: u64) -> String {
    format!(
        "title = \"shepherd {pr}\"\n[[task]]\ntitle = \"fix {pr}\"\n{}\n[[task]]\ntitle = \"ci {pr}\"\nkind = \"signal\"\ngate = \"gh_ci\"\nrepo = \"Org/Repo\"\npr = {pr}\nretries = 1\n",
        sh_task("printf '%s\\n---\\n' \"$TASKBOARD_PROMPT\" >> prompts.txt")
    )
}

#[test]
fn gh_ci_gate_waits_then_cli_and_http_signals_resolve_it() {
    let s = Scratch::new();
    let f = s.file("g.toml", &shepherd(42));
    let live = Live::start(&s, Some(&f), &["--timeout", "60s"]);
    assert!(wait_status(&s, "ci 42", "active", LONG), "gate never armed");
    let status = String::from_utf8_lossy(&s.run(&["status"]).stdout).to_string();
    assert!(
        status.contains("signal --task") && status.contains("curl") && status.contains("/signal"),
        "{status}"
    );

    // A fail with retries left re-runs the agent with the payload in its prompt.
    let out = s.run(&[
        "signal",
        "--gate",
        "gh_ci",
        "--repo",
        "org/repo",
        "--pr",
        "42",
        "--status",
        "fail",
        "--payload",
        "{\"summary\":\"lint: unused import\"}",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        wait_for(LONG, || s.read("prompts.txt").matches("---").count() == 2),
        "agent did not re-run"
    );
    assert!(
        s.read("prompts.txt").contains("lint: unused import"),
        "{}",
        s.read("prompts.txt")
    );
    assert!(
        wait_status(&s, "ci 42", "active", LONG),
        "gate did not re-arm"
    );

    // A second goal, added to the running board, resolved through HTTP with a PR URL.
    let f2 = s.file("g2.toml", &shepherd(7));
    let out = s.run(&["add", f2.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(wait_status(&s, "ci 7", "active", LONG));
    let (code, v) = live.req("POST", "/api/signals/resolve", Some(r#"{"gate":"gh_ci","pr_url":"https://github.com/org/REPO/pull/7","status":"pass","payload":{"run":1}}"#));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["matched"], serde_json::json!([id_of(&s, "ci 7")]));
    assert!(wait_status(&s, "ci 7", "done", LONG));

    // Nothing matches → exit 1.
    let out = s.run(&[
        "signal", "--gate", "gh_ci", "--repo", "org/repo", "--pr", "999", "--status", "pass",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    let out = s.run(&[
        "signal", "--gate", "gh_ci", "--repo", "org/repo", "--pr", "42", "--status", "pass",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
    let audit = s.run(&["status", "--json"]);
    assert!(audit.status.success());
}

#[test]
fn tokens_are_required_and_task_tokens_stay_on_their_task() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"auth\"\nparallel = true\n[[task]]\ntitle = \"a\"\n{}\n[[task]]\ntitle = \"b\"\n{}\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n",
        sh_task("printf '%s' \"$TASKBOARD_TOKEN\" > token_a; sleep 30"),
        sh_task("sleep 30")
    );
    let f = s.file("a.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_for(LONG, || !s.read("token_a").is_empty()));
    let gate = id_of(&s, "gate");
    let (a, b) = (id_of(&s, "a"), id_of(&s, "b"));
    let body = r#"{"status":"pass"}"#;
    // No token / wrong token → 401, nothing changes.
    let (code, v) = http(
        &live.addr(),
        "POST",
        &format!("/api/tasks/{gate}/signal"),
        Some(body),
        &[],
    );
    assert_eq!(code, 401, "{v}");
    assert_eq!(v["error"]["code"], "unauthorized");
    let (code, _) = http(
        &live.addr(),
        "POST",
        &format!("/api/tasks/{gate}/signal"),
        Some(body),
        &[("Authorization", "Bearer nope")],
    );
    assert_eq!(code, 401);
    assert_eq!(by_title(&flatten(&s.status()), "gate")["status"], "active");
    // A's token on B → 403; on itself → allowed.
    let token_a = format!("Bearer {}", s.read("token_a"));
    let (code, v) = http(
        &live.addr(),
        "POST",
        &format!("/api/tasks/{b}/complete"),
        Some(r#"{"summary":"x"}"#),
        &[("Authorization", &token_a)],
    );
    assert_eq!(code, 403, "{v}");
    let (code, _) = http(
        &live.addr(),
        "GET",
        "/api/goals",
        None,
        &[("Authorization", &token_a)],
    );
    assert_eq!(code, 403);
    let (code, v) = http(
        &live.addr(),
        "GET",
        &format!("/api/tasks/{a}"),
        None,
        &[("Authorization", &token_a)],
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(by_title(&flatten(&s.status()), "b")["status"], "active");
    // Host / Origin of another site → 403 even with the admin token.
    let admin = format!("Bearer {}", live.token);
    let (code, _) = http(
        &live.addr(),
        "GET",
        "/api/goals",
        None,
        &[("Authorization", &admin), ("Origin", "http://evil.example")],
    );
    assert_eq!(code, 403);
    // Health needs no token.
    let (code, v) = http(&live.addr(), "GET", "/api/health", None, &[]);
    assert_eq!((code, v["ok"].as_bool()), (200, Some(true)));
    // The token file is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.data().join("token"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn hostile_input_gets_clear_errors_and_the_board_keeps_serving() {
    let s = Scratch::new();
    let goal = "title = \"h\"\nparallel = true\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n[[task]]\ntitle = \"later\"\nkind = \"signal\"\ngate = \"g2\"\nafter = [\"x\"]\n[[task]]\nkey = \"x\"\ntitle = \"x\"\nkind = \"human_review\"\n";
    let f = s.file("h.toml", goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate", "active", LONG));
    let gate = id_of(&s, "gate");
    // 3 MB body → 413.
    let big = format!(
        "{{\"status\":\"pass\",\"payload\":\"{}\"}}",
        "x".repeat(3 << 20)
    );
    let (code, v) = live.req("POST", &format!("/api/tasks/{gate}/signal"), Some(&big));
    assert_eq!(code, 413, "{v}");
    // Bad JSON / wrong types name the field.
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{gate}/signal"),
        Some(r#"{"status":"maybe"}"#),
    );
    assert_eq!(code, 400);
    assert_eq!(v["error"]["field"], "status", "{v}");
    let (code, v) = live.req(
        "POST",
        "/api/signals/resolve",
        Some(r#"{"gate":"g","repo":"o/r","pr":"78","status":"pass"}"#),
    );
    assert_eq!(code, 400);
    assert_eq!(v["error"]["field"], "pr", "{v}");
    let (code, _) = live.req(
        "POST",
        &format!("/api/tasks/{gate}/signal"),
        Some("{not json"),
    );
    assert_eq!(code, 400);
    // Unknown task → 404; a task that is not waiting → 409 with its status.
    let (code, _) = live.req(
        "POST",
        "/api/tasks/9999/signal",
        Some(r#"{"status":"pass"}"#),
    );
    assert_eq!(code, 404);
    let later = id_of(&s, "later");
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{later}/signal"),
        Some(r#"{"status":"pass"}"#),
    );
    assert_eq!(code, 409, "{v}");
    assert_eq!(v["error"]["status"], "pending", "{v}");
    // Half a header line: closed within 10 s while others are served.
    let mut slow = std::net::TcpStream::connect(live.addr()).unwrap();
    slow.write_all(b"GET /api/health HT").unwrap();
    let started = Instant::now();
    let (code, _) = http(&live.addr(), "GET", "/api/health", None, &[]);
    assert_eq!(code, 200, "others are served meanwhile");
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let ending = closing_of(&mut slow);
    let took = started.elapsed();
    assert_eq!(ending, "closed", "after {took:?}");
    assert!(
        took <= Duration::from_secs(12),
        "slowloris held for {took:?}"
    );
    // Still alive and unchanged.
    let (code, v) = live.req("GET", &format!("/api/tasks/{gate}"), None);
    assert_eq!((code, v["status"].as_str()), (200, Some("active")));
}

#[test]
fn two_hundred_concurrent_signals_are_answered_and_applied_once() {
    let s = Scratch::new();
    let mut goal = String::from("title = \"many\"\nparallel = true\n");
    for i in 0..200 {
        goal.push_str(&format!(
            "[[task]]\ntitle = \"g{i}\"\nkind = \"signal\"\ngate = \"many\"\n"
        ));
    }
    let f = s.file("m.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_for(LONG, || flatten(&s.status())
        .iter()
        .filter(|t| t["status"] == "active" && t["kind"] == "signal")
        .count()
        == 200));
    let ids: Vec<u64> = flatten(&s.status())
        .iter()
        .filter(|t| t["kind"] == "signal")
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    let addr = live.addr();
    let auth = format!("Bearer {}", live.token);
    let threads: Vec<_> = ids
        .iter()
        .map(|id| {
            let (addr, auth, id) = (addr.clone(), auth.clone(), *id);
            std::thread::spawn(move || {
                http(
                    &addr,
                    "POST",
                    &format!("/api/tasks/{id}/signal"),
                    Some(r#"{"status":"pass"}"#),
                    &[("Authorization", &auth)],
                )
                .0
            })
        })
        .collect();
    let codes: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(codes.iter().all(|c| *c == 200), "{codes:?}");
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
    let db = rusqlite::Connection::open(s.data().join("taskboard.db")).unwrap();
    let signals: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'signal'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(signals, 200);
}

#[test]
fn idempotency_key_applies_once_and_survives_restart() {
    let s = Scratch::new();
    // The waiting gate keeps the board running after the stop fails "work".
    let f = s.file(
        "i.toml",
        &format!("title = \"i\"\nparallel = true\n[[task]]\ntitle = \"work\"\nretries = 5\n{}\n[[task]]\ntitle = \"hold\"\nkind = \"signal\"\ngate = \"hold\"\n", sh_task("echo run >> runs.txt; sleep 30")),
    );
    let mut live = Live::start(&s, Some(&f), &[]);
    assert!(wait_for(LONG, || s.read("runs.txt").lines().count() == 1));
    let work = id_of(&s, "work");
    let auth = format!("Bearer {}", live.token);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Idempotency-Key", "stop-1"),
    ];
    let (c1, v1) = http(
        &live.addr(),
        "POST",
        &format!("/api/tasks/{work}/stop"),
        None,
        &headers,
    );
    let (c2, v2) = http(
        &live.addr(),
        "POST",
        &format!("/api/tasks/{work}/stop"),
        None,
        &headers,
    );
    assert_eq!((c1, c2), (200, 200), "{v1} {v2}");
    assert_eq!(v1, v2);
    // Without the key the same call is a conflict: it really was applied once.
    let (c3, _) = live.req("POST", &format!("/api/tasks/{work}/stop"), None);
    assert_eq!(c3, 409);
    live.kill9();
    // Restart with something that keeps the board running (the first goal is over).
    let g = s.file(
        "wait.toml",
        "title = \"w\"\n[[task]]\ntitle = \"w\"\nkind = \"signal\"\ngate = \"w\"\n",
    );
    let live = Live::start(&s, Some(&g), &[]);
    let auth = format!("Bearer {}", live.token);
    let (c4, v4) = http(
        &live.addr(),
        "POST",
        &format!("/api/tasks/{work}/stop"),
        None,
        &[("Authorization", &auth), ("Idempotency-Key", "stop-1")],
    );
    assert_eq!((c4, v4), (200, v1), "the first answer survives a restart");
}

#[test]
fn a_2xx_survives_kill_9() {
    let s = Scratch::new();
    let goal = "title = \"d\"\n[[task]]\ntitle = \"review\"\nkind = \"human_review\"\n[[task]]\ntitle = \"after\"\nkind = \"signal\"\ngate = \"x\"\n";
    let f = s.file("d.toml", goal);
    let mut live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "review", "pending_review", LONG));
    let review = id_of(&s, "review");
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{review}/decision"),
        Some(r#"{"decision":"approve","comment":"ship it"}"#),
    );
    assert_eq!(code, 200, "{v}");
    live.kill9();
    let tasks = flatten(&s.status());
    assert_eq!(by_title(&tasks, "review")["status"], "done");
    let audit = rusqlite::Connection::open(s.data().join("taskboard.db"))
        .unwrap()
        .query_row(
            "SELECT who || ' ' || payload FROM events WHERE kind = 'decision'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    assert!(
        audit.contains("ship it") && audit.starts_with("http"),
        "{audit}"
    );
}

#[test]
fn an_agent_completes_its_own_task_from_inside_its_pty() {
    let s = Scratch::new();
    let bin = BIN;
    let goal = format!(
        "title = \"c\"\n[[task]]\ntitle = \"agent\"\n{}\n[[task]]\ntitle = \"next\"\n{}\n",
        sh_task(&format!(
            "'{bin}' complete --summary 'did the thing' && echo completed > done.txt; sleep 30"
        )),
        sh_task("echo next >> next.txt")
    );
    let f = s.file("c.toml", &goal);
    let started = Instant::now();
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "40s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the done task's session was not closed"
    );
    assert_eq!(s.read("next.txt"), "next\n");
    let t = flatten(&s.status());
    assert_eq!(by_title(&t, "agent")["summary"], "did the thing");
}

#[test]
fn poll_gate_passes_when_its_command_does() {
    let s = Scratch::new();
    let goal = "title = \"p\"\n[[task]]\ntitle = \"poll\"\nkind = \"signal\"\ngate = \"gh_ci\"\npoll = \"echo >> polls; test -f ok && echo green && exit 0; exit 8\"\npoll_every = \"1s\"\n";
    let f = s.file("p.toml", goal);
    let live = Live::start(&s, Some(&f), &["--timeout", "40s"]);
    assert!(wait_status(&s, "poll", "active", LONG));
    // Two polls answered 8 (the second began after the first was handled).
    assert!(wait_for(LONG, || s.read("polls").lines().count() >= 2));
    assert_eq!(
        by_title(&flatten(&s.status()), "poll")["status"],
        "active",
        "exit 8 means still waiting"
    );
    std::fs::write(s.path().join("ok"), "").unwrap();
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        by_title(&flatten(&s.status()), "poll")["result"]["output"],
        "green"
    );
}

/// How a connection ended for its reader: "closed" (EOF or reset, after any bytes the server
/// sent first) or the error that ended the wait (a read timeout: the server held it open).
fn closing_of(stream: &mut std::net::TcpStream) -> String {
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return "closed".into(),
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                ) =>
            {
                return "closed".into()
            }
            Err(e) => return format!("still open: {e}"),
        }
    }
}

mod streams;

//! The CLI words end to end through the real binary against a real headless board
//! (ARCHITECTURE §7): `pause` → `resume`, `skip`, `block`, `reject --comment`, `retry`,
//! `delete`, `logs --follow`, `--var` on `run` and `add`, `--listen ADDR`, the audit's
//! `http:<client>`, and a default agent whose program is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;
use std::time::Duration;

use common::*;

const LONG: Duration = Duration::from_secs(30);

/// A goal that keeps a board running: one signal gate nobody resolves.
const HOLD: &str =
    "title = \"hold\"\n[[task]]\ntitle = \"hold gate\"\nkind = \"signal\"\ngate = \"hold\"\n";

fn ok(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    text(out)
}

fn task(s: &Scratch, title: &str) -> serde_json::Value {
    by_title(&flatten(&s.status()), title).clone()
}

#[test]
fn pause_holds_new_work_and_resume_starts_it() {
    let s = Scratch::new();
    let f = s.file("hold.toml", HOLD);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "hold gate", "active", LONG));
    ok(&s.run(&["pause"]));
    let (_, full) = live.req("GET", "/api/goals?view=full", None);
    assert_eq!(full["paused"], true, "{full}");
    let work = s.file(
        "work.toml",
        &format!(
            "title = \"work\"\n[[task]]\ntitle = \"job\"\n{}\n",
            sh_task("echo ran > ran.txt")
        ),
    );
    ok(&s.run(&["add", work.to_str().unwrap()]));
    // The add was applied and dispatch ran in the same drain: held, with the reason.
    let job = task(&s, "job");
    assert_eq!(
        (&job["status"], &job["reason"]),
        (&"pending".into(), &"paused".into()),
        "{job}"
    );
    assert_eq!(s.read("ran.txt"), "");
    ok(&s.run(&["resume"]));
    assert!(wait_status(&s, "job", "done", LONG), "{}", live.printed());
    assert_eq!(s.read("ran.txt"), "ran\n");
    let (_, full) = live.req("GET", "/api/goals?view=full", None);
    assert_eq!(full["paused"], false, "{full}");
}

#[test]
fn skip_lets_the_next_task_run() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"s\"\n[[task]]\ntitle = \"wait\"\nkind = \"signal\"\ngate = \"never\"\n[[task]]\ntitle = \"after\"\n{}\n",
        sh_task("echo after > after.txt")
    );
    let f = s.file("s.toml", &goal);
    let live = Live::start(&s, Some(&f), &["--timeout", "40s"]);
    assert!(wait_status(&s, "wait", "active", LONG));
    assert_eq!(task(&s, "after")["status"], "pending");
    ok(&s.run(&["skip", &id_of(&s, "wait").to_string()]));
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "skipped counts as satisfied: {out}");
    assert_eq!(task(&s, "wait")["status"], "skipped");
    assert_eq!(s.read("after.txt"), "after\n");
}

#[test]
fn an_agent_that_blocks_is_blocked_and_in_the_inbox() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"b\"\n[[task]]\ntitle = \"agent\"\n{}\n",
        sh_task(&format!(
            "'{BIN}' block --reason 'no credentials for the staging DB' && echo said > said.txt; exit 0"
        ))
    );
    let f = s.file("b.toml", &goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "30s"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a blocked goal ends the run with 1: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("needs you: blocked: no credentials"),
        "{}",
        text(&out)
    );
    assert_eq!(s.read("said.txt"), "said\n", "block exited 0");
    // The agent's exit 0 after it blocked changed nothing: the block sticks, in the inbox.
    let t = task(&s, "agent");
    assert_eq!(t["status"], "blocked", "{t}");
    assert_eq!(t["reason"], "no credentials for the staging DB", "{t}");
    assert!(
        t["attention"]
            .as_str()
            .is_some_and(|a| a.contains("no credentials")),
        "in the inbox: {t}"
    );
}

#[test]
fn reject_with_a_comment_fails_the_review_and_the_audit_names_the_client() {
    let s = Scratch::new();
    let goal = "title = \"r\"\nparallel = true\n[[task]]\ntitle = \"review\"\nkind = \"human_review\"\n[[task]]\ntitle = \"second review\"\nkind = \"human_review\"\n[[task]]\ntitle = \"hold\"\nkind = \"signal\"\ngate = \"hold\"\n";
    let f = s.file("r.toml", goal);
    // The hold gate keeps the board up after the reviews are decided (for `audit`).
    let live = Live::start(&s, Some(&f), &["--timeout", "40s"]);
    assert!(wait_status(&s, "review", "pending_review", LONG));
    assert!(wait_status(&s, "second review", "pending_review", LONG));
    let id = id_of(&s, "review").to_string();
    // Without a comment: a usage error, nothing changes.
    let out = s.run(&["reject", &id]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(task(&s, "review")["status"], "pending_review");
    ok(&s.run(&["reject", &id, "--comment", "the diff drops a test"]));
    let t = task(&s, "review");
    assert_eq!(t["status"], "failed", "{t}");
    assert!(
        t["reason"]
            .as_str()
            .unwrap_or("")
            .contains("the diff drops a test"),
        "{t}"
    );
    // The other gate, approved over HTTP by a client that names itself.
    let second = id_of(&s, "second review");
    let auth = format!("Bearer {}", live.token);
    let (code, v) = http(
        &live.addr(),
        "POST",
        &format!("/api/tasks/{second}/decision"),
        Some(r#"{"decision":"approve"}"#),
        &[("Authorization", &auth), ("X-Taskboard-Client", "ci-bot")],
    );
    assert_eq!(code, 200, "{v}");
    let trail = ok(&s.run(&["audit", &id]));
    assert!(
        trail.contains("cli") && trail.contains("the diff drops a test"),
        "{trail}"
    );
    let trail = ok(&s.run(&["audit", &second.to_string()]));
    assert!(trail.contains("http:ci-bot"), "{trail}");
    assert_eq!(
        task(&s, "r")["status"],
        "failed",
        "a rejected review fails the goal"
    );
}

#[test]
fn retry_and_delete_with_the_admin_token() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"d\"\nparallel = true\n[[task]]\ntitle = \"flaky\"\n{}\n[[task]]\ntitle = \"extra\"\nkind = \"signal\"\ngate = \"never\"\n[[task]]\ntitle = \"hold\"\nkind = \"signal\"\ngate = \"hold\"\n",
        sh_task("test -f fixed || exit 3; echo fixed >> runs.txt")
    );
    let f = s.file("d.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(
        wait_status(&s, "flaky", "failed", LONG),
        "{}",
        live.printed()
    );
    let flaky = id_of(&s, "flaky");
    std::fs::write(s.path().join("fixed"), "").unwrap();
    let out = ok(&s.run(&["retry", &flaky.to_string()]));
    assert!(!out.is_empty());
    assert!(wait_status(&s, "flaky", "done", LONG), "{}", live.printed());
    assert_eq!(s.read("runs.txt"), "fixed\n");
    // delete over HTTP with the admin token (the CLI word is the same route).
    let extra = id_of(&s, "extra");
    let (code, v) = live.req("DELETE", &format!("/api/tasks/{extra}"), None);
    assert_eq!(code, 200, "{v}");
    let titles: Vec<_> = flatten(&s.status())
        .iter()
        .map(|t| t["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(!titles.contains(&"extra".to_string()), "{titles:?}");
    let (code, _) = live.req("GET", &format!("/api/tasks/{extra}"), None);
    assert_eq!(code, 404);
    // And the CLI word on a whole goal.
    ok(&s.run(&["delete", &id_of(&s, "d").to_string()]));
    assert!(flatten(&s.status()).is_empty(), "{}", s.status());
}

#[test]
fn logs_follow_prints_output_as_it_comes_and_ends_with_the_task() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"l\"\n[[task]]\ntitle = \"talker\"\n{}\n",
        sh_task("echo first-line; while [ ! -f go ]; do sleep 0.1; done; echo second-line")
    );
    let f = s.file("l.toml", &goal);
    let _live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "talker", "active", LONG));
    let id = id_of(&s, "talker").to_string();
    let mut follow = s.spawn(&["logs", &id, "--follow"]);
    let mut stdout = follow.stdout.take().unwrap();
    let got = read_until(&mut stdout, "first-line", LONG);
    assert!(got.contains("first-line"), "{got:?}");
    assert!(
        matches!(follow.try_wait(), Ok(None)),
        "--follow ended while the task runs"
    );
    std::fs::write(s.path().join("go"), "").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("second-line"), "{rest:?}");
    let st = follow.wait().unwrap();
    assert!(st.success(), "{st}");
    assert_eq!(task(&s, "talker")["status"], "done");
}

const TEMPLATE: &str = "title = \"hello {{who}}\"\n[vars]\nwho = { description = \"who to greet\" }\n[[task]]\ntitle = \"greet {{who}}\"\ncommand = [\"sh\", \"-c\", \"echo hi {{who}} >> greeted.txt\"]\nworktree = false\n";

#[test]
fn var_fills_a_template_on_run_and_on_add() {
    let s = Scratch::new();
    let f = s.file("t.toml", TEMPLATE);
    let path = f.to_str().unwrap();
    // A required var left out: exit 2 naming it, nothing stored.
    let out = s.run(&["run", path, "--headless"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("who"), "{}", text(&out));
    assert!(s.status()["goals"].as_array().is_none_or(|g| g.is_empty()));
    let out = s.run(&[
        "run",
        path,
        "--var",
        "who=alice",
        "--headless",
        "--timeout",
        "30s",
    ]);
    ok(&out);
    assert_eq!(task(&s, "greet alice")["status"], "done");
    // `add` to a running board.
    let live = Live::start(&s, Some(&s.file("hold.toml", HOLD)), &[]);
    let out = s.run(&["add", path]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    ok(&s.run(&["add", path, "--var", "who=bob"]));
    assert!(
        wait_status(&s, "greet bob", "done", LONG),
        "{}",
        live.printed()
    );
    assert_eq!(s.read("greeted.txt"), "hi alice\nhi bob\n");
    let titles: Vec<_> = s.status()["goals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(titles, ["hello alice", "hold", "hello bob"]);
}

#[test]
fn listen_addr_puts_the_listener_on_that_port() {
    let s = Scratch::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let f = s.file("hold.toml", HOLD);
    let addr = format!("127.0.0.1:{port}");
    let live = Live::start(&s, Some(&f), &["--listen", &addr]);
    assert_eq!(live.url, format!("http://{addr}"));
    let (code, v) = http(&addr, "GET", "/api/health", None, &[]);
    assert_eq!((code, &v["ok"]), (200, &serde_json::json!(true)), "{v}");
    // A second board asking for the same port (another data dir) gets a clear error.
    let other = Scratch::new();
    let out = other.run(&["run", f.to_str().unwrap(), "--headless", "--listen", &addr]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&addr), "{}", text(&out));
    // Not an address: a usage error.
    let out = other.run(&[
        "run",
        f.to_str().unwrap(),
        "--headless",
        "--listen",
        "nowhere",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_missing_default_agent_blocks_the_task_with_a_clear_reason() {
    let s = Scratch::new();
    let goal =
        "title = \"m\"\n[[task]]\ntitle = \"needs claude\"\nprompt = \"do it\"\nworktree = false\n";
    let f = s.file("m.toml", goal);
    // A PATH that holds sh and git but no agent programs.
    let out = s
        .cmd(&["run", f.to_str().unwrap(), "--headless", "--timeout", "30s"])
        .env("PATH", "/usr/bin:/bin")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = task(&s, "needs claude");
    assert_eq!(t["status"], "blocked", "{t}");
    assert!(
        t["reason"]
            .as_str()
            .unwrap_or("")
            .contains("agent 'claude' not found on PATH"),
        "{t}"
    );
    assert!(t["attention"].is_string(), "in the inbox: {t}");
}

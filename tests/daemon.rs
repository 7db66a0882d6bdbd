//! `taskboard up` / `down`: the board in the background, pane input and resize over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;

const LONG: Duration = Duration::from_secs(30);

fn endpoint(s: &Scratch) -> (String, String) {
    let (url, token) = s.endpoint();
    (
        url.trim_start_matches("http://").to_string(),
        format!("Bearer {token}"),
    )
}

#[test]
fn up_runs_the_board_in_the_background_and_down_stops_everything() {
    let s = Scratch::new();
    let out = s.run(&["up"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("board running on"), "{}", text(&out));
    let board_pid: i32 = std::fs::read_to_string(s.data().join("lock"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(board_pid));
    // A second `up` says one already runs.
    let again = s.run(&["up"]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert!(
        text(&again).contains(&format!("pid {board_pid}")),
        "{}",
        text(&again)
    );

    // An agent that echoes what it is sent.
    let goal = "title = \"bg\"\n[[task]]\ntitle = \"echo\"\ncommand = [\"sh\", \"-c\", \"echo $$ > pid.txt; while read l; do echo \\\"got $l\\\" >> got.txt; done\"]\nworktree = false\n";
    let f = s.file("g.toml", goal);
    let out = s.run(&["add", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(wait_for(LONG, || s
        .read("pid.txt")
        .trim()
        .parse::<i32>()
        .is_ok()));
    let agent: i32 = s.read("pid.txt").trim().parse().unwrap();
    let (addr, auth) = endpoint(&s);
    let (code, v) = http(
        &addr,
        "POST",
        "/api/tasks/2/input",
        Some("hello\r"),
        &[("Authorization", &auth)],
    );
    assert_eq!(code, 200, "{v}");
    assert!(
        wait_for(LONG, || s.read("got.txt").contains("got hello")),
        "{}",
        s.read("got.txt")
    );
    let (code, v) = http(
        &addr,
        "POST",
        "/api/tasks/2/resize",
        Some(r#"{"rows":30,"cols":100}"#),
        &[("Authorization", &auth)],
    );
    assert_eq!(code, 200, "{v}");
    // Keys may carry the typing client's pane size: both numbers, in range.
    for (query, want) in [
        ("?rows=30&cols=100", 200),
        ("?rows=30", 400),
        ("?rows=1&cols=80", 400),
    ] {
        let (code, v) = http(
            &addr,
            "POST",
            &format!("/api/tasks/2/input{query}"),
            Some(""),
            &[("Authorization", &auth)],
        );
        assert_eq!(code, want, "{query}: {v}");
    }
    let (code, _) = http(
        &addr,
        "POST",
        "/api/tasks/1/input",
        Some("x"),
        &[("Authorization", &auth)],
    );
    assert_eq!(code, 409, "a goal has no session");

    // `down` without a terminal refuses while agents run; --force stops them all.
    let out = s.run(&["down"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert!(pid_alive(agent));
    let out = s.run(&["down", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        wait_for(Duration::from_secs(10), || !pid_alive(board_pid)
            && !pid_alive(agent)),
        "left behind: board {board_pid} agent {agent}"
    );
    let out = s.run(&["down"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "nothing to stop: {}",
        text(&out)
    );
}

#[test]
fn task_tokens_cannot_type_into_panes() {
    let s = Scratch::new();
    let goal = "title = \"t\"\n[[task]]\ntitle = \"a\"\ncommand = [\"sh\", \"-c\", \"printf '%s' \\\"$TASKBOARD_TOKEN\\\" > tok; sleep 30\"]\nworktree = false\n";
    let f = s.file("g.toml", goal);
    let _live = Live::start(&s, Some(&f), &[]);
    assert!(wait_for(LONG, || !s.read("tok").is_empty()));
    let (addr, _) = endpoint(&s);
    let auth = format!("Bearer {}", s.read("tok"));
    let (code, _) = http(
        &addr,
        "POST",
        "/api/tasks/2/input",
        Some("x"),
        &[("Authorization", &auth)],
    );
    assert_eq!(code, 403);
    let (code, _) = http(
        &addr,
        "POST",
        "/api/tasks/2/resize",
        Some(r#"{"rows":30,"cols":100}"#),
        &[("Authorization", &auth)],
    );
    assert_eq!(code, 403);
}

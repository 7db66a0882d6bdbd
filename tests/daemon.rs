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
    // The program runs before the board has heard of its spawn: until then there is no
    // open session to type into (409, nothing written).
    let mut last = (0, serde_json::Value::Null);
    let typed = wait_for(LONG, || {
        last = http(
            &addr,
            "POST",
            "/api/tasks/2/input",
            Some("hello\r"),
            &[("Authorization", &auth)],
        );
        assert!(last.0 == 200 || last.0 == 409, "{:?}", last);
        last.0 == 200
    });
    assert!(typed, "{:?}", last);
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

    let out = s.run(&["status"]);
    assert!(
        !text(&out).contains("no board is running"),
        "{}",
        text(&out)
    );

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
    // The store still calls the agent active: status says it is not running.
    let out = s.run(&["status"]);
    assert!(
        text(&out).contains("[active]")
            && text(&out).contains("no board is running on")
            && text(&out).contains("1 active agent task(s) are not running"),
        "{}",
        text(&out)
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

/// The pane a resize or keys go to is found without a hop to the board's thread (a table the
/// board publishes after each drain): it is there as soon as the spawn is on record, and
/// gone, with the same 409 as before, once the session has ended.
#[test]
fn a_resize_finds_the_pane_right_after_its_spawn_and_not_after_its_session_ends() {
    let s = Scratch::new();
    // The gate keeps the headless board running once the agent is done.
    let goal = "title = \"r\"\nparallel = true\n[[task]]\ntitle = \"hold\"\nkind = \"signal\"\ngate = \"ci\"\n[[task]]\ntitle = \"a\"\ncommand = [\"sh\", \"-c\", \"read l; echo \\\"$l\\\" > got.txt\"]\nworktree = false\n";
    let f = s.file("g.toml", goal);
    let live = Live::start(&s, Some(&f), &[]);
    let spawned = || {
        let (code, v) = live.req("GET", "/api/tasks/3/audit", None);
        code == 200
            && v["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["kind"] == "spawned"))
    };
    assert!(wait_for(LONG, spawned), "the agent never spawned");
    // No retry: the spawn is on record, so its pane is found.
    let (code, v) = live.req(
        "POST",
        "/api/tasks/3/resize",
        Some(r#"{"rows":30,"cols":100}"#),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v, serde_json::json!({"id": 3, "rows": 30, "cols": 100}));
    let (code, v) = live.req("POST", "/api/tasks/3/input", Some("bye\r"));
    assert_eq!(code, 200, "{v}");
    assert!(wait_for(LONG, || s.read("got.txt").contains("bye")));
    assert!(
        wait_status(&s, "a", "done", LONG),
        "the agent's session did not end"
    );
    for (path, body) in [
        ("/api/tasks/3/resize", r#"{"rows":30,"cols":100}"#),
        ("/api/tasks/3/input", "x"),
    ] {
        let (code, v) = live.req("POST", path, Some(body));
        assert_eq!(code, 409, "{path}: {v}");
        assert_eq!(v["error"]["code"], "conflict", "{v}");
        assert_eq!(
            v["error"]["message"], "task #3 has no open session",
            "{path}: {v}"
        );
    }
}

/// `status --json` asks the running board (its tree from memory, no store read: it works
/// with the store file moved aside), and prints exactly what reading the store prints.
#[test]
fn status_json_asks_the_running_board_and_prints_what_the_store_would() {
    let s = Scratch::new();
    let goal = "title = \"st\"\n[[task]]\ntitle = \"gate \\\"q\\\" é\"\nkind = \"signal\"\ngate = \"ci\"\n[[task]]\ntitle = \"after\"\ncommand = [\"true\"]\nworktree = false\n";
    let f = s.file("g.toml", goal);
    let _live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate \"q\" é", "active", LONG));
    let live = s.run(&["status", "--json"]);
    assert_eq!(live.status.code(), Some(0), "{}", text(&live));

    let db = s.data().join("taskboard.db");
    let aside = s.data().join("moved.db");
    std::fs::rename(&db, &aside).unwrap();
    let without_store = s.run(&["status", "--json"]);
    std::fs::rename(&aside, &db).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&without_store.stdout),
        String::from_utf8_lossy(&live.stdout),
        "status --json read the store, not the running board"
    );

    let ep = s.data().join("endpoint");
    let hidden = s.data().join("endpoint.hidden");
    std::fs::rename(&ep, &hidden).unwrap();
    let from_store = s.run(&["status", "--json"]);
    std::fs::rename(&hidden, &ep).unwrap();
    assert_eq!(from_store.status.code(), Some(0), "{}", text(&from_store));
    assert_eq!(
        String::from_utf8_lossy(&from_store.stdout),
        String::from_utf8_lossy(&live.stdout),
        "the running board and the store print different trees"
    );
    let v: serde_json::Value = serde_json::from_slice(&live.stdout).unwrap();
    assert_eq!(v["goals"][0]["title"], "st");
}

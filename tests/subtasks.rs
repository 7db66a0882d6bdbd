//! Agents splitting their own task, and plan-first tasks whose breakdown is reviewed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;

const LONG: Duration = Duration::from_secs(40);

/// A planner: round N writes two subtasks named after N and submits them.
fn planner(s: &Scratch) -> String {
    let script = s.file(
        "plan.sh",
        &format!(
            r#"#!/bin/sh
# Each round writes two subtasks named after it; a comment typed in starts the next round.
round() {{
n=$(cat round 2>/dev/null || echo 0); n=$((n+1)); echo $n > round
printf '%s\n' "$1" > prompt-$n.txt
cat > sub.toml <<EOT
[[task]]
key = "a"
title = "child $n-a"
command = ["sh", "-c", "echo $n-a >> out.txt"]
worktree = false
[[task]]
title = "child $n-b"
after = ["a"]
command = ["sh", "-c", "echo $n-b >> out.txt"]
worktree = false
EOT
'{}' subtasks sub.toml
}}
round "$TASKBOARD_PROMPT"
while IFS= read -r line; do [ -n "$line" ] && round "$line"; done
sleep 30
"#,
            BIN
        ),
    );
    format!(
        "command = [\"sh\", {:?}]\nworktree = false",
        script.to_str().unwrap()
    )
}

#[test]
fn an_agent_splits_its_task_and_the_children_run_next() {
    let s = Scratch::new();
    let goal = format!("title = \"split\"\n[[task]]\ntitle = \"big\"\n{}\n[[task]]\ntitle = \"after\"\ncommand = [\"sh\", \"-c\", \"echo after >> out.txt\"]\nworktree = false\n", planner(&s));
    let f = s.file("g.toml", &goal);
    let started = std::time::Instant::now();
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "40s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the splitting agent's session was closed"
    );
    assert_eq!(s.read("out.txt"), "1-a\n1-b\nafter\n");
    let t = flatten(&s.status());
    let big = by_title(&t, "big");
    assert_eq!(big["kind"], "group");
    assert_eq!(big["children"].as_array().unwrap().len(), 2);
}

#[test]
fn a_plan_is_reviewed_before_its_subtasks_run() {
    let s = Scratch::new();
    let goal = format!("title = \"plan\"\n[[task]]\ntitle = \"planner\"\nplan = true\nprompt = \"Ship the feature\"\n{}\n", planner(&s));
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &["--timeout", "60s"]);
    assert!(wait_status(&s, "planner", "pending_review", LONG));
    let t = flatten(&s.status());
    let planner_task = by_title(&t, "planner");
    assert!(
        planner_task["reason"]
            .as_str()
            .unwrap()
            .contains("2 subtask"),
        "{planner_task}"
    );
    assert_eq!(by_title(&t, "child 1-a")["status"], "pending");
    assert!(
        s.read("prompt-1.txt").contains("taskboard subtasks"),
        "the planner is told how: {}",
        s.read("prompt-1.txt")
    );
    let id = planner_task["id"].as_u64().unwrap().to_string();
    // Request changes: the plan is thrown away and the planner runs again with the comment.
    let out = s.run(&["request-changes", &id, "--comment", "smaller steps please"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        wait_for(LONG, || s
            .read("prompt-2.txt")
            .contains("smaller steps please")),
        "{}",
        s.read("prompt-2.txt")
    );
    // The second plan waits for review in its turn.
    assert!(
        wait_for(LONG, || {
            let t = flatten(&s.status());
            t.iter().any(|x| x["title"] == "child 2-a")
                && by_title(&t, "planner")["status"] == "pending_review"
        }),
        "{}",
        s.status()
    );
    let t = flatten(&s.status());
    // Nothing runs before approval. Bounded by events, not a pause: the board has since
    // handled the request for changes and the second plan, so a child of either plan that
    // had been started would have written out.txt (or show as started) by now.
    for child in ["child 2-a", "child 2-b"] {
        assert_eq!(by_title(&t, child)["status"], "pending", "{child}: {t:?}");
    }
    assert_eq!(s.read("out.txt"), "", "nothing runs before approval");
    assert!(
        t.iter()
            .all(|x| !x["title"].as_str().unwrap().starts_with("child 1")),
        "old plan deleted: {t:?}"
    );
    // Approve: the subtasks run, the goal finishes.
    let out = s.run(&["approve", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(s.read("out.txt"), "2-a\n2-b\n");
}

#[test]
fn a_rejected_plan_fails_the_planner_and_deletes_the_subtasks() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"plan\"\n[[task]]\ntitle = \"planner\"\nplan = true\n{}\n",
        planner(&s)
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &["--timeout", "60s"]);
    assert!(wait_status(&s, "planner", "pending_review", LONG));
    let id = by_title(&flatten(&s.status()), "planner")["id"]
        .as_u64()
        .unwrap();
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{id}/decision"),
        Some(r#"{"decision":"reject","comment":"wrong approach"}"#),
    );
    assert_eq!(code, 200, "{v}");
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(1), "{out}");
    let t = flatten(&s.status());
    let p = by_title(&t, "planner");
    assert_eq!(p["status"], "failed");
    assert!(
        p["reason"].as_str().unwrap().contains("wrong approach"),
        "{p}"
    );
    assert_eq!(t.len(), 2, "only the goal and the planner are left: {t:?}");
}

#[test]
fn bad_subtasks_are_refused_with_the_field() {
    let s = Scratch::new();
    let goal = "title = \"x\"\n[[task]]\ntitle = \"worker\"\ncommand = [\"sleep\", \"30\"]\nworktree = false\n";
    let f = s.file("g.toml", goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "worker", "active", LONG));
    let (code, v) = live.req(
        "POST",
        "/api/tasks/2/subtasks",
        Some(r#"{"tasks":[{"title":"a","timeout":"soon"}]}"#),
    );
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["error"]["field"], "tasks[0].timeout", "{v}");
    let (code, v) = live.req("POST", "/api/tasks/2/subtasks", Some(r#"{"tasks":[]}"#));
    assert_eq!(code, 400, "{v}");
    // On a goal (a group) with the admin token: the tasks are added to it.
    let (code, v) = live.req(
        "POST",
        "/api/tasks/1/subtasks",
        Some(r#"{"tasks":[{"title":"a","command":["sleep","30"],"worktree":false}]}"#),
    );
    assert_eq!(code, 201, "{v}");
    let a = v["children"][0].as_u64().expect("the new task");
    // A task that is neither a group nor a running agent cannot take subtasks.
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{a}/subtasks"),
        Some(r#"{"tasks":[{"title":"b"}]}"#),
    );
    assert_eq!(code, 409, "{v}");
    assert_eq!(v["error"]["status"], "pending", "{v}");
}

/// A shell-quoted path.
fn q(p: &std::path::Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// The three ways an agent splits its task, each run by the agent itself: the answer its
/// own call got (HTTP status, CLI exit code, MCP tool result) is written to a file the test
/// reads; the split tasks' sessions then end (on their own, or stopped after the grace
/// period) and the children run.
#[test]
fn an_agents_own_split_gets_its_answer_over_http_cli_and_mcp_and_the_children_run() {
    let s = Scratch::new();
    git_repo(&s.path().join("repo"));
    let client = tools::mcp_client();
    // Children without a command run their prompt with `sh -c` (the shell profile).
    std::fs::write(
        s.config(),
        "spawns_per_minute = 100\nmax_agents = 8\ndefault_agent = \"shell\"\n",
    )
    .unwrap();
    let child = |who: &str| {
        serde_json::json!({
            "title": format!("{who} child"),
            "prompt": format!("echo {who} >> \"$TASKBOARD_HOME/../children.txt\""),
        })
    };
    let body = |who: &str| serde_json::json!({ "tasks": [child(who)] }).to_string();
    let http_json = s.file("http.json", &body("http"));
    let cli_json = s.file("cli.json", &body("cli"));
    let calls = serde_json::json!([{"tool": "subtasks", "args": {"tasks": [child("mcp")]}}]);
    let calls = s.file("calls.json", &calls.to_string());
    let at = |name: &str| q(&s.path().join(name));
    // HTTP: curl writes the status code it got, then the agent exits on its own.
    let http = format!(
        "curl -sS -o {} -w '%{{http_code}}' -X POST -H \"Authorization: Bearer $TASKBOARD_TOKEN\" \
         -H 'Content-Type: application/json' --data-binary @{} \
         \"$TASKBOARD_URL/api/tasks/$TASKBOARD_TASK_ID/subtasks\" > {}",
        at("http-body.json"),
        q(&http_json),
        at("http-code.txt")
    );
    // CLI and MCP: the agent lingers after its call, so the board has to stop it.
    let cli = format!(
        "{} subtasks {} > {} 2>&1; echo $? > {}; sleep 60",
        q(std::path::Path::new(BIN)),
        q(&cli_json),
        at("cli-out.txt"),
        at("cli-code.txt")
    );
    let mcp = format!(
        "{} {} @{} {} mcp > {} 2> {}; echo $? > {}; sleep 60",
        q(&client.python),
        q(&client.script),
        calls.display(),
        q(std::path::Path::new(BIN)),
        at("mcp-out.json"),
        at("mcp-err.txt"),
        at("mcp-code.txt")
    );
    let mut goal = String::from("title = \"splits\"\nrepo = \"repo\"\nparallel = true\n");
    for (title, cmd) in [("by http", &http), ("by cli", &cli), ("by mcp", &mcp)] {
        goal.push_str(&format!(
            "[[task]]\ntitle = \"{title}\"\n{}\n",
            sh_task(cmd)
        ));
    }
    // Keeps the board up after the splits, so their audit trails can be read.
    goal.push_str(&format!(
        "[[task]]\ntitle = \"keeper\"\n{}\n",
        sh_task("sleep 120")
    ));
    let f = s.file("g.toml", &goal);
    let started = std::time::Instant::now();
    let live = Live::start(&s, Some(&f), &["--timeout", "60s"]);
    let files = || {
        [
            "http-code.txt",
            "http-body.json",
            "cli-code.txt",
            "cli-out.txt",
            "mcp-code.txt",
            "mcp-out.json",
            "mcp-err.txt",
        ]
        .iter()
        .map(|f| format!("{f}: {}", s.read(f).chars().take(300).collect::<String>()))
        .collect::<Vec<_>>()
        .join("\n")
    };
    let done = || {
        s.read("children.txt").lines().count() == 3
            && ["http-code.txt", "cli-code.txt", "mcp-code.txt"]
                .iter()
                .all(|f| !s.read(f).is_empty())
    };
    assert!(wait_for(LONG, done), "{}\n{}", live.printed(), files());
    // Each agent got its own call's answer.
    assert_eq!(s.read("http-code.txt"), "201", "{}", files());
    assert!(
        s.read("http-body.json").contains("\"children\""),
        "{}",
        files()
    );
    assert_eq!(s.read("cli-code.txt").trim(), "0", "{}", files());
    assert!(
        s.read("cli-out.txt").contains("split into #"),
        "{}",
        files()
    );
    assert_eq!(s.read("mcp-code.txt").trim(), "0", "{}", files());
    let m: serde_json::Value = serde_json::from_str(&s.read("mcp-out.json")).expect("client JSON");
    assert_eq!(m["calls"][0]["is_error"], false, "{m}");
    assert!(
        m["calls"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("split into #"),
        "{m}"
    );
    // The children ran, each once.
    let mut ran: Vec<String> = s.read("children.txt").lines().map(str::to_string).collect();
    ran.sort();
    assert_eq!(ran, ["cli", "http", "mcp"]);
    // The sessions' ends are audited: the curl agent ended on its own, the others were
    // stopped when their grace period was over.
    for (title, ending) in [
        ("by http", "session_ended"),
        ("by cli", "session_stopped"),
        ("by mcp", "session_stopped"),
    ] {
        let id = id_of(&s, title);
        let kinds = || {
            let (_, v) = live.req("GET", &format!("/api/tasks/{id}/audit"), None);
            v["events"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .map(|x| x["kind"].as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_else(Vec::new)
        };
        assert!(
            wait_for(Duration::from_secs(10), || kinds()
                .iter()
                .any(|k| k == ending)),
            "{title}: {:?}",
            kinds()
        );
        assert!(kinds().iter().any(|k| k == "session_closing"), "{title}");
        assert_eq!(by_title(&flatten(&s.status()), title)["status"], "done");
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the lingering sessions were stopped after the grace period, not left to run"
    );
}

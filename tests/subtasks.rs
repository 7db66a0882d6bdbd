//! Agents splitting their own task, and plan-first tasks whose breakdown is reviewed.

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
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(s.read("out.txt"), "", "nothing runs before approval");
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
    assert!(wait_status(&s, "child 2-a", "pending", LONG));
    let t = flatten(&s.status());
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

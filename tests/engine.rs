//! End-to-end engine tests: the real binary, real PTYs, a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn sequential_tasks_run_in_file_order() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"seq\"\n[[task]]\ntitle = \"a\"\n{}\n[[task]]\ntitle = \"b\"\n{}\n[[task]]\ntitle = \"c\"\n{}\n",
        sh_task("sleep 0.3; echo a >> out.txt"),
        sh_task("echo b >> out.txt"),
        sh_task("echo c >> out.txt")
    );
    let f = s.file("seq.toml", &goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.read("out.txt"), "a\nb\nc\n");
    let tasks = flatten(&s.status());
    assert!(tasks.iter().all(|t| t["status"] == "done"), "{tasks:?}");
}

#[test]
fn parallel_group_runs_together() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"par\"\nparallel = true\n[[task]]\ntitle = \"a\"\n{0}\n[[task]]\ntitle = \"b\"\n{0}\n[[task]]\ntitle = \"c\"\n{0}\n",
        sh_task("sleep 2")
    );
    let f = s.file("par.toml", &goal);
    let start = Instant::now();
    let out = s.run(&["run", f.to_str().unwrap(), "--headless"]);
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        took < Duration::from_secs(4),
        "three 2 s tasks took {took:?}"
    );
}

#[test]
fn after_holds_a_task_back_until_its_dependency_is_done() {
    let s = Scratch::new();
    // In a parallel goal, "late" would start at once; `after` makes it wait for "slow".
    let goal = format!(
        "title = \"after\"\nparallel = true\n[[task]]\ntitle = \"late\"\nafter = [\"slow\"]\n{}\n[[task]]\nkey = \"slow\"\ntitle = \"slow\"\n{}\n",
        sh_task("echo late >> out.txt"),
        sh_task("sleep 1; echo slow >> out.txt")
    );
    let f = s.file("after.toml", &goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.read("out.txt"), "slow\nlate\n");
}

#[test]
fn failing_task_retries_then_fails_and_stops_its_siblings() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"fail\"\n[[task]]\ntitle = \"flaky\"\nretries = 1\n{}\n[[task]]\ntitle = \"never\"\n{}\n",
        sh_task("echo run >> runs.txt; echo 'the last words'; exit 3"),
        sh_task("echo ran >> never.txt")
    );
    let f = s.file("fail.toml", &goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(s.read("runs.txt"), "run\nrun\n", "ran twice");
    assert_eq!(s.read("never.txt"), "", "later sibling never starts");
    let tasks = flatten(&s.status());
    let flaky = by_title(&tasks, "flaky");
    assert_eq!(flaky["status"], "failed");
    let reason = flaky["reason"].as_str().unwrap();
    assert!(
        reason.contains("exit 3") && reason.contains("the last words"),
        "reason: {reason}"
    );
    let never = by_title(&tasks, "never");
    assert_eq!(never["status"], "pending");
    assert!(
        never["reason"].as_str().unwrap().contains("(failed)"),
        "{never}"
    );
    assert!(text(&out).contains("retry 1/1: exit 3"), "{}", text(&out));
}

#[test]
fn kill_9_mid_task_then_restart_finishes_without_rerunning_done_work() {
    let s = Scratch::new();
    let goal = format!(
        "title = \"crash\"\n[[task]]\ntitle = \"first\"\n{}\n[[task]]\ntitle = \"second\"\n{}\n",
        sh_task("echo first >> out.txt"),
        sh_task("if [ -f marker ]; then echo second >> out.txt; else touch marker; echo $$ > pid.txt; sleep 60; fi")
    );
    let f = s.file("crash.toml", &goal);
    let mut board = s.spawn(&["run", f.to_str().unwrap(), "--headless"]);
    assert!(
        wait_for(Duration::from_secs(20), || s
            .read("pid.txt")
            .trim()
            .parse::<i32>()
            .is_ok()),
        "second task never started"
    );
    let agent_pid: i32 = s.read("pid.txt").trim().parse().unwrap();
    std::process::Command::new("kill")
        .args(["-9", &board.id().to_string()])
        .status()
        .unwrap();
    let _ = board.wait();
    let out = s.run(&["run", "--headless", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        s.read("out.txt"),
        "first\nsecond\n",
        "first ran once, second finished"
    );
    assert!(
        !pid_alive(agent_pid),
        "the first run's agent {agent_pid} is still alive"
    );
    let tasks = flatten(&s.status());
    assert!(tasks.iter().all(|t| t["status"] == "done"), "{tasks:?}");
    assert!(
        text(&out).contains("interrupted by restart") || text(&out).contains("pending → active"),
        "{}",
        text(&out)
    );
}

#[test]
fn bad_goal_file_exits_2_with_location_and_leaves_the_data_dir_alone() {
    let s = Scratch::new();
    let f = s.file(
        "bad.toml",
        "title = \"bad\"\n[[task]]\ntitle = \"x\"\ntimeout = \"soon\"\n",
    );
    let out = s.run(&["run", f.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:4:11:"), "stderr: {err}");
    assert!(err.contains("bad duration"), "stderr: {err}");
    assert!(!s.data().exists(), "the data dir was created");
    // With an existing data dir, nothing in it changes either.
    let ok = s.file(
        "ok.toml",
        &format!(
            "title = \"ok\"\n[[task]]\ntitle = \"t\"\n{}\n",
            sh_task("true")
        ),
    );
    assert_eq!(
        s.run(&["run", ok.to_str().unwrap(), "--headless"])
            .status
            .code(),
        Some(0)
    );
    let before = std::fs::read(s.data().join("taskboard.db")).unwrap();
    let out = s.run(&["run", f.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read(s.data().join("taskboard.db")).unwrap(),
        before
    );
}

#[test]
fn second_instance_names_the_first_ones_pid() {
    let s = Scratch::new();
    let f = s.file(
        "long.toml",
        &format!(
            "title = \"long\"\n[[task]]\ntitle = \"t\"\n{}\n",
            sh_task("sleep 30")
        ),
    );
    let mut first = s.spawn(&["run", f.to_str().unwrap(), "--headless"]);
    let lock = s.data().join("lock");
    assert!(wait_for(Duration::from_secs(10), || {
        std::fs::read_to_string(&lock)
            .map(|p| !p.is_empty())
            .unwrap_or(false)
    }));
    let out = s.run(&["run", f.to_str().unwrap(), "--headless"]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("pid {}", first.id())),
        "{}",
        text(&out)
    );
}

#[test]
fn demo_headless_auto_approve_finishes_every_task() {
    let s = Scratch::new();
    let start = Instant::now();
    let out = s.run(&["demo", "--headless", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(start.elapsed() < Duration::from_secs(60));
    let tasks = flatten(&s.status());
    assert!(tasks.len() >= 8, "{tasks:?}");
    assert!(tasks.iter().all(|t| t["status"] == "done"), "{tasks:?}");
    let o = text(&out);
    assert!(o.contains("demo repo:") && o.contains("data dir:"), "{o}");
    assert!(o.contains("approved"), "{o}");
}

#[test]
fn timeout_flag_exits_124() {
    let s = Scratch::new();
    let f = s.file(
        "t.toml",
        &format!(
            "title = \"slow\"\n[[task]]\ntitle = \"t\"\n{}\n",
            sh_task("sleep 30")
        ),
    );
    let start = Instant::now();
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(124), "{}", text(&out));
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn agents_can_ask_where_the_cursor_is_without_hanging() {
    let s = Scratch::new();
    // The program asks for the cursor position and waits for the answer on stdin.
    let script = "stty raw -echo; printf 'ab\\033[6n'; dd bs=1 count=6 2>/dev/null | od -c > answer.txt; stty sane";
    let f = s.file(
        "cpr.toml",
        &format!(
            "title = \"cpr\"\n[[task]]\ntitle = \"t\"\n{}\n",
            sh_task(script)
        ),
    );
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "20s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let answer = s.read("answer.txt");
    assert!(
        answer.contains("033   [   1   ;   3   R"),
        "answer: {answer}"
    );
}

#[test]
fn status_text_lists_the_tree() {
    let s = Scratch::new();
    let f = s.file(
        "st.toml",
        &format!(
            "title = \"tree\"\n[[task]]\ntitle = \"leaf\"\n{}\n",
            sh_task("true")
        ),
    );
    assert_eq!(
        s.run(&["run", f.to_str().unwrap(), "--headless"])
            .status
            .code(),
        Some(0)
    );
    let out = s.run(&["status"]);
    let o = String::from_utf8_lossy(&out.stdout);
    assert!(
        o.contains("#1 tree") && o.contains("#2 leaf") && o.contains("[done]"),
        "{o}"
    );
}

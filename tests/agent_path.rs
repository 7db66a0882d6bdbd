//! Agents reach the board that started them whatever `PATH` the user has: the board links its
//! own executable as `<data>/bin/taskboard`, puts that dir first on every agent's `PATH`, and
//! names the absolute path in the prompt suffix. Runs the real binary (and a copy of it) with
//! a `PATH` that has no `taskboard` on it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A dir holding only `sh`: the whole `PATH` the board and its agents get.
fn bare_path(s: &Scratch) -> PathBuf {
    let tools = s.path().join("tools");
    std::fs::create_dir_all(&tools).expect("tools dir");
    std::os::unix::fs::symlink("/bin/sh", tools.join("sh")).expect("link sh");
    assert!(
        !tools.join("taskboard").exists(),
        "the bare PATH must not hold a taskboard"
    );
    tools
}

/// A profile that acts as a real agent would: it reads the finishing instruction from the
/// end of its prompt and runs it, with `PATH` emptied first, so only an absolute path works.
const FOLLOWER: &str = r#"
while IFS= read -r line || [ -n "$line" ]; do
  case $line in
    "When you are done, run: "*) cmd=${line#When you are done, run: }; cmd=${cmd%% --summary*};;
  esac
done < "$1"
PATH=/nonexistent
$cmd --summary "followed the prompt"
"#;

fn setup(s: &Scratch) -> PathBuf {
    let repo = s.path().join("repo");
    git_repo(&repo);
    std::fs::write(
        s.config(),
        format!(
            "spawns_per_minute = 100\n[agents.follower]\ncommand = [\"sh\", \"-c\", {}, \"agent\", \"{{prompt_file}}\"]\n",
            toml_str(FOLLOWER)
        ),
    )
    .expect("config");
    s.file(
        "goal.toml",
        &format!(
            r#"title = "reach the board"
repo = "repo"

[[task]]
title = "via PATH"
{}

[[task]]
title = "via the prompt"
agent = "follower"
prompt = "Do the work."
"#,
            sh_task(
                "command -v taskboard > where.txt; taskboard complete --summary 'reached via PATH'"
            )
        ),
    )
}

fn run_board(program: &Path, s: &Scratch, goal: &Path, path: &Path) -> std::process::Output {
    Command::new(program)
        .arg("--data-dir")
        .arg(s.data())
        .arg("--config")
        .arg(s.config())
        .args([
            "run",
            goal.to_str().expect("utf8"),
            "--headless",
            "--timeout",
            "60s",
        ])
        .current_dir(s.path())
        .env("PATH", path)
        .env_remove("TASKBOARD_HOME")
        .env_remove("TASKBOARD_URL")
        .env_remove("TASKBOARD_TOKEN")
        .env_remove("TASKBOARD_TASK_ID")
        .output()
        .expect("run the board")
}

fn check_done(s: &Scratch, out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    let tasks = flatten(&s.status());
    let path_task = by_title(&tasks, "via PATH");
    assert_eq!(path_task["status"], "done", "{path_task}");
    // A plain exit 0 would also be done: the summary proves `taskboard complete` ran.
    assert_eq!(path_task["summary"], "reached via PATH", "{path_task}");
    let prompt_task = by_title(&tasks, "via the prompt");
    assert_eq!(prompt_task["status"], "done", "{prompt_task}");
    assert_eq!(
        prompt_task["summary"], "followed the prompt",
        "{prompt_task}"
    );
    let link = s.data().join("bin").join("taskboard");
    assert_eq!(
        s.read("repo/where.txt").trim(),
        link.to_str().expect("utf8"),
        "the agent's `taskboard` is the board's link"
    );
    let id = prompt_task["id"].as_u64().expect("id");
    let prompt = std::fs::read_to_string(s.data().join("logs").join(format!("{id}.prompt")))
        .expect("prompt file");
    assert!(
        prompt.contains(&format!("run: {} complete --task {id}", link.display())),
        "the suffix names the absolute path: {prompt}"
    );
}

#[test]
fn an_agent_reaches_its_board_with_no_taskboard_on_path() {
    let s = Scratch::new();
    let path = bare_path(&s);
    let goal = setup(&s);
    let out = run_board(Path::new(BIN), &s, &goal, &path);
    check_done(&s, &out);
    let target = std::fs::read_link(s.data().join("bin").join("taskboard")).expect("a link");
    assert_eq!(
        target.canonicalize().expect("target exists"),
        Path::new(BIN).canonicalize().expect("bin"),
        "the link points at the binary that ran the board"
    );
}

#[test]
fn a_copied_binary_links_itself_and_a_later_start_refreshes_the_link() {
    let s = Scratch::new();
    let path = bare_path(&s);
    let goal = setup(&s);
    // A first board from the build dir (as `cargo run` would) leaves its link behind...
    let first = run_board(Path::new(BIN), &s, &goal, &path);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    // ...then a copy elsewhere (as `cargo install` or a download would be) takes over.
    let copy_dir = s.path().join("installed");
    std::fs::create_dir_all(&copy_dir).expect("copy dir");
    let copy = copy_dir.join("taskboard");
    std::fs::copy(BIN, &copy).expect("copy the binary");
    std::fs::remove_dir_all(s.data()).expect("fresh data dir");
    std::fs::create_dir_all(s.data().join("bin")).expect("bin dir");
    std::os::unix::fs::symlink(BIN, s.data().join("bin").join("taskboard")).expect("old link");
    let _ = std::fs::remove_file(s.path().join("repo/where.txt"));
    let out = run_board(&copy, &s, &goal, &path);
    check_done(&s, &out);
    assert_eq!(
        std::fs::read_link(s.data().join("bin").join("taskboard")).expect("a link"),
        copy,
        "the link now points at the copy that ran the board"
    );
}

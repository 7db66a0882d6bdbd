//! `s` end to end (ARCHITECTURE §4/§8): a shell pane in the task's worktree inside the TUI,
//! the real binary in a private tmux server, `$SHELL` being bash (it ignores SIGTERM, so
//! closing must hang up on it). `w` closes the pane and the shell with everything it
//! started; quitting or detaching does the same; an attached TUI's shell is its own. Each
//! test takes the serial lock (tests/common/serial.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::tmux::Tmux;
use common::*;

const LONG: Duration = Duration::from_secs(30);

/// A goal whose agent task works (sleeping) in a worktree of a fresh repository.
const GOAL: &str = r#"title = "Edit"
repo = "repo"
[[task]]
title = "Edit task"
command = ["sleep", "600"]
"#;

/// What the shell is asked to run: an escapee of its process group (found by the
/// environment marker when the shell goes), then the marker line the test waits for.
const TYPED: &str = "setsid sleep 4243 & pwd; echo SHELL-MARK-$((6*7))";

/// The worktree `status --json` gives the task `title`, once it has one.
fn worktree(s: &Scratch, title: &str) -> PathBuf {
    let mut found = None;
    let made = wait_for(LONG, || {
        found = flatten(&s.status())
            .iter()
            .find(|t| t["title"] == title)
            .and_then(|t| t["worktree"].as_str().map(PathBuf::from));
        found.is_some()
    });
    assert!(made, "{title} never got a worktree");
    found.unwrap()
}

/// Processes (not zombies) started by a TUI's shell pane (its `TASKBOARD_MARK`) that work
/// in `dir`: the shell and whatever it started.
fn shell_procs(dir: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let env = std::fs::read(e.path().join("environ")).unwrap_or_default();
        let marked = env
            .split(|b| *b == 0)
            .any(|v| v.starts_with(b"TASKBOARD_MARK=tui-shell:"));
        let here = std::fs::read_link(e.path().join("cwd")).is_ok_and(|c| c == dir);
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z');
        if marked && here && !zombie {
            pids.push(pid);
        }
    }
    pids
}

/// Waits (bounded) until nothing the shell pane started in `dir` runs any more.
fn wait_gone(dir: &Path, what: &str) {
    let gone = wait_for(Duration::from_secs(10), || shell_procs(dir).is_empty());
    assert!(gone, "{what}: still running: {:?}", shell_procs(dir));
}

/// Opens a shell pane on the selected task, types `TYPED` into it and waits for its
/// answer; returns the screen, after checking the TUI (tree, status bar) is still drawn.
fn shell_answers(t: &Tmux, wt: &Path) -> String {
    t.keys(&["s"]);
    t.wait_for("shell · #2 Edit task", LONG);
    t.text(TYPED);
    t.keys(&["Enter"]);
    let path = wt.display().to_string();
    let screen = t.wait("the shell's answer in its pane", LONG, |sc| {
        sc.lines()
            .any(|l| l.contains("SHELL-MARK-42") && !l.contains("$((6*7))"))
            && sc
                .lines()
                .any(|l| l.contains(&path) && !l.contains("shell ·"))
    });
    // Still the TUI: the tree row of the task, the pane's title, the status bar (where the
    // board counts its agent alone: the shell is not the board's).
    assert!(screen.contains("◐ #2 Edit task"), "{screen}");
    assert!(screen.contains("INPUT · ctrl-g leaves"), "{screen}");
    assert!(screen.contains("1 running · 0 need you"), "{screen}");
    // The shell, and the `setsid` escapee, run in the worktree.
    let running = wait_for(LONG, || shell_procs(wt).len() >= 2);
    assert!(running, "the shell and its sleep: {:?}", shell_procs(wt));
    screen
}

/// Runs `GOAL` in the TUI (`$SHELL` bash) on a fresh repository, selects its task and
/// opens a shell pane that answers `TYPED` (`shell_answers`); returns the TUI and the task's
/// worktree.
fn run_with_a_shell(s: &Scratch) -> (Tmux, PathBuf) {
    git_repo(&s.path().join("repo"));
    let goal = s.file("g.toml", GOAL);
    let t = Tmux::start(
        s,
        &["run", goal.to_str().unwrap()],
        &[("SHELL", "/bin/bash")],
        (240, 50),
    );
    t.wait_for("#2 Edit task · active", LONG);
    let wt = worktree(s, "Edit task");
    // All goals, the goal, then its task.
    t.keys(&["j", "j"]);
    shell_answers(&t, &wt);
    (t, wt)
}

#[test]
fn s_opens_a_shell_pane_in_the_worktree_and_w_closes_it_with_its_processes() {
    let _serial = serial();
    let s = Scratch::new();
    let (t, wt) = run_with_a_shell(&s);
    // Out of typing mode, `w` is the board's again: the pane goes, and its processes.
    t.keys(&["C-g"]);
    t.wait("typing mode to end", LONG, |sc| !sc.contains("INPUT ·"));
    t.keys(&["w"]);
    let screen = t.wait("the shell pane to close", LONG, |sc| {
        !sc.contains("shell · #2")
    });
    assert!(screen.contains("closed the shell of #2"), "{screen}");
    assert!(screen.contains("#2 Edit task · active"), "{screen}");
    wait_gone(&wt, "after w");
    // An ended shell's pane stays, saying so, until `w`.
    t.keys(&["s"]);
    t.wait_for("shell · #2 Edit task", LONG);
    t.text("exit 3");
    t.keys(&["Enter"]);
    t.wait_for("ended (exit 3)", LONG);
    t.keys(&["w"]);
    t.wait("the ended pane to close", LONG, |sc| {
        !sc.contains("shell · #2")
    });
    wait_gone(&wt, "after exit");
}

#[test]
fn quitting_the_tui_closes_its_shell_panes() {
    let _serial = serial();
    let s = Scratch::new();
    let (t, wt) = run_with_a_shell(&s);
    // The question counts the agent only: the shell is the user's own.
    t.keys(&["C-g", "q"]);
    t.wait_for("1 agent session is running", LONG);
    t.keys(&["y"]);
    t.wait_for("EXITED 0", LONG);
    wait_gone(&wt, "after quitting");
}

#[test]
fn an_attached_tui_runs_its_own_shell_and_detaching_closes_it() {
    let _serial = serial();
    let s = Scratch::new();
    git_repo(&s.path().join("repo"));
    let out = s.run(&["up"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    struct Down<'a>(&'a Scratch);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self.0.run(&["down", "--force"]);
        }
    }
    let _down = Down(&s);
    let goal = s.file("g.toml", GOAL);
    let out = s.run(&["add", goal.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let wt = worktree(&s, "Edit task");
    let t = Tmux::start(&s, &[], &[("SHELL", "/bin/bash")], (240, 50));
    t.wait_for("#2 Edit task · active", LONG);
    t.keys(&["j", "j"]);
    shell_answers(&t, &wt);
    // Not the board's: the board's own view of the task knows no shell.
    let board = flatten(&s.status());
    let task = board.iter().find(|t| t["title"] == "Edit task").unwrap();
    assert_eq!(task["status"], "active", "{task}");
    assert!(!task.to_string().contains("shell"), "{task}");
    // `q` detaches: the shell goes with the TUI, the board and its agent stay.
    t.keys(&["C-g", "q"]);
    t.wait_for("EXITED 0", LONG);
    wait_gone(&wt, "after detaching");
    assert!(
        wait_status(&s, "Edit task", "active", LONG),
        "the agent keeps running"
    );
}

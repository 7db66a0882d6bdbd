//! End-to-end TUI tests: the real binary inside a private tmux server (send-keys,
//! capture-pane), at 200×50 unless a test says otherwise. Each test takes the serial lock
//! (tests/common/serial.rs): screens and timings need the machine to themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::tmux::Tmux;
use common::*;

const LONG: Duration = Duration::from_secs(30);

/// A goal with one agent task running `cmd` (argv) in the scratch dir itself.
fn one_task_goal(s: &Scratch, title: &str, argv: &[&str]) -> String {
    let argv: Vec<String> = argv.iter().map(|a| format!("{a:?}")).collect();
    let text = format!(
        "title = \"{title}\"\n[[task]]\ntitle = \"{title} task\"\ncommand = [{}]\nworktree = false\n",
        argv.join(", ")
    );
    s.file("goal.toml", &text).display().to_string()
}

/// Rows of the tree (glyph, id, title; times and notes left out) in screen order.
fn tree_rows(screen: &str) -> Vec<String> {
    let re = regex::Regex::new(r"([○◐⚑⊘✔✘↷⧖]) (#\d+) (.+?)(?:  |\s*│)").expect("regex");
    screen
        .lines()
        .filter_map(|l| l.split('│').nth(1))
        .filter_map(|cell| {
            re.captures(cell)
                .map(|c| format!("{} {} {}", &c[1], &c[2], &c[3]))
        })
        .collect()
}

/// Waits until the demo's review gate (#7) has its diff recorded: the diff is computed after
/// the gate turns pending, and a decision modal opened before it arrives is stale at once
/// (its keys are refused with "the diff … changed since this opened").
fn review_diff_recorded(s: &Scratch) {
    assert!(
        wait_for(LONG, || flatten(&s.status())
            .iter()
            .any(|t| t["id"] == 7 && t["diff_hash"].is_string())),
        "the review's diff was never recorded: {}",
        s.status()
    );
}

/// When each frame in a `TASKBOARD_DRAW_LOG` file began (ms since the epoch): its line's
/// end time less its length (`draw N MILLIS MICROSus …`).
fn frame_starts(log: &std::path::Path) -> Vec<u64> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let end: u64 = f.get(2).and_then(|v| v.parse().ok()).expect("draw time");
            let took: u64 = f
                .get(3)
                .and_then(|v| v.strip_suffix("us")?.parse().ok())
                .expect("draw length");
            end - took / 1000
        })
        .collect()
}

/// Now, in ms since the epoch (the draw log's clock).
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// A file's last write, in ms since the epoch.
fn mtime_ms(path: &std::path::Path) -> u64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("mtime")
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

/// The inner width of the pane box whose title starts with `title` (from the screen).
fn box_inner_width(screen: &str, title: &str) -> Option<usize> {
    let line = screen.lines().find(|l| l.contains(title))?;
    let chars: Vec<char> = line.chars().collect();
    let start = (0..chars.len()).find(|&i| {
        chars[i] == '┌'
            && chars[i..]
                .iter()
                .collect::<String>()
                .starts_with(&format!("┌ {title}"))
    })?;
    let end = (start + 1..chars.len()).find(|&i| chars[i] == '┐')?;
    Some(end - start - 1)
}

#[test]
fn demo_panes_show_agent_output_while_running() {
    let _serial = serial();
    let s = Scratch::new();
    let t = Tmux::start(&s, &["demo"], &[], (200, 50));
    let screen = t.wait("a running agent's pane with its output", LONG, |sc| {
        sc.contains("· active")
            && sc.contains("prompt: Add a greeting module")
            && sc.contains("reading the repository")
    });
    assert!(
        screen.contains("◐ #1 Demo: add a greeting feature"),
        "{screen}"
    );
    assert!(
        screen.contains("127.0.0.1:"),
        "the status bar names the listener:\n{screen}"
    );
}

/// Starts the demo, waits until its review gate (#7) needs the user with its diff recorded,
/// then presses `!` to open the decision.
fn demo_at_the_review(s: &Scratch) -> Tmux {
    let t = Tmux::start(s, &["demo"], &[], (200, 50));
    t.wait_for("Needs you (1)", LONG);
    review_diff_recorded(s);
    t.keys(&["!"]);
    t
}

/// Sends the board `signal` (`kill -<signal>`), its pid read from `<data>/endpoint`.
fn kill_board(s: &Scratch, signal: &str) {
    let pid = std::fs::read_to_string(s.data().join("endpoint"))
        .ok()
        .and_then(|e| e.lines().nth(1).map(str::to_string))
        .expect("endpoint names the board's pid");
    Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill");
}

#[test]
fn bang_then_a_approves_the_review_and_the_goal_finishes() {
    let _serial = serial();
    let s = Scratch::new();
    let t = demo_at_the_review(&s);
    t.wait_for("Decide #7 · Review the work", LONG);
    t.keys(&["a"]);
    t.wait_for("#7 approved", LONG);
    assert!(
        wait_status(&s, "Demo: add a greeting feature", "done", LONG),
        "the goal did not finish"
    );
    t.wait_for("✔ #1 Demo: add a greeting feature", LONG);
}

#[test]
fn request_changes_reruns_the_agent_with_the_comment() {
    let _serial = serial();
    let s = Scratch::new();
    let t = demo_at_the_review(&s);
    t.wait_for("Decide #7", LONG);
    t.keys(&["c"]);
    t.wait_for("Request changes on #7", LONG);
    t.text("add a usage example please");
    t.keys(&["C-s"]);
    // The docs agent (#6, the gate's rework target) runs again and its pane shows the comment.
    let screen = t.wait_for("Changes requested: add a usage example please", LONG);
    assert!(screen.contains("◐ #6 Write the docs"), "{screen}");
    let log = std::fs::read_to_string(s.data().join("logs/6.log")).unwrap_or_default();
    assert!(
        log.contains("add a usage example please"),
        "the comment reached the agent: {log}"
    );
    // The gate waits again and comes back to the inbox when the agent is done.
    t.wait_for("Needs you (1)", LONG);
}

#[test]
fn typing_into_a_sh_pane() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = one_task_goal(&s, "Shell", &["sh"]);
    let t = Tmux::start(&s, &["run", &goal], &[("PS1", "$ ")], (200, 50));
    t.wait_for("#2 Shell task · active", LONG);
    t.keys(&["Tab", "Enter"]);
    t.wait_for("INPUT", LONG);
    t.text("echo hi");
    t.keys(&["Enter"]);
    let screen = t.wait("a line that is just `hi`", LONG, |sc| {
        sc.lines()
            .any(|l| l.split('│').any(|cell| cell.trim() == "hi"))
    });
    assert!(screen.contains("$ echo hi"), "{screen}");
    // Ctrl-g leaves input mode: `q` is the board's again and asks first.
    t.keys(&["C-g", "q"]);
    t.wait_for("Quit?", LONG);
}

#[test]
fn q_asks_before_quitting_a_running_board() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = one_task_goal(
        &s,
        "Sleeper",
        &["sh", "-c", "echo $$ > pid.txt; exec sleep 600"],
    );
    let t = Tmux::start(&s, &["run", &goal], &[], (200, 50));
    t.wait_for("#2 Sleeper task · active", LONG);
    t.keys(&["q"]);
    let screen = t.wait_for("1 agent session is running; quitting stops it. Quit?", LONG);
    assert!(!screen.contains("EXITED"), "{screen}");
    t.keys(&["n"]);
    t.wait("the question to close", LONG, |sc| !sc.contains("Quit?"));
    // The next key is still the board's: `n` did not quit.
    t.keys(&["q"]);
    let screen = t.wait_for("Quit?", LONG);
    assert!(!screen.contains("EXITED"), "n must not quit:\n{screen}");
    t.keys(&["y"]);
    t.wait_for("EXITED 0", LONG);
    assert_terminal_restored(&t);
    // Quitting stopped the agent; its task is interrupted, not left running.
    let tasks = flatten(&s.status());
    let task = by_title(&tasks, "Sleeper task");
    assert_eq!(
        (task["status"].as_str(), task["reason"].as_str()),
        (Some("active"), Some("")),
        "quitting decides nothing about the task; the next start recovers it: {task}"
    );
    let pid: i32 = s
        .read("pid.txt")
        .trim()
        .parse()
        .expect("the agent wrote its pid");
    assert!(
        wait_for(Duration::from_secs(10), || !pid_alive(pid)),
        "the agent (pid {pid}) outlived the board that quit"
    );
}

/// After the TUI is gone: canonical mode and echo are back, the alternate screen is left.
fn assert_terminal_restored(t: &Tmux) {
    let screen = t.wait("the terminal modes to be printed", LONG, |sc| {
        sc.matches("TTY ").count() >= 2
    });
    assert!(
        screen.contains("TTY icanon") && screen.contains("TTY echo"),
        "raw mode left on:\n{screen}"
    );
    assert!(
        !screen.contains("┌ Goals"),
        "still on the alternate screen:\n{screen}"
    );
}

#[test]
fn sigterm_quits_and_restores_the_terminal() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = one_task_goal(&s, "Sleeper", &["sleep", "600"]);
    let t = Tmux::start(&s, &["run", &goal], &[], (200, 50));
    t.wait_for("#2 Sleeper task · active", LONG);
    kill_board(&s, "TERM");
    t.wait_for("EXITED 130", LONG);
    assert_terminal_restored(&t);
}

#[test]
fn resizing_the_window_relays_the_panes_and_the_pty() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = one_task_goal(&s, "Shell", &["sh"]);
    let t = Tmux::start(&s, &["run", &goal], &[("PS1", "$ ")], (200, 50));
    let before = t.wait_for("#2 Shell task · active", LONG);
    let wide = box_inner_width(&before, "#2 Shell task").expect("pane box");
    t.keys(&["Tab", "Enter"]);
    t.text("stty size");
    t.keys(&["Enter"]);
    t.wait(&format!("stty size to say {wide} columns"), LONG, |sc| {
        sc.contains(&format!(" {wide}"))
    });
    t.tmux(&["resize-window", "-x", "120", "-y", "40"]);
    let after = t.wait("the screen to be 120 wide", LONG, |sc| {
        sc.lines().next().is_some_and(|l| l.chars().count() == 120)
            && box_inner_width(sc, "#2 Shell task").is_some()
    });
    let narrow = box_inner_width(&after, "#2 Shell task").expect("pane box");
    assert!(narrow < wide, "{narrow} < {wide}");
    t.text("stty size");
    t.keys(&["Enter"]);
    t.wait(
        &format!("the PTY to be {narrow} columns wide"),
        LONG,
        |sc| {
            sc.lines().any(|l| {
                l.split('│')
                    .any(|c| c.trim().ends_with(&format!(" {narrow}")))
            })
        },
    );
}

#[test]
fn kill_9_and_restart_bring_back_the_tree_and_pane_tails() {
    let _serial = serial();
    let s = Scratch::new();
    let t = Tmux::start(&s, &["demo"], &[], (200, 50));
    let before = t.wait_for("Needs you (1)", LONG);
    let rows = tree_rows(&before);
    assert!(
        rows.iter().any(|r| r.contains("#7 Review the work")),
        "{rows:?}"
    );
    kill_board(&s, "9");
    t.wait_for("EXITED 137", LONG);
    drop(t);
    let t = Tmux::start(&s, &[], &[], (200, 50));
    // The whole restored screen, not the tree alone: the panes' tails come from their logs
    // and may be drawn a frame later.
    let after = t.wait("the same tree and the saved panes' tails", LONG, |sc| {
        tree_rows(sc) == rows
            && [2, 4, 5, 6]
                .iter()
                .all(|n| sc.contains(&format!("committed notes/task-{n}.md")))
            && sc.contains("saved log")
    });
    assert!(after.contains("Needs you (1)"), "{after}");
    // Finished agents' panes are back from their logs.
    for n in [2, 4, 5, 6] {
        assert!(
            after.contains(&format!("committed notes/task-{n}.md")),
            "pane tail of #{n}:\n{after}"
        );
    }
    assert!(after.contains("saved log"), "{after}");
}

#[test]
fn idle_board_with_10_panes_draws_nothing() {
    let _serial = serial();
    let s = Scratch::new();
    std::fs::write(
        s.path().join("config.toml"),
        "spawns_per_minute = 100\nmax_agents = 10\n",
    )
    .expect("config");
    let mut goal = String::from("title = \"Idle\"\nparallel = true\n");
    for i in 1..=10 {
        goal.push_str(&format!(
            "[[task]]\ntitle = \"cat {i}\"\ncommand = [\"cat\"]\nworktree = false\n"
        ));
    }
    let goal = s.file("idle.toml", &goal).display().to_string();
    let log = s.path().join("draws.log");
    let t = Tmux::start(
        &s,
        &["run", &goal],
        &[("TASKBOARD_DRAW_LOG", &log.display().to_string())],
        (200, 50),
    );
    t.wait("10 running panes", LONG, |sc| {
        sc.contains("10 running") && sc.matches("· active").count() >= 10
    });
    let count = || {
        std::fs::read_to_string(&log)
            .map(|l| l.lines().count())
            .unwrap_or(0)
    };
    // The window starts once the frames for what happened before it are in: a pane whose
    // parser was busy is drawn in a later frame, so wait (on the draw log, not a fixed
    // pause) until no frame has begun for a second.
    assert!(
        wait_for(LONG, || frame_starts(&log)
            .last()
            .is_some_and(|&f| now_ms() >= f + 1000)),
        "the draw log is written and goes quiet: {:?}",
        std::fs::read_to_string(&log)
    );
    let seen = now_ms();
    // The premise: 5 s in which nothing happens. Bounded at its end by an event too: the
    // key below draws a frame, so the loop was alive all along.
    std::thread::sleep(Duration::from_secs(5));
    let start = count();
    let idle = frame_starts(&log).iter().filter(|&&f| f > seen).count();
    eprintln!("draws during 5 s of idling with 10 idle panes: {idle}");
    assert_eq!(
        idle,
        0,
        "an idle board must not draw: {:?}",
        std::fs::read_to_string(&log)
    );
    // And it still draws when something happens.
    t.keys(&["j"]);
    assert!(
        wait_for(Duration::from_secs(5), || count() > start),
        "a key draws a frame"
    );
}

#[test]
fn keystroke_latency_smoke() {
    let _serial = serial();
    common::tmux::require_tmux();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/keylat.py");
    let out = Command::new("python3")
        .args([script, "--quick", "--bin", BIN])
        .output()
        .expect("python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("taskboard:") && text.contains("tmux:"),
        "{text}"
    );
}

#[test]
fn auto_approve_works_in_the_tui_too() {
    let _serial = serial();
    let s = Scratch::new();
    let t = Tmux::start(&s, &["demo", "--auto-approve"], &[], (200, 50));
    assert!(
        wait_status(&s, "Demo: add a greeting feature", "done", LONG),
        "the review gate was not approved:\n{}",
        t.screen()
    );
    t.wait_for("✔ #7 Review the work", LONG);
}

/// Scrollback is kept as the bytes the agent printed (`scrollback` lines) and parsed when
/// the user scrolls back: PgUp shows earlier lines up to the oldest kept one, new output
/// does not move the view meanwhile, and PgDn back at the bottom shows the live screen.
#[test]
fn scrolling_back_shows_the_kept_lines_and_returns_to_the_live_screen() {
    let _serial = serial();
    let s = Scratch::new();
    std::fs::write(s.path().join("config.toml"), "scrollback = 500\n").expect("config");
    let goal = one_task_goal(
        &s,
        "Rows",
        &[
            "sh",
            "-c",
            "seq -f 'row %g' 1 3000; while [ ! -e more ]; do sleep 0.1; done; echo 'row after'; sleep 600",
        ],
    );
    let draws = s.path().join("draws.log");
    let t = Tmux::start(
        &s,
        &["run", &goal],
        &[("TASKBOARD_DRAW_LOG", &draws.display().to_string())],
        (120, 40),
    );
    t.wait_for("row 3000", LONG);
    t.keys(&["Tab"]);
    t.keys(&["PPage"]);
    let back = t.wait("a page back", LONG, |sc| {
        sc.contains("↑") && !sc.contains("row 3000")
    });
    assert!(back.contains("row 29"), "{back}");
    // New output while scrolled back does not move the view.
    std::fs::write(s.path().join("more"), "").expect("more");
    // Bounded by events: the board read the new line (it is in the task's log, written
    // before the screen takes it), then the TUI drew a frame begun after that write.
    let task_log = s.data().join("logs/2.log");
    assert!(
        wait_for(LONG, || std::fs::read_to_string(&task_log)
            .unwrap_or_default()
            .contains("row after")),
        "the agent's new line never reached its log"
    );
    let written = mtime_ms(&task_log);
    assert!(
        wait_for(LONG, || frame_starts(&draws).iter().any(|&f| f >= written)),
        "no frame after the new output: {:?}",
        std::fs::read_to_string(&draws)
    );
    assert!(!t.screen().contains("row after"), "{}", t.screen());
    for _ in 0..40 {
        t.keys(&["PPage"]);
    }
    let top = t.wait("the oldest kept line", LONG, |sc| sc.contains("row 2501 "));
    assert!(!top.contains("row 2500 "), "only 500 lines are kept: {top}");
    for _ in 0..60 {
        t.keys(&["NPage"]);
    }
    let live = t.wait("the live screen again", LONG, |sc| sc.contains("row after"));
    assert!(!live.contains("↑"), "{live}");
}

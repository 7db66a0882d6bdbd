//! The TUI attached to a board started with `taskboard up`: detach and attach again with the
//! agent still running, typing through the listener, two TUIs at once, `Q` stopping the
//! board. The real binary in private tmux servers. Each test takes the serial lock
//! (tests/common/serial.rs): screens and timings need the machine to themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::*;

const LONG: Duration = Duration::from_secs(30);

/// A board in the background on a scratch data dir, stopped (with its agents) when the
/// test ends, pass or fail.
struct Up {
    s: Scratch,
    pid: i32,
}

impl Up {
    fn start() -> Up {
        let s = Scratch::new();
        let out = s.run(&["up"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let pid = std::fs::read_to_string(s.data().join("lock"))
            .expect("lock")
            .trim()
            .parse()
            .expect("pid in the lock");
        Up { s, pid }
    }

    /// A board running `goal`, once its task `title` is `status`.
    fn with(goal: &str, title: &str, status: &str) -> Up {
        let up = Up::start();
        up.add(goal);
        assert!(
            wait_status(&up.s, title, status, LONG),
            "{title} never became {status}"
        );
        up
    }

    fn add(&self, goal: &str) {
        let f = self.s.file("goal.toml", goal);
        let out = self.s.run(&["add", f.to_str().expect("path")]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }

    fn tui(&self, size: (u16, u16)) -> Tmux {
        Tmux::start(&self.s, &[], &[], size)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.s.run(&["down", "--force"]);
    }
}

/// An agent that prints a numbered tick with its pid twice a second and echoes each line
/// it reads as `got:<line>`.
const TICKER: &str = r#"title = "Ticker goal"
[[task]]
title = "ticker"
command = ["bash", "-c", "i=0; while :; do echo \"tick $i pid $$\"; i=$((i+1)); if read -t 0.5 l; then echo \"got:$l\"; fi; done"]
worktree = false
"#;

/// The highest tick number on the screen and the pid printed with it.
fn last_tick(screen: &str) -> Option<(u64, i32)> {
    let re = regex::Regex::new(r"tick (\d+) pid (\d+)").expect("regex");
    re.captures_iter(screen)
        .filter_map(|c| Some((c[1].parse().ok()?, c[2].parse().ok()?)))
        .max()
}

#[test]
fn detach_and_attach_again_the_agent_keeps_running_and_takes_keys() {
    let _serial = serial();
    let up = Up::with(TICKER, "ticker", "active");
    let s = &up.s;

    let t = up.tui((200, 50));
    let screen = t.wait("the ticker's output in its pane", LONG, |sc| {
        last_tick(sc).is_some_and(|(n, _)| n >= 2)
    });
    assert!(
        screen.contains(&format!("attached to pid {}", up.pid)),
        "the status bar says it is attached:\n{screen}"
    );
    assert!(
        screen.contains("detach (agents keep running)"),
        "q is shown as detach:\n{screen}"
    );
    let (seen, agent) = last_tick(&screen).expect("a tick");

    // The terminal goes away (the TUI dies with it); the agent does not.
    t.tmux(&["kill-server"]);
    drop(t);
    // Bounded by an event, not a sleep: the agent goes on ticking into its log.
    let log = up.s.data().join("logs/2.log");
    let ticked = |n: u64| {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(&format!("tick {n} pid {agent}"))
    };
    assert!(
        wait_for(LONG, || ticked(seen + 3)),
        "the agent stopped ticking once the TUI was gone"
    );
    assert!(pid_alive(agent), "the agent died with the TUI");
    assert!(pid_alive(up.pid), "the board died with the TUI");

    let t = up.tui((200, 50));
    let screen = t.wait("ticks printed while nothing was attached", LONG, |sc| {
        last_tick(sc).is_some_and(|(n, _)| n >= seen + 3)
    });
    let (_, pid) = last_tick(&screen).expect("a tick");
    assert_eq!(pid, agent, "the same agent process:\n{screen}");
    // Ticks from while nothing was attached are in the pane (from the log).
    assert!(
        screen.contains(&format!("tick {} pid {agent}", seen + 1)),
        "output printed while detached is shown:\n{screen}"
    );

    // Typing reaches the agent through the listener.
    t.keys(&["Tab", "Enter"]);
    t.wait_for("INPUT", LONG);
    t.text("hello from the attached tui");
    t.keys(&["Enter"]);
    t.wait_for("got:hello from the attached tui", LONG);
    let log = std::fs::read_to_string(s.data().join("logs/2.log")).unwrap_or_default();
    assert!(log.contains("got:hello from the attached tui"), "{log}");

    // q detaches at once (no question) and says the board goes on.
    t.keys(&["C-g", "q"]);
    let screen = t.wait_for("EXITED 0", LONG);
    assert!(screen.contains("detached: the board"), "{screen}");
    assert!(pid_alive(agent) && pid_alive(up.pid));

    // `down` leaves nothing behind.
    let out = s.run(&["down", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        wait_for(LONG, || !pid_alive(agent) && !pid_alive(up.pid)),
        "a process outlived `down`"
    );
}

/// A goal whose only task is a human review gate.
const REVIEW: &str = r#"title = "Review goal"
[[task]]
title = "Look at it"
kind = "human_review"
"#;

#[test]
fn an_approval_in_one_attached_tui_shows_in_another() {
    let _serial = serial();
    let up = Up::with(REVIEW, "Look at it", "pending_review");
    let a = up.tui((200, 50));
    let b = up.tui((160, 45));
    for t in [&a, &b] {
        t.wait_for("Needs you (1)", LONG);
    }
    a.keys(&["!"]);
    a.wait_for("Decide #2", LONG);
    a.tmux(&["send-keys", "a"]);
    let sent = Instant::now();
    let screen = b.wait("the approval in the other TUI", LONG, |sc| {
        sc.contains("✔ #1 Review goal")
    });
    let took = sent.elapsed();
    eprintln!("approval seen by the second TUI after {took:?} (includes tmux polling)");
    assert!(screen.contains("Needs you (0)"), "{screen}");
    // The decision went through the listener as the TUI's, and is audited so.
    let out = up.s.run(&["audit", "2"]);
    assert!(
        text(&out)
            .lines()
            .any(|l| l.contains("tui") && l.contains("decision")),
        "{}",
        text(&out)
    );
}

/// The agent prints its terminal size for each line it reads.
const SIZES: &str = r#"title = "Sizes goal"
[[task]]
title = "sizes"
command = ["bash", "-c", "echo ready; while read l; do echo \"size:$(stty size) for $l\"; done"]
worktree = false
"#;

#[test]
fn the_pane_size_is_the_last_typing_tuis() {
    let _serial = serial();
    let up = Up::with(SIZES, "sizes", "active");
    let a = up.tui((200, 50));
    a.wait_for("ready", LONG);
    let b = up.tui((150, 40));
    b.wait_for("ready", LONG);
    let size_of = |t: &Tmux, who: &str| -> (u32, u32) {
        t.keys(&["Tab", "Enter"]);
        t.wait_for("INPUT", LONG);
        t.text(who);
        t.keys(&["Enter"]);
        let screen = t.wait_for(&format!("for {who}"), LONG);
        // Leave input mode and go back to the tree, as before.
        t.keys(&["C-g", "Tab"]);
        let re = regex::Regex::new(&format!(r"size:(\d+) (\d+) for {who}")).expect("regex");
        let c = re.captures(&screen).expect("a size line");
        (c[1].parse().expect("rows"), c[2].parse().expect("cols"))
    };
    let sa = size_of(&a, "from-a");
    let sb = size_of(&b, "from-b");
    assert_ne!(sa, sb, "two window sizes give two pane sizes");
    assert!(
        sa.1 > sb.1,
        "the wider window has the wider pane: {sa:?} {sb:?}"
    );
    // A types again after a pause: its size wins again. The pause is the scenario, and a
    // margin for B's last keys (leaving input mode) to reach the board: the board reports
    // no size change a test could wait on.
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(size_of(&a, "again-a"), sa);
}

#[test]
fn shift_q_asks_then_stops_the_board_and_its_agents() {
    let _serial = serial();
    let up = Up::with(TICKER, "ticker", "active");
    let t = up.tui((200, 50));
    let screen = t.wait("the ticker's output", LONG, |sc| last_tick(sc).is_some());
    let (_, agent) = last_tick(&screen).expect("a tick");
    t.keys(&["Q"]);
    t.wait_for(&format!("Stop the board (pid {})", up.pid), LONG);
    t.keys(&["y"]);
    let screen = t.wait_for("EXITED 0", LONG);
    assert!(screen.contains("has stopped"), "{screen}");
    assert!(
        wait_for(LONG, || !pid_alive(agent) && !pid_alive(up.pid)),
        "a process outlived Q"
    );
    let out = up.s.run(&["status"]);
    assert!(
        text(&out).contains("ticker"),
        "the tasks are kept: {}",
        text(&out)
    );
}

/// Four signal gates, all waiting.
const GATES: &str = r#"title = "Gates goal"
parallel = true
[[task]]
title = "gate 0"
kind = "signal"
gate = "g"
[[task]]
title = "gate 1"
kind = "signal"
gate = "g"
[[task]]
title = "gate 2"
kind = "signal"
gate = "g"
[[task]]
title = "gate 3"
kind = "signal"
gate = "g"
"#;

/// Changes reach an attached TUI as deltas (the changed records only); when its event
/// stream drops and changes happen before it is back (a gap), it reads the whole board
/// again on reconnecting and shows them too.
#[test]
fn an_attached_tui_follows_deltas_and_converges_after_a_reconnect() {
    let _serial = serial();
    let up = Up::with(GATES, "gate 3", "active");
    let t = up.tui((200, 50));
    t.wait_for("#5 gate 3", LONG);
    let pass = |title: &str| {
        let id = id_of(&up.s, title).to_string();
        let out = up.s.run(&["signal", "--task", &id, "--status", "pass"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    };
    pass("gate 0");
    t.wait_for("✔ #2 gate 0", LONG);

    // Stop the TUI, cut its connections to the board, change the board, let it go on.
    let pane = t.tmux(&["display", "-p", "#{pane_pid}"]);
    let pane = String::from_utf8_lossy(&pane.stdout).trim().to_string();
    let kids = std::process::Command::new("pgrep")
        .args(["-P", &pane])
        .output()
        .expect("pgrep");
    let tui = String::from_utf8_lossy(&kids.stdout).trim().to_string();
    assert!(
        !tui.is_empty() && !tui.contains('\n'),
        "one TUI process: {tui:?}"
    );
    let kill = |sig: &str| {
        let st = std::process::Command::new("kill")
            .args([sig, &tui])
            .status()
            .expect("kill");
        assert!(st.success());
    };
    kill("-STOP");
    let (url, _) = up.s.endpoint();
    let port = url.rsplit(':').next().unwrap_or("").trim_end_matches('/');
    let cut = std::process::Command::new("ss")
        .args(["-K", "dst", "127.0.0.1", "dport", "=", port])
        .output()
        .expect("ss");
    assert!(
        String::from_utf8_lossy(&cut.stdout).contains("ESTAB"),
        "the TUI's event stream was cut: {}",
        text(&cut)
    );
    pass("gate 1");
    pass("gate 2");
    kill("-CONT");
    let screen = t.wait("the changes made while it was cut off", LONG, |sc| {
        sc.contains("✔ #3 gate 1") && sc.contains("✔ #4 gate 2")
    });
    assert!(
        screen.contains("#5 gate 3") && !screen.contains("✔ #5"),
        "{screen}"
    );
    // And it follows changes again.
    pass("gate 3");
    t.wait_for("✔ #5 gate 3", LONG);
}

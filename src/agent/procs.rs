//! Stopping what a task started: its process group (TERM, then KILL after a grace period)
//! and anything that escaped the group, found by the marker in its environment.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

/// The environment variable that marks every process of a task: `<board-id>:<task>`.
pub const MARK: &str = "TASKBOARD_MARK";

pub fn mark_value(board: &str, task: u64) -> String {
    format!("{board}:{task}")
}

fn group_alive(pgid: u32) -> bool {
    killpg(Pid::from_raw(pgid as i32), None).is_ok()
}

/// SIGTERM to the group, SIGKILL after `grace` if anything is left; then kill escapees
/// carrying `mark`. Blocks up to `grace`; call it off the async threads.
pub fn stop_group(pgid: u32, mark: Option<&str>, grace: Duration) {
    let pg = Pid::from_raw(pgid as i32);
    let _ = killpg(pg, Signal::SIGTERM);
    let _ = killpg(pg, Signal::SIGCONT);
    let until = Instant::now() + grace;
    while group_alive(pgid) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    if group_alive(pgid) {
        let _ = killpg(pg, Signal::SIGKILL);
    }
    if let Some(m) = mark {
        kill_marked(m, true);
    }
}

/// Kills (SIGKILL) every process whose environment holds `TASKBOARD_MARK=<prefix>…`
/// (`exact` = the whole value), except ourselves. Returns how many were found.
pub fn kill_marked(prefix: &str, exact: bool) -> usize {
    let me = std::process::id();
    let needle = format!("{MARK}={prefix}");
    let mut n = 0;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(env) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let hit = env
            .split(|b| *b == 0)
            .any(|var| var.starts_with(needle.as_bytes()) && (!exact || var.len() == needle.len()));
        if hit {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            n += 1;
        }
    }
    n
}

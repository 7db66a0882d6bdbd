//! Stopping what a task started: its process group (TERM, then KILL after a grace period)
//! and anything that escaped the group, found by the marker in its environment.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

/// The environment variable that marks every process of a task's attempt:
/// `<board-id>:<task>:<attempt>`. Per attempt, so stopping an old attempt (a timeout with a
/// retry, a stop then a retry) never kills the processes of the new one.
pub const MARK: &str = "TASKBOARD_MARK";

pub fn mark_value(board: &str, task: u64, attempt: u32) -> String {
    format!("{board}:{task}:{attempt}")
}

fn group_alive(pgid: u32) -> bool {
    killpg(Pid::from_raw(pgid as i32), None).is_ok()
}

/// SIGTERM to the group, SIGKILL after `grace` if anything is left; then kill escapees
/// carrying `mark`. Blocks up to `grace`; call it off the async threads.
pub fn stop_group(pgid: u32, mark: Option<&str>, grace: Duration) {
    stop_group_with(pgid, &[Signal::SIGTERM], mark, grace);
}

/// Like `stop_group`, for a user's interactive shell: SIGHUP first (as a closed terminal
/// would: an interactive shell ignores SIGTERM, and passes a hang-up on to its jobs), then
/// SIGTERM, SIGKILL after `grace`, then escapees carrying `mark`.
pub fn hang_up_group(pgid: u32, mark: Option<&str>, grace: Duration) {
    stop_group_with(pgid, &[Signal::SIGHUP, Signal::SIGTERM], mark, grace);
}

fn stop_group_with(pgid: u32, first: &[Signal], mark: Option<&str>, grace: Duration) {
    let pg = Pid::from_raw(pgid as i32);
    for s in first {
        let _ = killpg(pg, *s);
    }
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

/// After a session's main process ended: TERM whatever it left running (found by its exact
/// `mark`, e.g. a grandchild that called `setsid`), and KILL what is still there after
/// `grace`. Returns how many were found; nothing found costs one scan of `/proc`.
pub fn end_leftovers(mark: &str, grace: Duration) -> usize {
    let pids = marked(mark, true);
    if pids.is_empty() {
        return 0;
    }
    for p in &pids {
        let _ = kill(Pid::from_raw(*p as i32), Signal::SIGTERM);
        let _ = kill(Pid::from_raw(*p as i32), Signal::SIGCONT);
    }
    let until = Instant::now() + grace;
    while pids.iter().any(|p| alive(*p)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_marked(mark, true);
    pids.len()
}

/// Running (not a zombie waiting to be reaped).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

/// Kills (SIGKILL) every process whose environment holds `TASKBOARD_MARK=<prefix>…`
/// (`exact` = the whole value), except ourselves. Returns how many were found.
pub fn kill_marked(prefix: &str, exact: bool) -> usize {
    let pids = marked(prefix, exact);
    for pid in &pids {
        let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
    }
    pids.len()
}

/// The processes (but ourselves) whose environment holds `TASKBOARD_MARK=<prefix>…`. Only
/// our own user's: anyone can put the marker in their environment, and a board run by root
/// must not become a way to kill other users' processes.
fn marked(prefix: &str, exact: bool) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let me = std::process::id();
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    let needle = format!("{MARK}={prefix}");
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me || uid.is_none() || entry.metadata().map(|m| m.uid()).ok() != uid {
            continue;
        }
        let Ok(env) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let hit = env
            .split(|b| *b == 0)
            .any(|var| var.starts_with(needle.as_bytes()) && (!exact || var.len() == needle.len()));
        if hit {
            found.push(pid);
        }
    }
    found
}

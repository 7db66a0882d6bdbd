//! Misbehaving agents on real PTYs (ARCHITECTURE §4): an agent that exits at once, floods
//! 100 MB without a newline, ignores SIGTERM, escapes its group with `setsid`, never exits,
//! closes its PTY but keeps running, or prints invalid UTF-8 and huge escape sequences. For
//! each: the board keeps answering a signal to another task in under 100 ms, the statuses are
//! right, and stopping the task leaves no process behind (found by `TASKBOARD_MARK`). Each
//! test takes the serial lock (tests/common/serial.rs): the 100 ms bound needs the machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;

const LONG: Duration = Duration::from_secs(30);

/// A board running one faulty agent task next to a signal gate used to probe it.
struct Fault {
    s: Scratch,
    live: Live,
    agent: u64,
    gate: u64,
}

impl Fault {
    /// `script` runs as `sh -c`; `extra` adds fields to the agent task.
    fn start(script: &str, extra: &str) -> Fault {
        let s = Scratch::new();
        let goal = format!(
            "title = \"faults\"\nparallel = true\n[[task]]\ntitle = \"agent\"\ncommand = [\"sh\", \"-c\", {}]\nworktree = false\n{extra}\n[[task]]\ntitle = \"probe\"\nkind = \"signal\"\ngate = \"probe\"\nretries = 100000\n",
            toml_str(script)
        );
        let f = s.file("fault.toml", &goal);
        let live = Live::start(&s, Some(&f), &[]);
        assert!(
            wait_status(&s, "probe", "active", LONG),
            "{}",
            live.printed()
        );
        let tasks = flatten(&s.status());
        let id = |t: &str| by_title(&tasks, t)["id"].as_u64().expect("id");
        Fault {
            agent: id("agent"),
            gate: id("probe"),
            s,
            live,
        }
    }

    fn status(&self) -> (String, String) {
        let (code, v) = self
            .live
            .req("GET", &format!("/api/tasks/{}", self.agent), None);
        assert_eq!(code, 200, "{v}");
        (
            v["status"].as_str().unwrap_or("").to_string(),
            v["reason"].as_str().unwrap_or("").to_string(),
        )
    }

    fn wait_status(&self, want: &str) -> (String, String) {
        let ok = wait_for(LONG, || self.status().0 == want);
        let got = self.status();
        assert!(ok, "agent is {got:?}, not {want}: {}", self.live.printed());
        got
    }

    /// A failing signal to the other task (it has retries to spare, so it keeps waiting).
    fn probe(&self) -> Duration {
        let start = Instant::now();
        let (code, v) = self.live.req(
            "POST",
            &format!("/api/tasks/{}/signal", self.gate),
            Some(r#"{"status":"fail","payload":{"summary":"probe"}}"#),
        );
        let took = start.elapsed();
        assert_eq!(code, 200, "probe signal: {v}");
        took
    }

    /// Several probes, spaced out; each must be answered in under 100 ms.
    fn assert_responsive(&self, what: &str) {
        let took: Vec<Duration> = (0..5)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(40));
                self.probe()
            })
            .collect();
        println!("{what}: signals answered in {took:?}");
        assert!(
            took.iter().all(|t| *t < Duration::from_millis(100)),
            "{what}: the board was slow to answer a signal: {took:?}"
        );
    }

    fn board_id(&self) -> String {
        std::fs::read_to_string(self.s.data().join("board-id"))
            .expect("board-id")
            .trim()
            .to_string()
    }

    /// Live processes marked as this task's (any attempt).
    fn marked(&self) -> Vec<i32> {
        let needle = format!("TASKBOARD_MARK={}:{}:", self.board_id(), self.agent);
        std::fs::read_dir("/proc")
            .expect("/proc")
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .map(|env| {
                        env.split(|b| *b == 0)
                            .any(|v| v.starts_with(needle.as_bytes()))
                    })
                    .unwrap_or(false)
                    && pid_alive(*pid)
            })
            .collect()
    }

    fn stop_http(&self) {
        let (code, v) = self
            .live
            .req("POST", &format!("/api/tasks/{}/stop", self.agent), None);
        assert_eq!(code, 200, "stop: {v}");
    }

    fn stop_cli(&self) {
        let out = self.s.run(&["stop", &self.agent.to_string()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }

    /// After a stop: `failed` ("stopped by …"), and nothing of the task alive within `limit`.
    fn assert_stopped(&self, limit: Duration, also: &[i32]) {
        let (status, reason) = self.wait_status("failed");
        assert!(reason.starts_with("stopped by"), "{status}: {reason}");
        self.assert_no_process(limit, also);
    }

    fn assert_no_process(&self, limit: Duration, also: &[i32]) {
        let gone = wait_for(limit, || {
            self.marked().is_empty() && also.iter().all(|p| !pid_alive(*p))
        });
        let left: Vec<i32> = also.iter().copied().filter(|p| pid_alive(*p)).collect();
        assert!(
            gone,
            "processes left behind: marked {:?}, known {left:?}",
            self.marked()
        );
    }

    fn pids(&self, file: &str) -> Vec<i32> {
        self.s
            .read(file)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }
}

#[test]
fn an_agent_that_exits_at_once_fails_after_its_retries() {
    let _serial = serial();
    let f = Fault::start("echo started >> runs.txt; exit 7", "retries = 2");
    let (_, reason) = f.wait_status("failed");
    assert!(reason.contains("exit 7"), "{reason}");
    assert_eq!(f.s.read("runs.txt").lines().count(), 3, "1 run + 2 retries");
    f.assert_responsive("exits at once");
    f.assert_no_process(Duration::from_secs(2), &[]);
    // A stop of a task that has nothing running is refused and changes nothing.
    let (code, _) = f
        .live
        .req("POST", &format!("/api/tasks/{}/stop", f.agent), None);
    assert_eq!(code, 409);
}

#[test]
fn an_agent_that_floods_100_mb_without_newlines() {
    let _serial = serial();
    let f = Fault::start(
        "echo $$ > pid.txt; head -c 100000000 /dev/zero | tr '\\0' x; sleep 600",
        "",
    );
    let log = f.s.data().join("logs").join(format!("{}.log", f.agent));
    let size = || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    assert!(wait_for(LONG, || size() > 10_000_000), "no flood");
    let during = size();
    f.assert_responsive("during a 100 MB flood");
    assert!(size() < 100_000_000, "the flood ended before the probes");
    assert!(
        size() > during,
        "the board stopped reading during the probes"
    );
    assert!(
        wait_for(Duration::from_secs(60), || size() >= 100_000_000),
        "every byte goes to the log: {} bytes",
        size()
    );
    assert_eq!(f.status().0, "active");
    let rss_kb = rss_kb(f.live.child.id());
    assert!(
        rss_kb < 200_000,
        "the board holds {rss_kb} kB after a 100 MB flood"
    );
    let pids = f.pids("pid.txt");
    f.stop_http();
    f.assert_stopped(Duration::from_secs(8), &pids);
    f.assert_responsive("after the flood");
}

#[test]
fn an_agent_that_ignores_sigterm_is_killed() {
    let _serial = serial();
    let f = Fault::start(
        "trap '' TERM HUP INT; echo $$ > pid.txt; while :; do sleep 0.2; done",
        "",
    );
    assert!(wait_for(LONG, || !f.pids("pid.txt").is_empty()));
    let pids = f.pids("pid.txt");
    let start = Instant::now();
    f.stop_cli();
    f.assert_responsive("while a SIGTERM-proof agent is being stopped");
    f.assert_stopped(Duration::from_secs(10), &pids);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(4),
        "killed before the TERM grace ran out ({took:?})?"
    );
}

#[test]
fn a_grandchild_that_calls_setsid_is_found_and_stopped() {
    let _serial = serial();
    let f = Fault::start(
        "setsid sh -c 'echo $$ >> pid.txt; exec sleep 600' & echo $$ >> pid.txt; sleep 600",
        "",
    );
    assert!(wait_for(LONG, || f.pids("pid.txt").len() == 2));
    let pids = f.pids("pid.txt");
    assert!(pids.iter().all(|p| pid_alive(*p)));
    f.assert_responsive("with an escaped grandchild");
    f.stop_http();
    f.assert_stopped(Duration::from_secs(8), &pids);
}

#[test]
fn an_agent_that_never_exits_times_out_and_is_stopped() {
    let _serial = serial();
    let f = Fault::start("echo $$ >> pid.txt; sleep 600", "timeout = \"2s\"");
    assert!(wait_for(LONG, || !f.pids("pid.txt").is_empty()));
    let pids = f.pids("pid.txt");
    f.assert_responsive("with an agent that never exits");
    let (_, reason) = f.wait_status("failed");
    assert!(reason.contains("timed out"), "{reason}");
    f.assert_no_process(Duration::from_secs(8), &pids);
    // Without a timeout, a stop ends it.
    let g = Fault::start("echo $$ >> pid.txt; sleep 600", "");
    assert!(wait_for(LONG, || !g.pids("pid.txt").is_empty()));
    let pids = g.pids("pid.txt");
    g.stop_http();
    g.assert_stopped(Duration::from_secs(8), &pids);
}

#[test]
fn an_agent_that_closes_its_pty_but_keeps_running() {
    let _serial = serial();
    let f = Fault::start("echo $$ > pid.txt; exec 0<&- 1>&- 2>&-; sleep 600", "");
    assert!(wait_for(LONG, || !f.pids("pid.txt").is_empty()));
    let pids = f.pids("pid.txt");
    // Bounded by the board's own reading of the close: its reader thread for this PTY
    // (`pty-read-<task>`) ends when the read gives EOF/EIO; only then is "still active" news.
    let reader = format!("pty-read-{}", f.agent);
    let board = f.live.child.id();
    assert!(
        wait_for(LONG, || !thread_names(board).contains(&reader)),
        "the board never saw the PTY close: its threads are {:?}",
        thread_names(board)
    );
    // Its waiter is still there (the program runs on): the names are seen, not guessed.
    let names = thread_names(board);
    assert!(
        names.contains(&format!("pty-wait-{}", f.agent)),
        "no waiter thread for the running agent: {names:?}"
    );
    assert!(pids.iter().all(|p| pid_alive(*p)), "the agent kept running");
    assert_eq!(f.status().0, "active", "a closed PTY is not an exit");
    f.assert_responsive("with an agent that closed its PTY");
    f.stop_cli();
    f.assert_stopped(Duration::from_secs(8), &pids);
}

#[test]
fn an_agent_that_prints_invalid_utf8_and_huge_escape_sequences() {
    let _serial = serial();
    // Invalid UTF-8, a CSI with a million parameter digits, a 1 MB OSC title, an unterminated
    // DCS, then a cursor-position query the board must still answer.
    let script = "echo $$ > pid.txt; \
        printf '\\377\\376\\303\\050 \\355\\240\\200'; \
        printf '\\033['; head -c 1000000 /dev/zero | tr '\\0' 9; printf m; \
        printf '\\033]0;'; head -c 1000000 /dev/zero | tr '\\0' A; printf '\\007'; \
        printf '\\033P'; head -c 300000 /dev/zero | tr '\\0' q; \
        printf '\\033\\\\ok\\n'; sleep 600";
    let f = Fault::start(script, "");
    assert!(wait_for(LONG, || !f.pids("pid.txt").is_empty()));
    let log = f.s.data().join("logs").join(format!("{}.log", f.agent));
    assert!(
        wait_for(LONG, || std::fs::metadata(&log)
            .map(|m| m.len() > 2_300_000)
            .unwrap_or(false)),
        "the garbage reached the log"
    );
    f.assert_responsive("after invalid UTF-8 and huge escapes");
    assert_eq!(f.status().0, "active");
    let pids = f.pids("pid.txt");
    f.stop_http();
    f.assert_stopped(Duration::from_secs(8), &pids);
    // The board is still whole: its listing and the audit trail answer.
    let (code, _) = f
        .live
        .req("GET", &format!("/api/tasks/{}/audit", f.agent), None);
    assert_eq!(code, 200);
}

#[test]
fn a_timed_out_attempt_is_killed_without_killing_its_retry() {
    let _serial = serial();
    // Each attempt records its start and end; the retry must live until its own timeout.
    let f = Fault::start(
        "echo start $(date +%s%N) >> runs.txt; trap 'echo end >> runs.txt' TERM; sleep 600 & wait",
        "timeout = \"2s\"\nretries = 1",
    );
    let (_, reason) = f.wait_status("failed");
    assert!(
        reason.contains("timed out"),
        "the retry was killed early: {reason}"
    );
    let starts: Vec<u128> =
        f.s.read("runs.txt")
            .lines()
            .filter_map(|l| l.strip_prefix("start ")?.parse().ok())
            .collect();
    assert_eq!(starts.len(), 2, "{}", f.s.read("runs.txt"));
    f.assert_no_process(Duration::from_secs(8), &[]);
}

#[test]
fn a_setsid_grandchild_does_not_outlive_its_finished_task() {
    let _serial = serial();
    let f = Fault::start(
        "setsid sh -c 'echo $$ >> pid.txt; exec sleep 600' & sleep 0.3; exit 0",
        "",
    );
    let (status, _) = f.wait_status("done");
    assert_eq!(status, "done");
    let pids = f.pids("pid.txt");
    assert_eq!(pids.len(), 1, "the grandchild started");
    f.assert_no_process(Duration::from_secs(5), &pids);
    f.assert_responsive("after the task ended");
}

/// The names of a live process's threads (`/proc/PID/task/*/comm`).
fn thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap_or_else(|e| panic!("cannot list the threads of {pid}: {e}"))
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect()
}

/// The resident set of a live process in kB, read from `/proc/PID/status`; a process that is
/// gone or a status without `VmRSS` fails the test rather than reading as 0.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status:\n{status}"));
    assert!(rss > 0, "VmRSS of a live board is 0:\n{status}");
    rss
}

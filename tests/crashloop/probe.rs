//! The crash loop's eyes: the board process, the processes marked as its agents (through the
//! `TASKBOARD_MARK` environment marker in `/proc/*/environ`), and the store read directly.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use super::driver::{Ack, NOISE};
use crate::common::{pid_alive, Scratch};

/// A small deterministic generator (xorshift64*), so a seed replays the kill times.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// `run [FILE] --headless` in the background, with what it printed.
pub struct Board {
    child: Child,
    data: PathBuf,
    output: Arc<Mutex<String>>,
    addr: String,
    /// Fault stops already told by [`Board::stop_point`].
    stops: usize,
}

impl Board {
    pub fn start(s: &Scratch, file: Option<&Path>) -> Board {
        Board::start_with(s, file, "")
    }

    /// Started with `TASKBOARD_FAULT=fault` (src/fault.rs) when it is not empty.
    pub fn start_with(s: &Scratch, file: Option<&Path>, fault: &str) -> Board {
        let _ = std::fs::remove_file(s.data().join("endpoint"));
        let mut args = vec!["run".to_string()];
        if let Some(f) = file {
            args.push(f.display().to_string());
        }
        args.push("--headless".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = s.cmd(&args);
        if !fault.is_empty() {
            cmd.env("TASKBOARD_FAULT", fault);
        }
        let mut child = cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn taskboard");
        let output = Arc::new(Mutex::new(String::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let out = output.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Board {
            child,
            data: s.data(),
            output,
            addr: String::new(),
            stops: 0,
        }
    }

    /// Waits for the endpoint file; false if the board exited first.
    pub fn up(&mut self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        let ep = self.data.join("endpoint");
        while Instant::now() < end {
            if let Ok(t) = std::fs::read_to_string(&ep) {
                if t.lines().count() >= 2 {
                    let url = t.lines().next().unwrap_or("");
                    self.addr = url.trim_start_matches("http://").to_string();
                    return true;
                }
            }
            if !self.running() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("no endpoint after {limit:?}: {}", self.printed());
    }

    /// Stopped by a fault point (state `T`).
    pub fn stopped(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .map(|r| r.trim_start().starts_with('T'))
            })
            .unwrap_or(false)
    }

    /// Waits until it is stopped by a fault point (true), it exits, or `limit` passes.
    pub fn wait_stopped(&mut self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end && self.running() {
            if self.stopped() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    /// The fault point a stopped board stopped at (the line it says on stderr before it
    /// stops; each stop is told once).
    pub fn stop_point(&mut self, limit: Duration) -> String {
        const SAID: &str = "TASKBOARD_FAULT: stopped at ";
        let end = Instant::now() + limit;
        loop {
            let out = self.printed();
            let said: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix(SAID)).collect();
            if said.len() > self.stops {
                self.stops = said.len();
                return said[said.len() - 1].trim().to_string();
            }
            assert!(Instant::now() < end, "stopped without saying where: {out}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Lets a stopped board go on.
    pub fn cont(&self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGCONT,
        );
    }

    /// Waits for the endpoint file or a stop at a fault point; `Some(true)` listening,
    /// `Some(false)` stopped, `None` exited.
    pub fn up_or_stopped(&mut self, limit: Duration) -> Option<bool> {
        let end = Instant::now() + limit;
        let ep = self.data.join("endpoint");
        while Instant::now() < end {
            if let Ok(t) = std::fs::read_to_string(&ep) {
                if t.lines().count() >= 2 {
                    let url = t.lines().next().unwrap_or("");
                    self.addr = url.trim_start_matches("http://").to_string();
                    return Some(true);
                }
            }
            if self.stopped() {
                return Some(false);
            }
            if !self.running() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("no endpoint after {limit:?}: {}", self.printed());
    }

    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the board did not finish in {limit:?}: {}", self.printed());
    }

    pub fn kill9(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.child.wait();
    }

    pub fn printed(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        if self.running() {
            self.kill9();
        }
    }
}

pub fn board_id(data: &Path) -> String {
    std::fs::read_to_string(data.join("board-id"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "no-board-id".into())
}

/// `(pid, start time)` of every live process carrying `TASKBOARD_MARK=<board>:…`.
pub fn marked(board: &str) -> Vec<(i32, u64)> {
    let needle = format!("TASKBOARD_MARK={board}:");
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if env
            .split(|b| *b == 0)
            .any(|v| v.starts_with(needle.as_bytes()))
            && pid_alive(pid)
        {
            out.push((pid, start_time(pid).unwrap_or(0)));
        }
    }
    out
}

fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// None of these processes (same pid and start time) is alive.
pub fn assert_gone(procs: &[(i32, u64)], what: &str) {
    let alive = || {
        procs
            .iter()
            .filter(|(pid, st)| pid_alive(*pid) && start_time(*pid) == Some(*st))
            .copied()
            .collect::<Vec<_>>()
    };
    // SIGKILL is asynchronous: allow the kernel a moment to deliver it.
    let end = Instant::now() + Duration::from_secs(1);
    while !alive().is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(alive().is_empty(), "{what}: {:?}", alive());
}

pub fn open(data: &Path) -> Connection {
    let c = Connection::open_with_flags(
        data.join("taskboard.db"),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("open the store read-only");
    c.busy_timeout(Duration::from_secs(5))
        .expect("busy timeout");
    c
}

pub fn assert_integrity(data: &Path) {
    let ok: String = open(data)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(ok, "ok", "PRAGMA integrity_check after kill -9");
}

pub fn goal_stored(data: &Path, title: &str) -> bool {
    data.join("taskboard.db").exists()
        && open(data)
            .query_row(
                "SELECT COUNT(*) FROM tasks WHERE parent IS NULL AND title = ?1",
                [title],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .unwrap_or(false)
}

fn task(c: &Connection, id: u64) -> Value {
    c.query_row("SELECT data FROM tasks WHERE id = ?1", [id as i64], |r| {
        r.get::<_, String>(0)
    })
    .ok()
    .and_then(|d| serde_json::from_str(&d).ok())
    .unwrap_or(Value::Null)
}

/// Every acknowledged change is in the store: its idempotency answer, its audit event, and
/// what it implies for the task (a pass or approve made it `done`; each fail used a retry).
/// `maybe_deleted`: goals sent a delete that got no answer (it may have been committed).
pub fn assert_acked_present(data: &Path, acks: &[Ack], maybe_deleted: &[u64]) {
    let c = open(data);
    // Goals deleted with a 2xx, or maybe deleted: their tasks' acknowledged changes may
    // have gone with them.
    let deleted: std::collections::HashSet<u64> = acks
        .iter()
        .filter(|a| a.step == "delete")
        .map(|a| a.goal)
        .chain(maybe_deleted.iter().copied())
        .collect();
    for a in acks {
        let keyed: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM idempotency WHERE key = ?1",
                [&a.key],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(keyed, 1, "acknowledged {a:?} has no stored answer");
        if a.step == "delete" {
            let left: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM tasks WHERE goal = ?1",
                    [a.task as i64],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(left, 0, "acknowledged {a:?}, its tasks are still stored");
            continue;
        }
        if deleted.contains(&a.goal) {
            continue;
        }
        let t = task(&c, a.task);
        if matches!(a.step, "pass" | "approve") {
            assert_eq!(t["status"], "done", "acknowledged {a:?}, task is {t}");
        }
    }
    let mut per: std::collections::HashMap<(u64, &str), i64> = Default::default();
    let kept = |a: &&Ack| a.kind != "delete" && !deleted.contains(&a.goal);
    for a in acks.iter().filter(kept) {
        *per.entry((a.task, a.kind)).or_default() += 1;
    }
    for ((task, kind), n) in per {
        let stored: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM events WHERE task = ?1 AND kind = ?2",
                rusqlite::params![task as i64, kind],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            stored >= n,
            "#{task}: {n} acknowledged {kind}s, {stored} stored"
        );
    }
    let fails = acks.iter().filter(kept).filter(|a| a.step == "fail");
    let mut per_task: std::collections::HashMap<u64, u64> = Default::default();
    for a in fails {
        *per_task.entry(a.task).or_default() += 1;
    }
    for (id, n) in per_task {
        let used = task(&c, id)["retries_used"].as_u64().unwrap_or(0);
        let title = task(&c, id)["spec"]["title"].clone();
        assert!(
            used >= n.min(NOISE as u64),
            "{title} #{id}: {n} acknowledged fails, {used} retries used"
        );
    }
}

/// No agent task stays `active` without a live process: every offender in one snapshot of
/// the store must move on (new attempt, new status, a live pid) within `limit`.
pub fn assert_active_agents_have_processes(data: &Path, limit: Duration) {
    let offenders = |c: &Connection| -> Vec<(u64, String)> {
        let mut stmt = c
            .prepare("SELECT id, data FROM tasks WHERE kind = 'agent' AND status = 'active'")
            .unwrap();
        let rows: Vec<(i64, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.into_iter()
            .filter_map(|(id, d)| {
                let v: Value = serde_json::from_str(&d).ok()?;
                let pid = v["proc"]["pid"].as_i64().unwrap_or(0) as i32;
                let live = v["proc"]["state"] == "running" && pid > 0 && pid_alive(pid);
                (!live).then(|| (id as u64, format!("{}/{}", v["attempt"], v["proc"])))
            })
            .collect()
    };
    let first = offenders(&open(data));
    let end = Instant::now() + limit;
    loop {
        let now = offenders(&open(data));
        let stuck: Vec<_> = first.iter().filter(|o| now.contains(o)).collect();
        if stuck.is_empty() {
            return;
        }
        assert!(
            Instant::now() < end,
            "agent tasks active without a live process for {limit:?}: {stuck:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

//! Starting an agent session in a PTY: a reader thread (log file + parser + replies + notice)
//! and a waiter thread (exit code as its own event).

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use portable_pty::{native_pty_system, ChildKiller, CommandBuilder, PtySize};

use super::pane::{Pane, PtyIo};
use super::vt::{last_lines, new_parser};
use super::SpawnError;
use crate::model::TaskId;

/// How and where to start one attempt.
#[derive(Clone, Debug)]
pub struct SpawnRequest {
    pub task: TaskId,
    pub attempt: u32,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    /// Variables of this process the program must not inherit.
    pub env_remove: Vec<String>,
    /// Where its output is appended; `None` keeps no log (a user's shell pane).
    pub log_path: Option<PathBuf>,
    pub rows: u16,
    pub cols: u16,
    pub scrollback: usize,
    /// Profile patterns that mean "the agent waits for you", matched on the visible screen.
    pub attention: Vec<String>,
}

/// How a session ended.
#[derive(Clone, Debug)]
pub struct Exit {
    pub task: TaskId,
    pub attempt: u32,
    pub code: i32,
    pub signal: Option<String>,
    /// The last lines on its screen.
    pub tail: String,
}

/// Where sessions report; the driver turns these into board events and notices.
#[derive(Clone)]
pub struct Sinks {
    /// The program waits for the user (task, reason): a screen pattern or a terminal signal.
    pub attention: Arc<dyn Fn(TaskId, String) + Send + Sync>,
    /// The program exited (called once, from the session's waiter thread).
    pub exited: Arc<dyn Fn(Exit) + Send + Sync>,
    /// Called after new output landed in a pane (the UI then pulls).
    pub output: Arc<dyn Fn(TaskId) + Send + Sync>,
}

/// A running session as the driver keeps it.
pub struct Session {
    pub pane: Arc<Pane>,
    pub killer: Box<dyn ChildKiller + Send + Sync>,
}

const READ_BUF: usize = 64 * 1024;

/// A PTY failure as a spawn error (portable-pty's errors are only text).
fn pty_failed(what: &str, e: impl std::fmt::Display) -> SpawnError {
    SpawnError::Pty {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

/// Spawns the program; blocking (fork/exec), so call it off the async threads.
pub fn spawn(req: SpawnRequest, sinks: Sinks) -> Result<Session, SpawnError> {
    let program = req.argv.first().ok_or(SpawnError::EmptyCommand)?;
    if !req.cwd.is_dir() {
        return Err(SpawnError::NoWorkDir(req.cwd.clone()));
    }
    let mut log = match &req.log_path {
        Some(path) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| SpawnError::Log {
                    path: path.clone(),
                    source,
                })?,
        ),
        None => None,
    };
    let pty = native_pty_system();
    let size = PtySize {
        rows: req.rows,
        cols: req.cols,
        pixel_width: 0,
        pixel_height: 0,
    };
    let pair = pty.openpty(size).map_err(|e| pty_failed("open a PTY", e))?;
    let mut cmd = CommandBuilder::new(program);
    cmd.args(&req.argv[1..]);
    cmd.cwd(&req.cwd);
    cmd.env("TERM", "xterm-256color");
    for k in &req.env_remove {
        cmd.env_remove(k);
    }
    for (k, v) in &req.env {
        cmd.env(k, v);
    }
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| pty_failed(&format!("start {program}"), e))?;
    // The slave must go now, or the reader never sees EOF.
    drop(pair.slave);
    let pid = child.process_id().unwrap_or(0);
    let mut reader = pair
        .master
        .try_clone_reader()
        .map_err(|e| pty_failed("read the PTY", e))?;
    let writer = pair
        .master
        .take_writer()
        .map_err(|e| pty_failed("write the PTY", e))?;
    let killer = child.clone_killer();
    let parser = new_parser(req.rows, req.cols, 0);
    let pane = Arc::new(Pane::new(
        req.task,
        req.attempt,
        pid,
        parser,
        req.scrollback,
        Box::new(PtyIo {
            writer: std::sync::Mutex::new(writer),
            master: std::sync::Mutex::new(pair.master),
        }),
    ));

    let attention = req.attention.clone();
    let (eof_tx, eof_rx) = mpsc::channel::<()>();
    let r_pane = pane.clone();
    let r_sinks = sinks.clone();
    std::thread::Builder::new()
        .name(format!("pty-read-{}", req.task))
        .spawn(move || {
            let mut buf = vec![0u8; READ_BUF];
            let mut log_ok = log.is_some();
            let mut watch = ScreenWatch::new(&attention);
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let chunk = &buf[..n];
                if let Some(log) = log.as_mut().filter(|_| log_ok) {
                    if let Err(e) = log.write_all(chunk) {
                        tracing::error!(task = r_pane.task, "cannot write the task log: {e}");
                        log_ok = false;
                    }
                }
                let (replies, attention) = match r_pane.parser.lock() {
                    Ok(mut p) => {
                        p.process(chunk);
                        let matched = watch.check(&p, n < READ_BUF);
                        let cb = p.callbacks_mut();
                        (
                            std::mem::take(&mut cb.replies),
                            cb.attention.take().or(matched),
                        )
                    }
                    Err(_) => break,
                };
                r_pane.remember(chunk);
                if !replies.is_empty() {
                    let _ = r_pane.write(&replies);
                }
                if let Some(reason) = attention {
                    (r_sinks.attention)(r_pane.task, reason);
                }
                if !r_pane.dirty.swap(true, Ordering::AcqRel) {
                    (r_sinks.output)(r_pane.task);
                }
            }
            if let Some(log) = log.as_mut() {
                let _ = log.flush();
            }
            let _ = eof_tx.send(());
        })
        .map_err(|source| SpawnError::Thread {
            which: "reader",
            source,
        })?;

    let w_pane = pane.clone();
    let (task, attempt) = (req.task, req.attempt);
    let mark = req
        .env
        .iter()
        .find(|(k, _)| k == super::procs::MARK)
        .map(|(_, v)| v.clone());
    std::thread::Builder::new()
        .name(format!("pty-wait-{}", req.task))
        .spawn(move || {
            let status = child.wait();
            // Nothing the session started outlives it (a `setsid` grandchild would run on
            // unwatched and hold the PTY open). The mark is this attempt's only.
            if let Some(m) = &mark {
                super::procs::end_leftovers(m, Duration::from_secs(1));
            }
            // Let the reader drain what the program printed last (bounded: a grandchild may
            // keep the PTY open).
            let _ = eof_rx.recv_timeout(Duration::from_millis(500));
            w_pane.exited.store(true, Ordering::Release);
            let tail = w_pane
                .parser
                .lock()
                .map(|p| last_lines(&p, 3))
                .unwrap_or_default();
            let (code, signal) = match status {
                Ok(s) => (s.exit_code() as i32, s.signal().map(str::to_string)),
                Err(e) => (-1, Some(format!("wait failed: {e}"))),
            };
            (sinks.exited)(Exit {
                task,
                attempt,
                code,
                signal,
                tail,
            });
            (sinks.output)(task);
        })
        .map_err(|source| SpawnError::Thread {
            which: "waiter",
            source,
        })?;
    Ok(Session { pane, killer })
}

/// Matches a profile's attention patterns against the visible screen: when a burst of
/// output ends (a short read) or every 100 ms during a long one, never per byte. Reports
/// only a new match.
struct ScreenWatch {
    patterns: Option<(regex::RegexSet, Vec<regex::Regex>)>,
    last: std::time::Instant,
    matched: bool,
}

impl ScreenWatch {
    fn new(patterns: &[String]) -> ScreenWatch {
        let set = regex::RegexSet::new(patterns)
            .ok()
            .filter(|s| !s.is_empty());
        // Checked when the config was read; a pattern that fails here is only not reported.
        let each = patterns
            .iter()
            .filter_map(|p| regex::Regex::new(p).ok())
            .collect::<Vec<_>>();
        ScreenWatch {
            patterns: set
                .filter(|_| each.len() == patterns.len())
                .map(|s| (s, each)),
            last: std::time::Instant::now(),
            matched: false,
        }
    }

    fn check(&mut self, parser: &super::vt::Parser, burst_over: bool) -> Option<String> {
        let (set, each) = self.patterns.as_ref()?;
        if !burst_over && self.last.elapsed() < Duration::from_millis(100) {
            return None;
        }
        self.last = std::time::Instant::now();
        let screen = parser.screen().contents();
        let hit = set.matches(&screen).iter().next();
        let was = std::mem::replace(&mut self.matched, hit.is_some());
        match (hit, was) {
            // Say what it asks: the screen line that matched, as the agent wrote it.
            (Some(i), false) => {
                let line = screen
                    .lines()
                    .find(|l| each[i].is_match(l))
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| each[i].as_str().to_string());
                let line: String = line.chars().take(160).collect();
                Some(format!("waiting for input: {line}"))
            }
            _ => None,
        }
    }
}

//! The app loop's side of the outside world: the terminal (raw mode, alternate screen,
//! mouse, bracketed paste, restored on every exit path and on panic), the draw log, the
//! thread that writes keys into panes, the outer terminal's bell, stop signals, log tails.
//! Only `crate::app` calls these; the rest of `ui` does no IO.

use std::io::Write;
use std::path::Path;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::execute;

use super::modal::ReviewDiff;
use crate::agent::PaneRef;
use crate::board::snapshot::Snapshot;
use crate::model::{Kind, Task, TaskId};

/// Bytes of a task's log replayed into its pane after a restart.
const TAIL_BYTES: u64 = 64 * 1024;

pub struct Terminal {
    pub inner: ratatui::DefaultTerminal,
    restored: bool,
}

impl Terminal {
    /// Raw mode, alternate screen, mouse and bracketed paste; the panic hook restores all.
    pub fn enter() -> std::io::Result<Terminal> {
        // ratatui's hook leaves raw mode and the alternate screen; ours first turns the
        // mouse and paste modes off, then calls it.
        let inner = ratatui::try_init()?;
        let restore = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(
                std::io::stdout(),
                PopKeyboardEnhancementFlags,
                DisableBracketedPaste,
                DisableMouseCapture
            );
            restore(info);
        }));
        let mut t = Terminal {
            inner,
            restored: false,
        };
        // Terminals that speak the kitty keyboard protocol then tell Shift/Ctrl+Enter from
        // Enter, so input mode can hand them on to the agent; others ignore the request.
        let keys =
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES);
        if let Err(e) = execute!(
            std::io::stdout(),
            EnableMouseCapture,
            EnableBracketedPaste,
            keys
        ) {
            t.leave();
            return Err(e);
        }
        Ok(t)
    }

    pub fn leave(&mut self) {
        if !self.restored {
            self.restored = true;
            let _ = execute!(
                std::io::stdout(),
                PopKeyboardEnhancementFlags,
                DisableBracketedPaste,
                DisableMouseCapture
            );
            ratatui::restore();
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.leave();
    }
}

/// Counts frames; with `TASKBOARD_DRAW_LOG=FILE` also appends one line per frame
/// (`draw N MILLIS MICROSus[ echo] rx=BYTES`: BYTES read from an attached board so far),
/// which is how tests check that an idle board draws nothing, and how the benchmarks see
/// frame times and what an attached TUI reads per change.
pub struct DrawLog {
    pub count: u64,
    file: Option<std::fs::File>,
}

impl DrawLog {
    pub fn from_env() -> DrawLog {
        let file = std::env::var_os("TASKBOARD_DRAW_LOG").and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        DrawLog { count: 0, file }
    }

    /// One frame drawn in `took`; `urgent` when it showed a typed key's echo.
    pub fn record(&mut self, took: std::time::Duration, urgent: bool) {
        self.count += 1;
        if let Some(f) = &mut self.file {
            let _ = writeln!(
                f,
                "draw {} {} {}us{} rx={}",
                self.count,
                crate::model::now_millis(),
                took.as_micros(),
                if urgent { " echo" } else { "" },
                crate::http::client::RECEIVED.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
    }
}

/// Keys typed into panes. A keystroke is written at once from the loop (one thread hop
/// less on the echo path; a PTY only blocks a writer after ~64 KiB of unread input);
/// pastes and long writes go through one writer thread so a program that stopped reading
/// cannot stall the UI. Nothing overtakes: while the thread has work, everything queues.
pub struct PaneInput {
    tx: std::sync::mpsc::Sender<(PaneRef, Vec<u8>)>,
    queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// Writes at most this long go straight to the PTY.
const DIRECT_MAX: usize = 64;

impl PaneInput {
    pub fn start() -> PaneInput {
        use std::sync::atomic::Ordering;
        let (tx, rx) = std::sync::mpsc::channel::<(PaneRef, Vec<u8>)>();
        let queued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let left = queued.clone();
        let spawned = std::thread::Builder::new()
            .name("pane-input".into())
            .spawn(move || {
                for (pane, bytes) in rx {
                    if let Err(e) = pane.write(&bytes) {
                        tracing::warn!(task = pane.task, "cannot type into the pane: {e}");
                    }
                    left.fetch_sub(1, Ordering::AcqRel);
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the pane input thread: {e}");
        }
        PaneInput { tx, queued }
    }

    pub fn write(&self, pane: PaneRef, bytes: Vec<u8>) {
        use std::sync::atomic::Ordering;
        if bytes.len() <= DIRECT_MAX && self.queued.load(Ordering::Acquire) == 0 {
            if let Err(e) = pane.write(&bytes) {
                tracing::warn!(task = pane.task, "cannot type into the pane: {e}");
            }
            return;
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        if self.tx.send((pane, bytes)).is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// BEL plus an OSC 9 notification on the outer terminal.
pub fn bell(text: &str) {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    let mut out = std::io::stdout();
    let _ = write!(out, "\x07\x1b]9;taskboard: {clean}\x07");
    let _ = out.flush();
}

/// Fires on SIGTERM, SIGHUP, SIGINT or SIGQUIT: the loop quits and the terminal is restored.
pub fn stop_signals() -> tokio::sync::mpsc::UnboundedReceiver<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for kind in [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
        SignalKind::quit(),
    ] {
        let tx = tx.clone();
        if let Ok(mut s) = signal(kind) {
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
            });
        }
    }
    rx
}

/// Agent tasks whose saved output comes back as panes at start: those of goals that are
/// not finished (done or skipped).
pub fn tail_candidates(snap: &Snapshot) -> Vec<TaskId> {
    let mut ids: Vec<TaskId> = snap
        .tasks
        .values()
        .filter(|t| t.kind == Kind::Agent)
        .filter(|t| snap.task(t.goal).is_some_and(|g| !g.status.is_satisfied()))
        .map(|t| t.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// The end of `<logs>/<task>.log`, starting at a line boundary; `None` if empty or absent.
pub fn read_tail(logs: &Path, task: TaskId) -> Option<Vec<u8>> {
    let mut f = std::fs::File::open(logs.join(format!("{task}.log"))).ok()?;
    let (bytes, _) = crate::agent::read_tail(&mut f, TAIL_BYTES).ok()?;
    (!bytes.is_empty()).then_some(bytes)
}

/// The diff a reviewer decides on: the stat the board recorded and the patch it saved as
/// `<diffs>/<task>-<hash prefix>.patch`; for a task without one, its worktree branch against
/// its base (`repo`: the goal's repository). git2 work: call it off the loop.
pub fn review_diff(
    task: Option<&Task>,
    repo: Option<&Path>,
    diffs: &Path,
) -> Result<ReviewDiff, String> {
    let Some(t) = task else {
        return Err("this task no longer exists".into());
    };
    if let Some(hash) = t.diff_hash.clone() {
        let prefix: String = hash.chars().take(16).collect();
        let file = diffs.join(format!("{}-{prefix}.patch", t.id));
        let patch = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| format!("(the patch {} cannot be read: {e})", file.display()));
        return Ok(ReviewDiff {
            stat: t.diff_stat.clone().unwrap_or_default(),
            patch,
            hash,
        });
    }
    match (&t.workdir, repo) {
        (Some(w), Some(repo)) => crate::git::diff(repo, &w.base, &w.branch)
            .map(|d| ReviewDiff {
                stat: d.stat,
                patch: d.patch,
                hash: d.hash,
            })
            .map_err(|e| format!("cannot compute the diff of {}: {e}", w.branch)),
        _ if t.awaits_decision() => {
            Err("no diff recorded for this task (its work has no worktree)".into())
        }
        _ => Err("no diff for this task: it has no worktree".into()),
    }
}

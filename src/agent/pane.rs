//! A live pane: one agent session's terminal parser and its input side. In the board the
//! input side is the session's PTY and the PTY reader is the parser's only writer of bytes;
//! in a TUI attached to a board elsewhere it is the board's listener and the parser is fed
//! from the task's log file (`crate::attach`). The UI pulls from either the same way.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use portable_pty::{MasterPty, PtySize};

use super::history::History;
use super::vt::Parser;
use crate::model::TaskId;

/// Where a pane's keys and size go: the session's PTY, or a board's listener.
pub trait PaneIo: Send + Sync {
    /// Writes bytes to the program's terminal.
    fn write(&self, bytes: &[u8]) -> std::io::Result<()>;
    /// Gives the program's terminal a new size.
    fn resize(&self, rows: u16, cols: u16);
}

pub struct Pane {
    pub task: TaskId,
    pub attempt: u32,
    pub pid: u32,
    /// The screen only: what scrolled off is kept as bytes in `history`.
    pub parser: Mutex<Parser>,
    /// The last `scrollback` lines as printed (see `super::history`).
    pub history: Mutex<History>,
    /// Set by the reader after new output; the UI clears it when it pulls.
    pub dirty: AtomicBool,
    /// Set once the process has exited.
    pub exited: AtomicBool,
    io: Box<dyn PaneIo>,
}

/// The PTY of a session this process owns.
pub(super) struct PtyIo {
    pub writer: Mutex<Box<dyn Write + Send>>,
    pub master: Mutex<Box<dyn MasterPty + Send>>,
}

impl PaneIo for PtyIo {
    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut w = self
            .writer
            .lock()
            .map_err(|_| std::io::Error::other("pane writer poisoned"))?;
        w.write_all(bytes)?;
        w.flush()
    }

    fn resize(&self, rows: u16, cols: u16) {
        if let Ok(m) = self.master.lock() {
            let _ = m.resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            });
        }
    }
}

impl Pane {
    /// `parser` should keep no scrollback of its own: `scrollback` lines are kept as bytes.
    pub fn new(
        task: TaskId,
        attempt: u32,
        pid: u32,
        parser: Parser,
        scrollback: usize,
        io: Box<dyn PaneIo>,
    ) -> Pane {
        Pane {
            task,
            attempt,
            pid,
            parser: Mutex::new(parser),
            history: Mutex::new(History::new(scrollback)),
            dirty: AtomicBool::new(true),
            exited: AtomicBool::new(false),
            io,
        }
    }

    /// Writes bytes to the program's terminal.
    pub fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.io.write(bytes)
    }

    /// Types text as a paste (bracketed when the program asked for it), then Enter.
    pub fn type_text(&self, text: &str) -> std::io::Result<()> {
        let bracketed = self
            .parser
            .lock()
            .map(|p| p.screen().bracketed_paste())
            .unwrap_or(false);
        let mut bytes = Vec::with_capacity(text.len() + 16);
        if bracketed {
            bytes.extend_from_slice(b"\x1b[200~");
        }
        bytes.extend_from_slice(text.as_bytes());
        if bracketed {
            bytes.extend_from_slice(b"\x1b[201~");
        }
        let before = self.screen_text();
        self.write(&bytes)?;
        self.wait_for_echo(&before);
        self.write(b"\r")
    }

    fn screen_text(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Waits until the program has taken a paste in: its screen changed and then stayed
    /// the same for a moment (at least 30 ms, at most 1.5 s). An Enter sent while a TUI is
    /// still taking the paste in (Claude Code on a busy machine) becomes part of the paste
    /// or is lost, and the prompt is never sent.
    fn wait_for_echo(&self, before: &str) {
        use std::time::{Duration, Instant};
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        let mut last = self.screen_text();
        let mut since = Instant::now();
        while start.elapsed() < Duration::from_millis(1500) {
            std::thread::sleep(Duration::from_millis(20));
            let now = self.screen_text();
            if now != last {
                last = now;
                since = Instant::now();
            } else if last != before && since.elapsed() >= Duration::from_millis(100) {
                return;
            }
        }
    }

    /// Resizes the PTY and the parser together.
    pub fn resize(&self, rows: u16, cols: u16) {
        let (rows, cols) = (rows.max(2), cols.max(2));
        if let Ok(p) = self.parser.lock().as_mut() {
            if p.screen().size() == (rows, cols) {
                return;
            }
            p.screen_mut().set_size(rows, cols);
        }
        self.io.resize(rows, cols);
        self.dirty.store(true, Ordering::Release);
    }

    /// Keeps printed bytes for scrolling back (call after parsing them).
    pub fn remember(&self, bytes: &[u8]) {
        if let Ok(mut h) = self.history.lock() {
            h.push(bytes);
        }
    }

    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }
}

pub type PaneRef = Arc<Pane>;

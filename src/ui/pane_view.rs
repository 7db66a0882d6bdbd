//! A pane as the UI holds it: a live agent session (its parser is filled by the PTY reader),
//! a user's shell (`s`: the same kind of live pane, keyed apart from tasks, see
//! `SHELL_KEYS`) or, after a restart, the tail of the task's log replayed into a parser of
//! our own.
//! A live pane's parser holds the screen only; scrolling back parses the session's kept
//! bytes (`crate::agent::history`) once into a parser of the view's own, which is shown
//! until the view is back at the bottom (like tmux's copy mode, it does not move meanwhile).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

use tui_term::vt100;

use crate::agent::PaneRef;
use crate::model::TaskId;

/// Lines a replayed log tail keeps above the screen.
const TAIL_SCROLLBACK: usize = 1000;

/// Panes are keyed by task id (layout, focus, input route); a shell pane's key is this
/// plus the number of shells opened so far, so it can never be a task's: task ids are
/// SQLite row ids, counted from 1.
pub const SHELL_KEYS: TaskId = 1 << 62;

/// What a shell pane (`s`) was opened for: the task whose directory it runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellOf {
    pub task: TaskId,
    /// The task's title when the shell opened.
    pub title: String,
    pub dir: PathBuf,
    /// The shell's exit code, once it ended by itself.
    pub exit: Option<i32>,
}

pub enum PaneSource {
    Live(PaneRef),
    /// Saved output (the end of `<data>/logs/<task>.log`), re-parsed at each new size.
    Tail {
        bytes: Vec<u8>,
        parser: Box<Mutex<vt100::Parser>>,
    },
}

pub struct PaneView {
    /// The pane's key: its task's id, or a shell pane's own (`SHELL_KEYS`).
    pub task: TaskId,
    pub source: PaneSource,
    /// Set for a user's shell pane.
    pub shell: Option<ShellOf>,
    /// rows << 16 | cols, as last set: reading it never takes the parser's lock.
    size: AtomicU32,
    /// The last non-blank line seen, for the collapsed list when the parser is busy.
    last_line: Mutex<String>,
    /// Must be drawn afresh even without new output (new, resized, scrolled, deferred).
    stale: AtomicBool,
    /// Lines scrolled back, as last set (the UI is the only one who scrolls).
    offset: AtomicUsize,
    /// A live pane scrolled back: its kept bytes parsed with their scrollback.
    back: Mutex<Option<vt100::Parser>>,
}

impl PaneView {
    pub fn live(pane: PaneRef) -> PaneView {
        let size = pane
            .parser
            .lock()
            .map(|p| p.screen().size())
            .unwrap_or((0, 0));
        PaneView::of(pane.task, PaneSource::Live(pane), size)
    }

    pub fn tail(task: TaskId, bytes: Vec<u8>, rows: u16, cols: u16) -> PaneView {
        let parser = replay(&bytes, rows, cols);
        let size = parser.screen().size();
        let source = PaneSource::Tail {
            bytes,
            parser: Box::new(Mutex::new(parser)),
        };
        PaneView::of(task, source, size)
    }

    /// A pane of `size` (rows, cols), at the bottom, to be drawn afresh.
    fn of(task: TaskId, source: PaneSource, size: (u16, u16)) -> PaneView {
        PaneView {
            task,
            source,
            shell: None,
            size: AtomicU32::new(pack(size)),
            last_line: Mutex::new(String::new()),
            stale: AtomicBool::new(true),
            offset: AtomicUsize::new(0),
            back: Mutex::new(None),
        }
    }

    /// A user's shell running in `pane` (keyed `SHELL_KEYS` and up).
    pub fn shell(pane: PaneRef, of: ShellOf) -> PaneView {
        PaneView {
            shell: Some(of),
            ..PaneView::live(pane)
        }
    }

    /// The task the pane belongs to: its own, or the one a shell was opened for.
    pub fn owner(&self) -> TaskId {
        self.shell.as_ref().map_or(self.task, |s| s.task)
    }

    /// Reads the screen; `None` only if a parser lock was poisoned by a panic.
    pub fn with_screen<R>(&self, f: impl FnOnce(&vt100::Screen) -> R) -> Option<R> {
        if let Some(back) = self.back.lock().ok().as_ref().and_then(|b| b.as_ref()) {
            return Some(f(back.screen()));
        }
        self.with_live_screen(f)
    }

    /// The program's own screen (never the scrolled-back view).
    fn with_live_screen<R>(&self, f: impl FnOnce(&vt100::Screen) -> R) -> Option<R> {
        match &self.source {
            PaneSource::Live(p) => p.parser.lock().ok().map(|p| f(p.screen())),
            PaneSource::Tail { parser, .. } => parser.lock().ok().map(|p| f(p.screen())),
        }
    }

    /// Reads the screen only if nobody holds the parser (its reader may be mid-chunk);
    /// `None` when it is busy, so drawing never waits for a flooding agent.
    pub fn try_with_screen<R>(&self, f: impl FnOnce(&vt100::Screen) -> R) -> Option<R> {
        if let Some(back) = self.back.try_lock().ok().as_ref().and_then(|b| b.as_ref()) {
            return Some(f(back.screen()));
        }
        match &self.source {
            PaneSource::Live(p) => p.parser.try_lock().ok().map(|p| f(p.screen())),
            PaneSource::Tail { parser, .. } => parser.try_lock().ok().map(|p| f(p.screen())),
        }
    }

    /// Marks the pane for a fresh draw next frame (it was shown from the last one).
    pub fn keep_dirty(&self) {
        self.stale.store(true, Ordering::Release);
    }

    /// Whether the pane must be drawn afresh: new output, or new size or scroll position.
    /// Clears both flags, so the reader notifies again on the next output.
    pub fn take_changed(&self) -> bool {
        let output = self.take_dirty();
        self.stale.swap(false, Ordering::AcqRel) || output
    }

    pub fn with_screen_mut<R>(&self, f: impl FnOnce(&mut vt100::Screen) -> R) -> Option<R> {
        match &self.source {
            PaneSource::Live(p) => p.parser.lock().ok().map(|mut p| f(p.screen_mut())),
            PaneSource::Tail { parser, .. } => parser.lock().ok().map(|mut p| f(p.screen_mut())),
        }
    }

    /// Resizes the PTY and parser of a live pane, or re-parses a tail at the new size.
    pub fn resize(&self, rows: u16, cols: u16) {
        let (rows, cols) = (rows.max(2), cols.max(2));
        self.size.store(pack((rows, cols)), Ordering::Release);
        self.stale.store(true, Ordering::Release);
        match &self.source {
            PaneSource::Live(p) => {
                if p.parser
                    .lock()
                    .is_ok_and(|p| p.screen().size() != (rows, cols))
                {
                    // A scrolled-back view of the old size goes; the view is at the bottom.
                    if let Ok(mut back) = self.back.lock() {
                        *back = None;
                    }
                    self.offset.store(0, Ordering::Release);
                }
                p.resize(rows, cols)
            }
            PaneSource::Tail { bytes, parser } => {
                if let Ok(mut p) = parser.lock() {
                    if p.screen().size() != (rows, cols) {
                        *p = replay(bytes, rows, cols);
                    }
                }
            }
        }
    }

    pub fn size(&self) -> (u16, u16) {
        let v = self.size.load(Ordering::Acquire);
        ((v >> 16) as u16, v as u16)
    }

    /// A live session whose process has not exited.
    pub fn running(&self) -> bool {
        match &self.source {
            PaneSource::Live(p) => !p.exited.load(Ordering::Acquire),
            PaneSource::Tail { .. } => false,
        }
    }

    pub fn live_pane(&self) -> Option<&PaneRef> {
        match &self.source {
            PaneSource::Live(p) => Some(p),
            PaneSource::Tail { .. } => None,
        }
    }

    /// Clears the "new output" flag so the reader notifies us again on the next output.
    pub fn take_dirty(&self) -> bool {
        match &self.source {
            PaneSource::Live(p) => p.take_dirty(),
            PaneSource::Tail { .. } => false,
        }
    }

    /// Re-reads the last non-blank line at or above the cursor (for the collapsed list);
    /// keeps the one seen before when the parser is busy.
    pub fn refresh_last_line(&self) {
        let now = self.try_with_screen(last_line_of);
        match (now, self.last_line.lock()) {
            (Some(line), Ok(mut seen)) => *seen = line.trim_end().to_string(),
            (None, _) => self.keep_dirty(),
            (Some(_), Err(_)) => {}
        }
    }

    /// The line `refresh_last_line` found.
    pub fn last_line(&self) -> String {
        self.last_line.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Lines scrolled back from the bottom.
    pub fn scrolled(&self) -> usize {
        self.offset.load(Ordering::Acquire)
    }

    /// Scrolls by `delta` lines (positive = back in time); clamped by the parser.
    pub fn scroll(&self, delta: isize) {
        let now = match &self.source {
            PaneSource::Live(p) => Some(self.scroll_back(p, delta)),
            PaneSource::Tail { .. } => self.with_screen_mut(|s| {
                let to = (s.scrollback() as isize + delta).max(0) as usize;
                s.set_scrollback(to);
                s.scrollback()
            }),
        };
        self.offset.store(now.unwrap_or(0), Ordering::Release);
        self.stale.store(true, Ordering::Release);
    }

    /// Scrolls a live pane: the first step back parses its kept bytes; back at the bottom,
    /// that parser goes and the live screen shows again.
    fn scroll_back(&self, pane: &PaneRef, delta: isize) -> usize {
        let Ok(mut back) = self.back.lock() else {
            return 0;
        };
        let to = (self.offset.load(Ordering::Acquire) as isize + delta).max(0) as usize;
        if to == 0 {
            *back = None;
            return 0;
        }
        let parser = back.get_or_insert_with(|| {
            let (bytes, lines) = pane
                .history
                .lock()
                .map(|h| (h.bytes(), h.max_lines()))
                .unwrap_or_default();
            let (rows, cols) = pane
                .parser
                .lock()
                .map(|p| p.screen().size())
                .unwrap_or((24, 80));
            let mut p = vt100::Parser::new(rows, cols, lines);
            p.process(&bytes);
            p
        });
        parser.screen_mut().set_scrollback(to);
        let now = parser.screen().scrollback();
        if now == 0 {
            *back = None;
        }
        now
    }

    pub fn app_cursor(&self) -> bool {
        self.with_live_screen(|s| s.application_cursor())
            .unwrap_or(false)
    }

    pub fn bracketed_paste(&self) -> bool {
        self.with_live_screen(|s| s.bracketed_paste())
            .unwrap_or(false)
    }
}

/// Rows read at once when looking for the last line.
const LAST_LINE_WINDOW: u16 = 8;

/// The last non-blank line at or above the cursor, a few rows at a time. A window of
/// several rows is one pass over the grid, while vt100's `contents_between` for a single
/// row renders every row above it (quadratic in the cursor row: ~16% of the TUI's CPU in
/// a 20-pane list).
fn last_line_of(s: &vt100::Screen) -> String {
    let (_, cols) = s.size();
    let (mut end, _) = s.cursor_position();
    loop {
        let start = end.saturating_sub(LAST_LINE_WINDOW - 1);
        let text = s.contents_between(start, 0, end, cols);
        if let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) {
            return line.to_string();
        }
        if start == 0 {
            return String::new();
        }
        end = start - 1;
    }
}

fn replay(bytes: &[u8], rows: u16, cols: u16) -> vt100::Parser {
    let mut p = vt100::Parser::new(rows.max(2), cols.max(2), TAIL_SCROLLBACK);
    p.process(bytes);
    p
}

fn pack((rows, cols): (u16, u16)) -> u32 {
    (u32::from(rows) << 16) | u32::from(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_line_skips_blank_rows_and_scans_past_one_window() {
        let mut p = vt100::Parser::new(30, 20, 0);
        p.process(b"first\r\n  two  \xe4\xb8\x96x\r\n");
        assert_eq!(last_line_of(p.screen()), "  two  \u{4e16}x");
        p.process(&b"\r\n".repeat(20));
        assert_eq!(last_line_of(p.screen()), "  two  \u{4e16}x");
        let empty = vt100::Parser::new(5, 20, 0);
        assert_eq!(last_line_of(empty.screen()), "");
    }

    #[test]
    fn last_line_is_the_last_non_blank_row_at_or_above_the_cursor() {
        let bytes = b"a\r\nb\r\nlast one\r\n".to_vec();
        let v = PaneView::tail(1, bytes, 4, 20);
        v.refresh_last_line();
        assert_eq!(v.last_line(), "last one");
    }
}

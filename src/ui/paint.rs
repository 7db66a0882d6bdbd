//! Painting a frame: lay out, size the PTYs, then draw only what changed, in place. The
//! terminal's buffer keeps the last frame between frames (it is never reset and swapped as
//! ratatui's `draw` does), so panes with no new output, and the tree, inbox and status bar
//! when only output changed, are simply left as they are; a busy parser never makes a frame
//! wait (its pane stays as it was and is drawn next time), and an echo frame redraws only
//! the typed pane. What is written to the terminal is the difference from what it shows
//! (kept here), and only the cells that changed are copied into that.

use std::time::Instant;

use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::Terminal;

use super::terminal::DrawLog;
use super::tui_model::{Focus, Model};
use crate::model::TaskId;

/// What the terminal shows, what surrounded its panes, and the draw log.
pub struct Painter {
    /// The cells on the screen: blank at first and after a resize (which clears it).
    shown: Buffer,
    /// What surrounded the panes in `shown`; `None` until a whole frame was drawn.
    chrome: Option<Chrome>,
    log: DrawLog,
}

impl Default for Painter {
    fn default() -> Self {
        Painter::new()
    }
}

impl Painter {
    pub fn new() -> Painter {
        Painter {
            shown: Buffer::default(),
            chrome: None,
            log: DrawLog::from_env(),
        }
    }

    pub fn draws(&self) -> u64 {
        self.log.count
    }

    /// Draws one frame; `echo` is the pane a key was just typed into (an echo frame);
    /// `output_only` when nothing but agents' output changed since the last frame, so the
    /// tree, inbox and status bar can stay as they are.
    /// Returns whether some pane still has output to show (another frame is due).
    pub fn paint<B>(
        &mut self,
        terminal: &mut Terminal<B>,
        m: &mut Model,
        echo: Option<TaskId>,
        output_only: bool,
    ) -> std::io::Result<bool>
    where
        B: Backend,
        B::Error: Send + Sync + 'static,
    {
        let started = Instant::now();
        // On a new size ratatui resizes its buffers and clears the screen.
        terminal.autoresize().map_err(std::io::Error::other)?;
        let area = terminal.get_frame().area();
        if self.shown.area != area {
            self.shown = Buffer::empty(area);
            self.chrome = None;
        }
        m.relayout(area);
        let fresh = m.fit_panes();
        let chrome = Chrome::of(m);
        // The buffer still holds the last frame; it may stand in for what did not change
        // only if nothing around the panes did (and no modal, whose size follows its text).
        let reuse =
            (self.chrome.as_ref() == Some(&chrome) && !chrome.modal).then(|| super::Reuse {
                fresh: &fresh,
                only: echo,
                output_only,
            });
        let mut frame = terminal.get_frame();
        if reuse.is_none() {
            frame.buffer_mut().reset();
        }
        let deferred = super::draw_reusing(&mut frame, m, reuse.as_ref());
        self.flush(terminal).map_err(std::io::Error::other)?;
        self.chrome = Some(chrome);
        for t in &deferred {
            if let Some(p) = m.pane(*t) {
                p.keep_dirty();
            }
        }
        self.log.record(started.elapsed(), echo.is_some());
        Ok(!deferred.is_empty())
    }

    /// Writes the cells that differ from what the screen shows, then records them as shown.
    fn flush<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> Result<(), B::Error> {
        let changed = changed_cells(&self.shown, terminal.current_buffer_mut());
        let backend = terminal.backend_mut();
        backend.draw(changed.iter().map(|(x, y, c)| (*x, *y, c)))?;
        backend.hide_cursor()?;
        backend.flush()?;
        for (x, y, c) in changed {
            self.shown[(x, y)] = c;
        }
        Ok(())
    }
}

/// The cells to write so that the screen showing `shown` shows `next` (same area), as
/// ratatui's diff finds them. When few rows changed (an echo frame: one or two), equal rows
/// are passed over with a plain comparison and only the runs of changed rows are diffed.
fn changed_cells(shown: &Buffer, next: &Buffer) -> Vec<(u16, u16, Cell)> {
    let (w, h) = (usize::from(next.area.width), usize::from(next.area.height));
    let whole = |p: &Buffer, n: &Buffer, dy: u16| -> Vec<(u16, u16, Cell)> {
        p.diff_iter(n)
            .map(|(x, y, c)| (x, y + dy, c.clone()))
            .collect()
    };
    if w == 0 || shown.area != next.area || shown.content.len() != w * h {
        return whole(shown, next, 0);
    }
    let differs: Vec<bool> = (0..h)
        .map(|y| shown.content[y * w..(y + 1) * w] != next.content[y * w..(y + 1) * w])
        .collect();
    if differs.iter().filter(|d| **d).count() * 4 > h {
        return whole(shown, next, 0);
    }
    let mut out = Vec::new();
    let mut y = 0;
    while y < h {
        if !differs[y] {
            y += 1;
            continue;
        }
        let start = y;
        while y < h && differs[y] {
            y += 1;
        }
        // Rows start..y as buffers of their own (a wide cell never spans two rows).
        let area = Rect::new(next.area.x, 0, next.area.width, (y - start) as u16);
        let band = |b: &Buffer| Buffer {
            area,
            content: b.content[start * w..y * w].to_vec(),
        };
        out.extend(whole(&band(shown), &band(next), next.area.y + start as u16));
    }
    out
}

/// Everything that shapes pane borders and titles besides their own output: a frame may
/// leave the last frame's cells in place only when this is unchanged.
#[derive(Clone, PartialEq)]
struct Chrome {
    area: Rect,
    /// Tree, inbox and status bar.
    around: [Rect; 3],
    panes: Vec<(TaskId, Rect)>,
    focused: Option<TaskId>,
    focus_panes: bool,
    input: bool,
    modal: bool,
    snapshot: usize,
    titles: Vec<String>,
}

impl Chrome {
    fn of(m: &Model) -> Chrome {
        Chrome {
            area: m.layout.area,
            around: [m.layout.tree, m.layout.inbox, m.layout.status],
            panes: m.layout.panes.clone(),
            focused: m.focused().map(|p| p.task),
            focus_panes: m.focus == Focus::Panes,
            input: m.input,
            modal: m.modal.is_some(),
            snapshot: m.snapshots,
            titles: m.pane_titles(),
        }
    }
}

//! Painting a frame: lay out, size the PTYs, then draw only what changed. Panes with no
//! new output are copied from the last frame (and so are the tree, inbox and status bar when
//! only output changed), a busy parser never makes a frame wait (its pane is copied and
//! drawn next time), and an echo frame redraws only the typed pane.

use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::terminal::DrawLog;
use super::tui_model::{Focus, Model};
use crate::model::TaskId;

/// The last frame and what surrounded its panes, plus the draw log.
pub struct Painter {
    last: Option<(Buffer, Chrome)>,
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
            last: None,
            log: DrawLog::from_env(),
        }
    }

    pub fn draws(&self) -> u64 {
        self.log.count
    }

    /// Draws one frame; `echo` is the pane a key was just typed into (an echo frame);
    /// `output_only` when nothing but agents' output changed since the last frame, so the
    /// tree, inbox and status bar can be copied from it.
    /// Returns whether some pane still has output to show (another frame is due).
    pub fn paint(
        &mut self,
        terminal: &mut ratatui::DefaultTerminal,
        m: &mut Model,
        echo: Option<TaskId>,
        output_only: bool,
    ) -> std::io::Result<bool> {
        let started = Instant::now();
        let size = terminal.size()?;
        m.relayout(Rect::new(0, 0, size.width, size.height));
        let fresh = m.fit_panes();
        let chrome = Chrome::of(m);
        // The last frame may stand in for panes only if nothing around them changed.
        let prev = self
            .last
            .as_ref()
            .filter(|(_, c)| *c == chrome)
            .map(|(b, _)| b);
        let reuse = prev.map(|prev| super::Reuse {
            prev,
            fresh: &fresh,
            only: echo,
            output_only,
        });
        let mut deferred = Vec::new();
        let done = terminal.draw(|f| deferred = super::draw_reusing(f, m, reuse.as_ref()))?;
        // Kept for the next frame; `clone_from` reuses the allocation.
        let mut frame = self.last.take().map(|(b, _)| b).unwrap_or_default();
        frame.area = done.buffer.area;
        frame.content.clone_from(&done.buffer.content);
        self.last = Some((frame, chrome));
        for t in &deferred {
            if let Some(p) = m.pane(*t) {
                p.keep_dirty();
            }
        }
        self.log.record(started.elapsed(), echo.is_some());
        Ok(!deferred.is_empty())
    }
}

/// Everything that shapes pane borders and titles besides their own output: a frame may
/// copy the last one's pane cells only when this is unchanged.
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

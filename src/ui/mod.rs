//! The TUI's model, update rules and views: tree, panes, inbox, approval modal, forms,
//! help, status bar, theme. Model, update and views do no IO and never await; the app loop
//! (`crate::app`) runs the effects `update` returns, calls `draw` when something changed,
//! and alone uses `terminal`, `term_input`, `paint` and `search`, the modules that touch the
//! outside world.

pub mod keys;
pub mod layout;
pub mod modal;
mod modal_view;
pub mod paint;
pub mod pane_view;
mod panes;
pub mod search;
mod status;
pub mod term_input;
pub mod terminal;
pub mod theme;
pub mod time;
mod tree_view;
pub mod tui_model;
pub mod update;
mod update_land;
mod update_modal;
mod update_nav;
mod update_results;
mod update_shell;

use ratatui::layout::Rect;
use ratatui::Frame;

pub use crate::board::Snapshot;
pub use panes::Reuse;
pub use tui_model::{Focus, Info, Model};

use crate::model::Millis;

impl Model {
    /// Lays the screen out for `area` and keeps the tree selection in view. Call before
    /// `draw` (and resize panes to `layout.panes` in between).
    pub fn relayout(&mut self, area: Rect) {
        self.layout = layout::compute(self, area);
        let h = self.layout.tree.height.saturating_sub(2) as usize;
        let sel = self.selected_row();
        if h > 0 {
            if sel < self.tree_top {
                self.tree_top = sel;
            } else if sel >= self.tree_top + h {
                self.tree_top = sel + 1 - h;
            }
            self.tree_top = self.tree_top.min(self.rows.len().saturating_sub(h));
        }
    }

    /// Gives each pane about to be drawn its drawn size (PTY and parser); returns the panes
    /// with something new to show (output, size, scroll), clearing their flags so readers
    /// notify again. Call after `relayout`, before `draw`.
    pub fn fit_panes(&self) -> Vec<crate::model::TaskId> {
        for (task, rect) in &self.layout.panes {
            if let Some(p) = self.pane(*task) {
                let (rows, cols) = layout::inner_size(*rect);
                if p.size() != (rows, cols) {
                    p.resize(rows, cols);
                }
            }
        }
        let shown = self.layout.panes.iter().map(|(t, _)| *t);
        let fresh: Vec<crate::model::TaskId> = shown
            .chain(self.layout.list_rows.iter().copied())
            .filter(|t| self.pane(*t).is_some_and(|p| p.take_changed()))
            .collect();
        for t in &fresh {
            if let Some(p) = self.pane(*t).filter(|_| self.layout.list_rows.contains(t)) {
                p.refresh_last_line();
            }
        }
        fresh
    }

    /// The titles of the panes laid out (what besides their output can change on them).
    pub fn pane_titles(&self) -> Vec<String> {
        self.layout
            .panes
            .iter()
            .filter_map(|(t, _)| self.pane(*t).map(|p| panes::title(self, p)))
            .collect()
    }

    /// When the next shown value (elapsed time, countdown, message) changes on its own;
    /// `None` means nothing on screen changes until an event arrives.
    pub fn next_change(&self) -> Option<Millis> {
        let mut at: Option<Millis> = None;
        let mut take = |t: Option<Millis>| {
            if let Some(t) = t.filter(|t| *t > self.now) {
                at = Some(at.map_or(t, |a| a.min(t)));
            }
        };
        let shown_rows = self
            .rows
            .iter()
            .skip(self.tree_top)
            .take(self.layout.tree.height as usize);
        for r in shown_rows {
            if let Some(t) = r.task.and_then(|id| self.snap.task(id)) {
                take(tree_view::row_time(self, t).and_then(|(_, next)| next));
            }
        }
        for (id, _) in &self.layout.panes {
            if let Some(s) = self.snap.task(*id).and_then(|t| {
                t.started_at
                    .filter(|_| t.status == crate::model::Status::Active)
            }) {
                take(Some(time::elapsed_changes_at(s, self.now)));
            }
        }
        for i in &self.inbox {
            take(Some(time::elapsed_changes_at(i.since, self.now)));
        }
        if let Some(msg) = &self.message {
            take(Some(msg.until));
        }
        at
    }
}

/// Draws the whole screen from the model (after `relayout`).
pub fn draw(f: &mut Frame, m: &Model) {
    draw_reusing(f, m, None);
}

/// Like `draw`, but over the last frame (the buffer still holds it): panes with nothing new,
/// with a busy parser or, in an echo frame, every pane but the typed one are left as they
/// are, and so is everything around the panes when only output changed; what is drawn is
/// cleared first. Returns the panes with new output that were left (they need a frame).
pub fn draw_reusing(f: &mut Frame, m: &Model, reuse: Option<&Reuse>) -> Vec<crate::model::TaskId> {
    let l = &m.layout;
    // Only output changed: tree, inbox and status bar are as the last frame drew them.
    let around = !reuse.is_some_and(|r| r.output_only);
    if around {
        if reuse.is_some() {
            for r in [l.tree, l.inbox, l.status] {
                f.render_widget(ratatui::widgets::Clear, r);
            }
        }
        if !m.zoom || l.tree.width > 0 {
            tree_view::draw_tree(f, m, l.tree);
            tree_view::draw_inbox(f, m, l.inbox);
        }
    }
    let reused = panes::draw_panes(f, m, reuse);
    if around {
        status::draw_status(f, m, l.status);
    }
    modal_view::draw_modal(f, m);
    reused
}

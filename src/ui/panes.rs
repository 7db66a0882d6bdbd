//! Agent and shell panes: live PTY screens (tui-term) in a tiled grid, or a one-line-per-pane
//! list when there is no room, with titles that say task, status, elapsed time and branch
//! (a shell's: its task and directory, and how it ended).

use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;
use tui_term::widget::{Cursor, PseudoTerminal};

use super::pane_view::{PaneView, ShellOf};
use super::theme::glyph;
use super::time;
use super::tui_model::{Focus, Model};
use crate::model::{Status, Task, TaskId};

/// The branch an agent works on, when it has a worktree.
pub fn branch(t: &Task) -> Option<String> {
    t.workdir.as_ref().map(|w| w.branch.clone())
}

/// `#12 Fix flaky test · active 2m · wt taskboard/3/12`, or for a shell pane
/// `shell · #12 Fix flaky test · INPUT · ctrl-g leaves · /path/to/worktree`.
pub fn title(m: &Model, p: &PaneView) -> String {
    if let Some(of) = &p.shell {
        return shell_title(m, p, of);
    }
    let Some(t) = m.snap.task(p.task) else {
        return format!(" #{} ", p.task);
    };
    let mut parts = vec![format!("#{} {}", t.id, t.spec.title)];
    let mut status = t.status.to_string();
    if t.status == Status::Active {
        if let Some(s) = t.started_at {
            status.push_str(&format!(" {}", time::elapsed(m.now - s)));
        }
    }
    if !p.running() && p.live_pane().is_some() && t.status == Status::Active {
        status.push_str(" (exited)");
    }
    if p.live_pane().is_none() {
        status.push_str(" · saved log");
    }
    // The agent's Stop hook: its turn is over and it waits for a prompt (not "done").
    if t.turn_ended && t.status == Status::Active {
        status.push_str(" · turn ended");
    }
    parts.push(status);
    if let Some(b) = branch(t) {
        parts.push(format!("wt {b}"));
    }
    let up = p.scrolled();
    if up > 0 {
        parts.push(format!("↑{up}"));
    }
    if m.input && m.focused().map(|f| f.task) == Some(p.task) {
        parts.push("INPUT · ctrl-g leaves".into());
    }
    format!(" {} ", parts.join(" · "))
}

fn shell_title(m: &Model, p: &PaneView, of: &ShellOf) -> String {
    let mut parts = vec![format!("shell · #{} {}", of.task, of.title)];
    let close = m.keymap.first(crate::config::keymap::Action::Dismiss);
    match of.exit {
        _ if p.running() => {}
        Some(code) => parts.push(format!("ended (exit {code}) · {close} closes")),
        None => parts.push(format!("ended · {close} closes")),
    }
    let up = p.scrolled();
    if up > 0 {
        parts.push(format!("↑{up}"));
    }
    if m.input && m.focused().map(|f| f.task) == Some(p.task) {
        parts.push("INPUT · ctrl-g leaves".into());
    }
    // Last: a long path is what the border cuts.
    parts.push(of.dir.display().to_string());
    format!(" {} ", parts.join(" · "))
}

/// The colour of a pane's title when it is not focused.
fn title_style(m: &Model, p: &PaneView) -> ratatui::style::Style {
    let status = match &p.shell {
        Some(_) if p.running() => Status::Active,
        Some(of) if of.exit == Some(0) => Status::Done,
        Some(_) => Status::Failed,
        None => m
            .snap
            .task(p.task)
            .map(|t| t.status)
            .unwrap_or(Status::Pending),
    };
    m.theme.status(status)
}

/// A frame drawn over the last one (the buffer still holds it), and what changed since.
pub struct Reuse<'a> {
    /// Panes with something new to show; the others are left as they are.
    pub fresh: &'a [TaskId],
    /// An echo frame: only this pane (a key was just typed into it) is drawn afresh, the
    /// others wait for the next frame.
    pub only: Option<TaskId>,
    /// Nothing but agents' output changed since the last frame: what surrounds the panes
    /// is left as it is.
    pub output_only: bool,
}

/// Draws the panes; returns those with something new that was not drawn (a busy parser,
/// an echo frame): they need another frame. Over the last frame (`reuse`), what is drawn
/// is cleared first.
pub fn draw_panes(f: &mut Frame, m: &Model, reuse: Option<&Reuse>) -> Vec<TaskId> {
    let th = &m.theme;
    let l = &m.layout;
    if l.panes.is_empty() && l.list_rows.is_empty() {
        if l.panes_area.width > 0 {
            f.render_widget(Clear, l.panes_area);
            let block = Block::default()
                .borders(Borders::ALL)
                .title(" Panes ")
                .border_style(th.border());
            let inner = block.inner(l.panes_area);
            f.render_widget(block, l.panes_area);
            let text = if m.snap.goals.is_empty() {
                "no goals yet"
            } else {
                "no agent sessions here yet: panes open when agents start"
            };
            let y = inner.y + inner.height / 2;
            f.render_widget(
                Paragraph::new(Line::styled(text, th.dim())).alignment(Alignment::Center),
                Rect::new(inner.x, y, inner.width, 1.min(inner.height)),
            );
        }
        return Vec::new();
    }
    let focused = m.focused().map(|p| p.task);
    let mut reused = Vec::new();
    for (task, rect) in &l.panes {
        let Some(p) = m.pane(*task) else { continue };
        if let Some(r) = reuse {
            let fresh = r.fresh.contains(task);
            if !fresh || r.only.is_some_and(|o| o != *task) {
                if fresh {
                    reused.push(*task);
                }
                continue;
            }
        }
        let is_focused = Some(*task) == focused;
        let border = if is_focused && m.input {
            th.input_border()
        } else if is_focused && m.focus == Focus::Panes {
            th.focus_border()
        } else {
            th.border()
        };
        let title_style = if is_focused {
            th.title()
        } else {
            title_style(m, p)
        };
        let mut render = |screen: &tui_term::vt100::Screen| {
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(border)
                .title(Span::styled(title(m, p), title_style));
            let mut cursor = Cursor::default();
            if !(is_focused && m.input) {
                cursor.hide();
            }
            // It clears its area itself.
            let term = PseudoTerminal::new(screen).block(block).cursor(cursor);
            f.render_widget(term, *rect);
        };
        // The parser is locked only while its cells are copied, and never waited for
        // when the last frame can stand in.
        match reuse {
            Some(_) => {
                if p.try_with_screen(&mut render).is_none() {
                    reused.push(*task);
                }
            }
            None => {
                p.with_screen(&mut render);
            }
        }
    }
    if l.list.height > 0 {
        f.render_widget(Clear, l.list);
        draw_list(f, m, l.list, focused);
    }
    reused
}

fn draw_list(f: &mut Frame, m: &Model, area: Rect, focused: Option<u64>) {
    let th = &m.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(
            format!(
                " Panes ({}) · {} zoom ",
                m.layout.list_rows.len(),
                m.keymap.first(crate::config::keymap::Action::Zoom)
            ),
            th.title(),
        ))
        .border_style(th.border());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let lines: Vec<Line> = m
        .layout
        .list_rows
        .iter()
        .take(inner.height as usize)
        .filter_map(|id| {
            let p = m.pane(*id)?;
            let mark = if Some(*id) == focused { "› " } else { "  " };
            let mut line = match &p.shell {
                Some(of) => Line::from(vec![
                    Span::raw(mark),
                    Span::styled("$", title_style(m, p)),
                    Span::styled(format!(" shell · #{} ", of.task), th.dim()),
                    Span::raw(of.title.clone()),
                    Span::styled(if p.running() { " · " } else { " · ended · " }, th.dim()),
                    Span::raw(p.last_line().trim().to_string()),
                ]),
                None => {
                    let t = m.snap.task(*id)?;
                    Line::from(vec![
                        Span::raw(mark),
                        Span::styled(glyph(t), th.status(t.status)),
                        Span::styled(format!(" #{} ", t.id), th.dim()),
                        Span::raw(t.spec.title.clone()),
                        Span::styled(format!(" · {} · ", t.status), th.dim()),
                        Span::raw(p.last_line().trim().to_string()),
                    ])
                }
            };
            if Some(*id) == focused && m.focus == Focus::Panes {
                line = line.patch_style(th.selected());
            }
            Some(line)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

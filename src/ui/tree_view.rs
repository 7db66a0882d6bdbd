//! The goal tree and the "Needs you" inbox: rows with glyphs, colours, rolled-up notes,
//! elapsed times and countdowns. Views only: they read the model and draw.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::theme::glyph;
use super::time;
use super::tui_model::{Focus, Model, Row};
use crate::model::{Kind, Millis, Status, Task};

/// The time a row shows on its right and when that text changes next.
pub fn row_time(m: &Model, t: &Task) -> Option<(String, Option<Millis>)> {
    let now = m.now;
    if let (Some(d), Status::Active) = (t.deadline, t.status) {
        return Some((time::countdown(d, now), time::countdown_changes_at(d, now)));
    }
    let since = match t.status {
        Status::Active if t.kind != Kind::Group || t.is_goal() => t.started_at?,
        Status::PendingReview | Status::Blocked => {
            m.inbox.iter().find(|i| i.task == t.id).map(|i| i.since)?
        }
        _ => return None,
    };
    Some((
        time::elapsed(now - since),
        Some(time::elapsed_changes_at(since, now)),
    ))
}

/// A line with `right` flush against the right edge when it fits.
pub fn with_right<'a>(mut left: Vec<Span<'a>>, right: Span<'a>, width: u16) -> Line<'a> {
    let used: usize = left.iter().map(Span::width).sum();
    let w = width as usize;
    if !right.content.is_empty() && used + right.width() < w {
        left.push(Span::raw(" ".repeat(w - used - right.width())));
        left.push(right);
    }
    Line::from(left)
}

fn row_line<'a>(m: &'a Model, row: &Row, width: u16) -> Line<'a> {
    let th = &m.theme;
    let Some(t) = row.task.and_then(|id| m.snap.task(id)) else {
        let running = m.snap.running();
        let need = m.inbox.len();
        let mut note = vec![format!("{} goals", m.snap.goals.len())];
        if running > 0 {
            note.push(format!("{running} running"));
        }
        if need > 0 {
            note.push(format!("{need} need you"));
        }
        return Line::from(vec![
            Span::styled("◆ All goals", th.title()),
            Span::styled(format!("  {}", note.join(" · ")), th.dim()),
        ]);
    };
    let indent = "  ".repeat(row.depth as usize);
    let fold = if t.children.is_empty() {
        "  "
    } else if m.folded.contains(&t.id) {
        "▸ "
    } else {
        "▾ "
    };
    let title_style = if t.is_goal() {
        th.title()
    } else {
        Default::default()
    };
    let mut spans = vec![
        Span::raw(format!("{indent}{fold}")),
        Span::styled(glyph(t), th.status(t.status)),
        Span::styled(format!(" #{} ", t.id), th.dim()),
        Span::styled(t.spec.title.as_str(), title_style),
    ];
    let note = m.snap.note(t);
    if !note.is_empty() {
        let style =
            if m.snap.needs_you(t).is_some() || note.contains("need") || !t.conflicts.is_empty() {
                th.attention()
            } else {
                th.dim()
            };
        spans.push(Span::styled(format!("  {note}"), style));
    }
    let right = row_time(m, t)
        .map(|(s, _)| Span::styled(s, th.dim()))
        .unwrap_or_default();
    with_right(spans, right, width)
}

pub fn draw_tree(f: &mut Frame, m: &Model, area: Rect) {
    if area.height == 0 {
        return;
    }
    let th = &m.theme;
    let focused = m.focus == Focus::Tree && m.modal.is_none();
    let title = if m.snap.paused {
        " Goals · PAUSED "
    } else {
        " Goals "
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, th.title()))
        .border_style(if focused {
            th.focus_border()
        } else {
            th.border()
        });
    let inner = block.inner(area);
    f.render_widget(block, area);
    let sel = m.selected_row();
    let mut lines: Vec<Line> = m
        .rows
        .iter()
        .enumerate()
        .skip(m.tree_top)
        .take(inner.height as usize)
        .map(|(i, r)| {
            let line = row_line(m, r, inner.width);
            if i == sel {
                let style = if focused {
                    th.selected()
                } else {
                    th.title()
                        .add_modifier(ratatui::style::Modifier::UNDERLINED)
                };
                line.patch_style(style)
            } else {
                line
            }
        })
        .collect();
    if m.snap.goals.is_empty() && m.loaded {
        lines.push(Line::from(""));
        lines.push(Line::styled(
            format!(
                " no goals yet: {} new goal · {} open a goal file",
                m.keymap.first(crate::config::keymap::Action::NewGoal),
                m.keymap.first(crate::config::keymap::Action::OpenGoal)
            ),
            th.dim(),
        ));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

pub fn draw_inbox(f: &mut Frame, m: &Model, area: Rect) {
    if area.height == 0 {
        return;
    }
    let th = &m.theme;
    let title = format!(" Needs you ({}) ", m.inbox.len());
    let style = if m.inbox.is_empty() {
        th.border()
    } else {
        th.attention()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, th.title()))
        .border_style(style);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if m.inbox.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled(" nothing needs you", th.dim())),
            inner,
        );
        return;
    }
    let lines: Vec<Line> = m
        .inbox
        .iter()
        .take(inner.height as usize)
        .map(|i| {
            let Some(t) = m.snap.task(i.task) else {
                return Line::from("");
            };
            let spans = vec![
                Span::styled(glyph(t), th.status(t.status)),
                Span::styled(format!(" #{} ", t.id), th.dim()),
                Span::raw(t.spec.title.as_str()),
                Span::styled(format!("  {}", i.why), th.attention()),
            ];
            let age = Span::styled(time::elapsed(m.now - i.since), th.dim());
            with_right(spans, age, inner.width)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

//! Drawing the modal slot: help, approval, comment editor, confirmations, search, log and
//! diff viewers, and the goal forms. Centered over the board, which stays visible around it.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::modal::{DiffState, Modal, TextView, GOAL_FIELDS, OPEN_FIELDS};
use super::status::help_lines;
use super::theme::glyph;
use super::time;
use super::tui_model::Model;
use crate::command::Decision;
use crate::config::keymap::Action;

/// A rect of at most `w`×`h`, centered in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2)).max(1.min(area.width));
    let h = h.min(area.height.saturating_sub(2)).max(1.min(area.height));
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn frame_block<'a>(m: &Model, title: String) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(m.theme.focus_border())
        .title(Span::styled(title, m.theme.title()))
}

fn keys_line(m: &Model, pairs: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (k, what)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("  ", m.theme.dim()));
        }
        spans.push(Span::styled(format!("[{k}]"), m.theme.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    Line::from(spans)
}

pub fn draw_modal(f: &mut Frame, m: &Model) {
    let area = f.area();
    let Some(modal) = &m.modal else { return };
    match modal {
        Modal::Help { scroll } => {
            let w = 110.min(area.width.saturating_sub(2));
            let lines = help_lines(m, w.saturating_sub(2));
            let r = centered(area, w, lines.len() as u16 + 2);
            let block = frame_block(
                m,
                " Keys (from your keymap) · j/k scroll · Esc closes ".into(),
            );
            f.render_widget(Clear, r);
            f.render_widget(Paragraph::new(lines).block(block).scroll((*scroll, 0)), r);
        }
        Modal::Approval(a) => draw_approval(f, m, a, area),
        Modal::Comment(c) => {
            let r = centered(area, 80, 14);
            let what = match c.decision {
                Decision::Reject => "Reject",
                Decision::RequestChanges => "Request changes on",
                Decision::Approve => "Approve",
            };
            let block = frame_block(
                m,
                format!(" {what} #{}: comment · Ctrl-s send · Esc cancel ", c.task),
            );
            let inner = block.inner(r);
            f.render_widget(Clear, r);
            f.render_widget(block, r);
            let mut editor_area = inner;
            if let Some(s) = &c.stale {
                f.render_widget(
                    Paragraph::new(Line::styled(format!("⚠ {s}"), m.theme.error())),
                    Rect { height: 1, ..inner },
                );
                editor_area = Rect {
                    y: inner.y + 1,
                    height: inner.height.saturating_sub(1),
                    ..inner
                };
            }
            f.render_widget(&c.editor, editor_area);
        }
        Modal::Confirm(c) => {
            let r = centered(area, (c.question.chars().count() as u16 + 6).max(40), 5);
            let block = frame_block(m, " Are you sure? ".into());
            let lines = vec![
                Line::from(c.question.clone()),
                Line::from(""),
                keys_line(m, &[("y", "yes"), ("n", "no")]),
            ];
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                r,
            );
        }
        Modal::Blocked { task } => {
            let r = centered(area, 80, 9);
            let (title, reason) = m
                .snap
                .task(*task)
                .map(|t| (t.spec.title.clone(), t.reason.clone()))
                .unwrap_or_default();
            let block = frame_block(m, format!(" #{task} {title} is blocked "));
            let lines = vec![
                Line::from(reason),
                Line::from(""),
                keys_line(
                    m,
                    &[
                        (&m.keymap.first(Action::Retry), "retry"),
                        (&m.keymap.first(Action::Skip), "skip"),
                        ("Esc", "close"),
                    ],
                ),
            ];
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                r,
            );
        }
        Modal::Search(s) => draw_search(f, m, s, area),
        Modal::Log(v) | Modal::Diff(v) => draw_text(f, m, v, area),
        Modal::Deny(p) => {
            let r = centered(area, 80, 8);
            let ask = m
                .snap
                .task(p.task)
                .and_then(|t| t.permission.as_ref())
                .map(|a| a.summary())
                .unwrap_or_default();
            let block = frame_block(
                m,
                format!(
                    " Deny #{}: {ask} · reason (optional) · Ctrl-s send · Esc cancel ",
                    p.task
                ),
            );
            let inner = block.inner(r);
            f.render_widget(Clear, r);
            f.render_widget(block, r);
            f.render_widget(&p.editor, inner);
        }
        Modal::Prompt(p) => {
            let r = centered(area, 90, 16);
            let block = frame_block(
                m,
                format!(" Prompt of #{} · Ctrl-s save · Esc cancel ", p.task),
            );
            let inner = block.inner(r);
            f.render_widget(Clear, r);
            f.render_widget(block, r);
            f.render_widget(&p.editor, inner);
        }
        Modal::Goal(g) => draw_form(
            f,
            m,
            &match g.parent {
                Some(p) => format!(" New task in #{p} · Tab next field · Ctrl-s add · Esc cancel "),
                None => " New goal · Tab next field · Ctrl-s create · Esc cancel ".into(),
            },
            &GOAL_FIELDS[..g.fields.len()],
            &g.fields,
            g.active,
            g.error.as_deref(),
            area,
        ),
        Modal::Open(o) => draw_form(
            f,
            m,
            " Open a goal file · Enter/Ctrl-s add · Esc cancel ",
            &OPEN_FIELDS,
            &o.fields,
            o.active,
            o.error.as_deref(),
            area,
        ),
    }
}

fn draw_approval(f: &mut Frame, m: &Model, a: &super::modal::Approval, area: Rect) {
    let th = m.theme;
    let Some(t) = m.snap.task(a.task) else { return };
    let block = frame_block(m, format!(" Decide #{} · {} ", t.id, t.spec.title));
    let mut lines = Vec::new();
    if let Some(s) = &a.stale {
        lines.push(Line::styled(format!("⚠ {s}"), th.error()));
    }
    let label = |k: &str| Span::styled(format!("{k:<10}"), th.dim());
    if let Some(g) = m.snap.task(t.goal).filter(|g| g.id != t.id) {
        lines.push(Line::from(vec![
            label("goal"),
            Span::raw(format!("#{} {}", g.id, g.spec.title)),
        ]));
    }
    let waiting = m
        .inbox
        .iter()
        .find(|i| i.task == t.id)
        .map(|i| format!(" · waiting {}", time::elapsed(m.now - i.since)))
        .unwrap_or_default();
    lines.push(Line::from(vec![
        label("status"),
        Span::styled(format!("{} {}", glyph(t), t.status), th.status(t.status)),
        Span::raw(waiting),
    ]));
    if !t.reason.is_empty() {
        lines.push(Line::from(vec![
            label("reason"),
            Span::raw(t.reason.clone()),
        ]));
    }
    if let Some(p) = t.spec.prompt.as_deref().filter(|p| !p.is_empty()) {
        lines.push(Line::from(vec![label("review"), Span::raw(p.to_string())]));
    }
    let target = m.snap.rework.get(&t.id).and_then(|r| m.snap.task(*r));
    let summary = t
        .summary
        .clone()
        .or_else(|| target.and_then(|x| x.summary.clone()));
    if let Some(s) = summary {
        lines.push(Line::from(vec![label("summary"), Span::raw(s)]));
    }
    if let Some(x) = target {
        lines.push(Line::from(vec![
            label("reworks"),
            Span::raw(format!("#{} {} (on request changes)", x.id, x.spec.title)),
        ]));
    }
    // The work under review no longer merges with a sibling's or the target: say so before
    // anyone approves it.
    let judged = if t.kind == crate::model::Kind::Agent {
        Some(t)
    } else {
        target
    };
    for (i, c) in judged
        .map(|x| x.conflicts.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let head = if i == 0 { "conflicts" } else { "" };
        let with = match c.task {
            Some(o) => format!(
                "#{o} {}",
                m.snap.task(o).map(|x| x.spec.title.as_str()).unwrap_or("")
            ),
            None => c.branch.clone(),
        };
        lines.push(Line::from(vec![
            label(head),
            Span::styled(format!("⚠ with {with}: {}", c.files.join(", ")), th.error()),
        ]));
    }
    match &a.diff {
        DiffState::Loading => lines.push(Line::from(vec![
            label("diff"),
            Span::styled("loading…", th.dim()),
        ])),
        DiffState::Missing(why) => lines.push(Line::from(vec![
            label("diff"),
            Span::styled(why.clone(), th.dim()),
        ])),
        DiffState::Ready(d) => {
            let short: String = d.hash.chars().take(12).collect();
            lines.push(Line::from(vec![
                label("diff"),
                Span::styled(format!("hash {short}"), th.dim()),
            ]));
            for l in d.stat.lines().take(8) {
                lines.push(Line::from(format!("  {l}")));
            }
        }
    }
    lines.push(Line::from(""));
    let k = |a: Action| m.keymap.first(a);
    lines.push(keys_line(
        m,
        &[
            (&k(Action::Approve), "approve"),
            (&k(Action::Reject), "reject"),
            (&k(Action::RequestChanges), "request changes"),
            (&k(Action::Diff), "full diff"),
            ("Esc", "close"),
        ],
    ));
    let w = 96.min(area.width.saturating_sub(2)).max(3);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil((w - 2) as usize))
        .sum();
    let r = centered(area, w, rows as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

fn draw_search(f: &mut Frame, m: &Model, s: &super::modal::Search, area: Rect) {
    let th = m.theme;
    let r = centered(area, 110, 30);
    let block = frame_block(
        m,
        " Search all output · Enter search/jump · ↑/↓ choose · Esc close ".into(),
    );
    let inner = block.inner(r);
    f.render_widget(Clear, r);
    f.render_widget(block, r);
    if inner.height < 2 {
        return;
    }
    let q = Rect { height: 1, ..inner };
    f.render_widget(
        Paragraph::new(Span::styled("/", th.key())),
        Rect { width: 1, ..q },
    );
    f.render_widget(
        &s.query,
        Rect {
            x: q.x + 1,
            width: q.width.saturating_sub(1),
            ..q
        },
    );
    let list = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    let mut lines = Vec::new();
    if s.running {
        lines.push(Line::styled("searching…", th.dim()));
    } else if let Some(ran) = &s.ran {
        let more = if s.truncated {
            " (first ones shown)"
        } else {
            ""
        };
        lines.push(Line::styled(
            format!("{} matches for {ran:?}{more}", s.hits.len()),
            th.dim(),
        ));
    }
    let room = list.height.saturating_sub(1) as usize;
    let start = s.selected.saturating_sub(room.saturating_sub(1));
    for (i, h) in s.hits.iter().enumerate().skip(start).take(room) {
        let title = m
            .snap
            .task(h.task)
            .map(|t| t.spec.title.clone())
            .unwrap_or_default();
        let line = Line::from(vec![
            Span::styled(format!("#{} {title}:{} ", h.task, h.line + 1), th.dim()),
            Span::raw(h.text.clone()),
        ]);
        lines.push(if i == s.selected {
            line.patch_style(th.selected())
        } else {
            line
        });
    }
    f.render_widget(Paragraph::new(lines), list);
}

fn draw_text(f: &mut Frame, m: &Model, v: &TextView, area: Rect) {
    let r = centered(
        area,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    let block = frame_block(
        m,
        format!(" {} · j/k PgUp/PgDn scroll · Esc close ", v.title),
    );
    let inner = block.inner(r);
    let lines: Vec<Line> = v
        .lines
        .iter()
        .enumerate()
        .skip(v.top)
        .take(inner.height as usize)
        .map(|(i, l)| {
            let style = if Some(i) == v.mark {
                m.theme.selected()
            } else if l.starts_with('+') && !l.starts_with("+++") {
                m.theme.ok()
            } else if l.starts_with('-') && !l.starts_with("---") {
                m.theme.error()
            } else {
                Style::new()
            };
            Line::styled(l.clone(), style)
        })
        .collect();
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block), r);
}

#[allow(clippy::too_many_arguments)]
fn draw_form(
    f: &mut Frame,
    m: &Model,
    title: &str,
    names: &[&str],
    fields: &[ratatui_textarea::TextArea<'static>],
    active: usize,
    error: Option<&str>,
    area: Rect,
) {
    let th = m.theme;
    let heights: Vec<u16> = names
        .iter()
        .map(|n| if *n == "Prompt" { 6 } else { 3 })
        .collect();
    let err_h = if error.is_some() { 4 } else { 0 };
    let total = heights.iter().sum::<u16>() + err_h + 2;
    let r = centered(area, 100, total);
    let block = frame_block(m, title.to_string());
    let inner = block.inner(r);
    f.render_widget(Clear, r);
    f.render_widget(block, r);
    let mut y = inner.y;
    for (i, (name, field)) in names.iter().zip(fields).enumerate() {
        let h = heights[i].min((inner.y + inner.height).saturating_sub(y));
        if h == 0 {
            break;
        }
        let fr = Rect::new(inner.x, y, inner.width, h);
        let style = if i == active {
            th.focus_border()
        } else {
            th.border()
        };
        let b = Block::default()
            .borders(Borders::ALL)
            .border_style(style)
            .title(format!(" {name} "));
        let fi = b.inner(fr);
        f.render_widget(b, fr);
        f.render_widget(field, fi);
        y += h;
    }
    if let Some(e) = error {
        let er = Rect::new(
            inner.x,
            y,
            inner.width,
            (inner.y + inner.height).saturating_sub(y),
        );
        f.render_widget(
            Paragraph::new(Line::styled(format!("✘ {e}"), th.error())).wrap(Wrap { trim: false }),
            er,
        );
    }
}

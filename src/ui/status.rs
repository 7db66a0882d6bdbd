//! The status bar: running / need you / paused / listener address, then either the latest
//! message or key hints taken from the keymap.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::tree_view::with_right;
use super::tui_model::{Focus, Model};
use crate::config::keymap::Action;

pub fn draw_status(f: &mut Frame, m: &Model, area: Rect) {
    if area.height == 0 {
        return;
    }
    let th = &m.theme;
    let mut facts = vec![format!("{} running", m.snap.running())];
    let need = m.inbox.len();
    facts.push(format!("{need} need you"));
    if m.snap.paused {
        facts.push("PAUSED".into());
    }
    if let Some(t) = m.snap.conflicted(m.target()) {
        if let Some(c) = t.conflicts.first() {
            facts.push(format!("⚠ #{} {}", t.id, c.line()));
        }
    }
    if !m.info.listen.is_empty() {
        facts.push(m.info.listen.clone());
    }
    if let Some(pid) = m.info.attached {
        facts.push(format!("attached to pid {pid}"));
    }
    let mut left = vec![Span::raw(" ")];
    for (i, fact) in facts.iter().enumerate() {
        if i > 0 {
            left.push(Span::styled(" · ", th.dim()));
        }
        let style =
            if fact.ends_with("need you") && need > 0 || fact == "PAUSED" || fact.starts_with('⚠')
            {
                th.attention()
            } else {
                Default::default()
            };
        left.push(Span::styled(fact.clone(), style));
    }
    left.push(Span::styled(" │ ", th.dim()));
    let right = match &m.message {
        Some(msg) if msg.until > m.now => {
            left.push(Span::styled(
                msg.text.clone(),
                if msg.error { th.error() } else { th.ok() },
            ));
            Span::raw("")
        }
        _ => {
            left.extend(hints(m));
            Span::raw("")
        }
    };
    f.render_widget(Paragraph::new(with_right(left, right, area.width)), area);
}

fn hints(m: &Model) -> Vec<Span<'static>> {
    let th = m.theme;
    let k = |a: Action| m.keymap.first(a);
    let pairs: Vec<(String, &str)> = if m.input {
        vec![("ctrl-g".into(), "leave input mode")]
    } else {
        let mut v = vec![(k(Action::Help), "help")];
        if !m.inbox.is_empty() {
            v.push((k(Action::NextAttention), "needs you"));
        }
        match m.focus {
            Focus::Tree => v.push((k(Action::Focus), "panes")),
            Focus::Panes => {
                v.push((k(Action::Focus), "tree"));
                v.push((k(Action::Input), "type"));
                v.push((k(Action::Zoom), "zoom"));
            }
        }
        v.extend([(k(Action::Search), "search"), (k(Action::NewGoal), "new")]);
        if m.info.attached.is_some() {
            v.push((k(Action::Quit), "detach (agents keep running)"));
            v.push((k(Action::StopBoard), "stop board"));
        } else {
            v.push((k(Action::Quit), "quit"));
        }
        v
    };
    let mut out = Vec::new();
    for (i, (key, what)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(Span::styled(" · ", th.dim()));
        }
        out.push(Span::styled(key, th.key()));
        out.push(Span::raw(format!(" {what}")));
    }
    out
}

/// The help lines: every action with its keys, generated from the keymap.
pub fn help_lines(m: &Model, width: u16) -> Vec<Line<'static>> {
    let th = m.theme;
    let entries = m.keymap.help();
    let key_w = entries
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(4);
    let text_w = entries
        .iter()
        .map(|(_, t)| t.chars().count())
        .max()
        .unwrap_or(20)
        + 3;
    let cols = ((width as usize) / (key_w + 2 + text_w)).clamp(1, 2);
    let per_col = entries.len().div_ceil(cols);
    (0..per_col)
        .map(|r| {
            let mut spans = Vec::new();
            for c in 0..cols {
                if let Some((k, what)) = entries.get(c * per_col + r) {
                    spans.push(Span::styled(format!(" {k:>key_w$} "), th.key()));
                    spans.push(Span::raw(format!("{what:<text_w$}")));
                }
            }
            Line::from(spans)
        })
        .collect()
}

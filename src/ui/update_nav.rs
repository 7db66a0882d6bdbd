//! Moving around: tree selection and folds, pane focus (spatial, or through the collapsed
//! list), and the mouse (click focuses or selects, the wheel scrolls). Model changes only.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::layout::contains;
use super::tui_model::{Focus, Model};

pub(super) fn move_sel(m: &mut Model, d: isize) {
    let i = (m.selected_row() as isize + d).clamp(0, m.rows.len() as isize - 1);
    m.select_row(i as usize);
}

pub(super) fn fold(m: &mut Model) {
    let Some(t) = m.selected.and_then(|s| m.snap.task(s)) else {
        return;
    };
    if !t.children.is_empty() && !m.folded.contains(&t.id) {
        m.folded.insert(t.id);
        m.rebuild_rows();
    } else {
        m.selected = t.parent;
        m.sel_index = m.selected_row();
    }
}

pub(super) fn unfold(m: &mut Model) {
    let Some(t) = m.selected.and_then(|s| m.snap.task(s)) else {
        return move_sel(m, 1);
    };
    if m.folded.remove(&t.id) {
        m.rebuild_rows();
    } else if let Some(c) = t.children.first().copied() {
        m.selected = Some(c);
        m.sel_index = m.selected_row();
    }
}

/// Moves pane focus towards (dx, dy): through the list when collapsed, else spatially.
pub(super) fn move_pane(m: &mut Model, dx: i32, dy: i32) {
    let Some(cur) = m.focused().map(|p| p.task) else {
        return;
    };
    let l = &m.layout;
    if !l.list_rows.is_empty() {
        let i = l.list_rows.iter().position(|t| *t == cur).unwrap_or(0) as i32;
        let j = (i + dx + dy).clamp(0, l.list_rows.len() as i32 - 1);
        m.focused_pane = Some(l.list_rows[j as usize]);
        return;
    }
    let Some((_, from)) = l.panes.iter().find(|(t, _)| *t == cur) else {
        return;
    };
    let (cx, cy) = (
        from.x as i32 + from.width as i32 / 2,
        from.y as i32 + from.height as i32 / 2,
    );
    let best = l
        .panes
        .iter()
        .filter(|(t, _)| *t != cur)
        .filter_map(|(t, r)| {
            let (x, y) = (
                r.x as i32 + r.width as i32 / 2,
                r.y as i32 + r.height as i32 / 2,
            );
            let (along, across) = if dx != 0 {
                ((x - cx) * dx, (y - cy).abs())
            } else {
                ((y - cy) * dy, (x - cx).abs())
            };
            (along > 0).then_some((along + 2 * across, *t))
        })
        .min();
    match best {
        Some((_, t)) => m.focused_pane = Some(t),
        None if dx < 0 && !m.zoom => m.focus = Focus::Tree,
        None => {}
    }
}

pub(super) fn on_mouse(m: &mut Model, me: &MouseEvent) {
    let (x, y) = (me.column, me.row);
    if m.modal.is_some() {
        return;
    }
    let l = m.layout.clone();
    match me.kind {
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let d: isize = if me.kind == MouseEventKind::ScrollUp {
                3
            } else {
                -3
            };
            if let Some(t) = l.pane_at(x, y) {
                if let Some(p) = m.pane(t) {
                    p.scroll(d);
                }
            } else if contains(l.tree, x, y) {
                move_sel(m, -d.signum());
            }
        }
        MouseEventKind::Down(MouseButton::Left) => {
            if let Some(t) = l.pane_at(x, y) {
                if m.focused_pane != Some(t) {
                    m.input = false;
                }
                m.focused_pane = Some(t);
                m.focus = Focus::Panes;
            } else if contains(l.tree, x, y) && y > l.tree.y {
                let i = (y - l.tree.y - 1) as usize + m.tree_top;
                if i < m.rows.len() {
                    m.select_row(i);
                }
                m.focus = Focus::Tree;
                m.input = false;
            } else if contains(l.inbox, x, y) && y > l.inbox.y {
                if let Some(item) = m.inbox.get((y - l.inbox.y - 1) as usize).cloned() {
                    m.reveal(item.task);
                    m.focus = Focus::Tree;
                    m.input = false;
                }
            } else if contains(l.list, x, y) && y > l.list.y {
                if let Some(t) = l.list_rows.get((y - l.list.y - 1) as usize) {
                    m.focused_pane = Some(*t);
                    m.focus = Focus::Panes;
                    m.input = false;
                }
            }
        }
        _ => {}
    }
}

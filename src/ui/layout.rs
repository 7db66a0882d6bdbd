//! Where everything goes for a terminal size: tree, inbox, pane grid (or the collapsed
//! list when panes would be too small), status bar. A pure function of the model, computed
//! before each draw so the app can resize PTYs to the very rects the views will use.

use ratatui::layout::Rect;

use super::tui_model::Model;
use crate::model::TaskId;

/// Smallest pane (borders included) worth tiling; below it panes collapse to a list.
pub const MIN_PANE_W: u16 = 40;
pub const MIN_PANE_H: u16 = 10;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub area: Rect,
    pub tree: Rect,
    pub inbox: Rect,
    pub panes_area: Rect,
    pub status: Rect,
    /// Panes drawn as terminals (outer rects, borders included).
    pub panes: Vec<(TaskId, Rect)>,
    /// The collapsed list of panes (zero-sized when the grid fits).
    pub list: Rect,
    pub list_rows: Vec<TaskId>,
}

impl Layout {
    pub fn pane_at(&self, x: u16, y: u16) -> Option<TaskId> {
        self.panes
            .iter()
            .find(|(_, r)| contains(*r, x, y))
            .map(|(t, _)| *t)
    }
}

pub fn contains(r: Rect, x: u16, y: u16) -> bool {
    x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
}

/// The inner size (rows, cols) of a pane drawn in `r` with a border.
pub fn inner_size(r: Rect) -> (u16, u16) {
    (r.height.saturating_sub(2), r.width.saturating_sub(2))
}

/// Width of the tree/inbox column for a terminal width.
pub fn left_width(w: u16) -> u16 {
    if w < 50 {
        w
    } else if w >= 120 {
        (w * 3 / 10).clamp(34, 60)
    } else {
        (w * 2 / 5).clamp(24, 40)
    }
}

pub fn compute(m: &Model, area: Rect) -> Layout {
    let mut l = Layout {
        area,
        ..Layout::default()
    };
    if area.height < 3 || area.width < 10 {
        return l;
    }
    let body = Rect::new(area.x, area.y, area.width, area.height - 1);
    l.status = Rect::new(area.x, area.y + area.height - 1, area.width, 1);
    let vis: Vec<TaskId> = m.visible_panes().iter().map(|p| p.task).collect();
    let focused = m.focused().map(|p| p.task);
    if m.zoom {
        if let Some(f) = focused {
            l.panes_area = body;
            l.panes = vec![(f, body)];
            return l;
        }
    }
    let lw = left_width(area.width);
    let left = Rect::new(body.x, body.y, lw, body.height);
    l.panes_area = Rect::new(body.x + lw, body.y, body.width - lw, body.height);
    let items = m.inbox.len() as u16;
    let inbox_h = (items + 2)
        .clamp(3, (left.height / 3).max(3))
        .min(left.height);
    l.tree = Rect::new(left.x, left.y, left.width, left.height - inbox_h);
    l.inbox = Rect::new(left.x, left.y + l.tree.height, left.width, inbox_h);
    tile(&mut l, &vis, focused);
    l
}

/// Tiles `vis` into the pane area, or collapses them to a list under the focused pane.
fn tile(l: &mut Layout, vis: &[TaskId], focused: Option<TaskId>) {
    let a = l.panes_area;
    let n = vis.len() as u16;
    if n == 0 || a.width == 0 || a.height == 0 {
        return;
    }
    if let Some((cols, rows)) = grid(n, a.width, a.height) {
        let row_h = a.height / rows;
        let mut it = vis.iter();
        for r in 0..rows {
            let in_row = if r == rows - 1 {
                n - cols * (rows - 1)
            } else {
                cols
            };
            let y = a.y + r * row_h;
            let h = if r == rows - 1 {
                a.height - r * row_h
            } else {
                row_h
            };
            let col_w = a.width / in_row;
            for c in 0..in_row {
                let x = a.x + c * col_w;
                let w = if c == in_row - 1 {
                    a.width - c * col_w
                } else {
                    col_w
                };
                if let Some(t) = it.next() {
                    l.panes.push((*t, Rect::new(x, y, w, h)));
                }
            }
        }
        return;
    }
    // Too many for a grid: the focused pane on top, a one-line-per-pane list below.
    let list_h = (n + 2).min(a.height / 2).max(3).min(a.height);
    let pane_h = a.height - list_h;
    if let Some(f) = focused.filter(|_| pane_h >= 4) {
        l.panes.push((f, Rect::new(a.x, a.y, a.width, pane_h)));
        l.list = Rect::new(a.x, a.y + pane_h, a.width, list_h);
    } else {
        l.list = a;
    }
    l.list_rows = vis.to_vec();
}

/// The grid (columns, rows) that fits `n` panes of at least the minimum size, with the
/// largest panes (a cell is about twice as tall as wide); `None` if none fits.
fn grid(n: u16, w: u16, h: u16) -> Option<(u16, u16)> {
    (1..=n)
        .filter_map(|cols| {
            let rows = n.div_ceil(cols);
            // Only grids without an empty row.
            if cols * (rows - 1) >= n {
                return None;
            }
            let (cw, ch) = (w / cols, h / rows);
            (cw >= MIN_PANE_W && ch >= MIN_PANE_H).then_some((cols, rows, cw.min(ch * 2)))
        })
        .max_by_key(|(cols, rows, score)| (*score, u16::MAX - cols * rows))
        .map(|(c, r, _)| (c, r))
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn grids() {
        assert_eq!(grid(1, 140, 49), Some((1, 1)));
        assert_eq!(grid(4, 140, 49), Some((2, 2)));
        assert_eq!(grid(10, 140, 49), Some((3, 4)));
        assert_eq!(grid(4, 48, 23), None);
        assert_eq!(grid(2, 48, 23), Some((1, 2)));
    }
}

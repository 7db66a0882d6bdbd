//! The UI model the app loop owns: the board snapshot, tree rows and selection, panes and
//! focus, the one modal, the status message. Changed only by `update`; read by the views.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::layout::Layout;
use super::modal::Modal;
use super::pane_view::PaneView;
use super::theme::Theme;
use crate::board::snapshot::{InboxItem, Snapshot};
use crate::config::keymap::Keymap;
use crate::model::{Millis, TaskId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Tree,
    Panes,
}

/// One line of the tree: `None` is the root row ("All goals").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub task: Option<TaskId>,
    pub depth: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub text: String,
    pub error: bool,
    pub until: Millis,
}

/// Facts about the process around the UI (fixed while it runs).
#[derive(Clone, Debug, Default)]
pub struct Info {
    /// Listener address (`127.0.0.1:43121`), shown in the status bar.
    pub listen: String,
    /// `<data>/logs`: pane tails and search.
    pub logs: PathBuf,
    /// `<data>/diffs`: review patches saved by the board.
    pub diffs: PathBuf,
    pub default_agent: String,
    pub bell: bool,
    /// Where a new goal's repository defaults to.
    pub cwd: PathBuf,
    /// Attached to a board that runs in another process (`taskboard up`): its pid.
    pub attached: Option<u32>,
}

pub struct Model {
    /// Wall clock of this update/draw (fixed in tests).
    pub now: Millis,
    pub snap: Snapshot,
    /// Whether a snapshot has arrived yet (the first one rings no bell).
    pub loaded: bool,
    pub rows: Vec<Row>,
    pub selected: Option<TaskId>,
    /// Index of the selection in `rows`, to land near it when its task disappears.
    pub sel_index: usize,
    pub folded: HashSet<TaskId>,
    pub focus: Focus,
    /// One pane per task, in task-id order.
    pub panes: Vec<PaneView>,
    pub focused_pane: Option<TaskId>,
    pub zoom: bool,
    /// Keys go to the focused pane (until ctrl-g).
    pub input: bool,
    pub modal: Option<Modal>,
    pub message: Option<Message>,
    pub inbox: Vec<InboxItem>,
    /// When each inbox item was first seen (oldest first ordering).
    pub since: HashMap<TaskId, Millis>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub info: Info,
    /// Where everything went at the last layout (mouse hit tests, pane sizes).
    pub layout: Layout,
    /// First tree row shown (scrolling).
    pub tree_top: usize,
    /// A task to select as soon as a snapshot has it (a goal just added).
    pub want: Option<TaskId>,
    /// Snapshots applied so far (titles may have changed with each).
    pub snapshots: usize,
    /// Shell panes opened so far (their keys count from `pane_view::SHELL_KEYS`).
    pub shells_opened: u64,
}

impl Model {
    pub fn new(info: Info, keymap: Keymap, theme: Theme, now: Millis) -> Model {
        let mut m = Model {
            now,
            snap: Snapshot::default(),
            loaded: false,
            rows: Vec::new(),
            selected: None,
            sel_index: 0,
            folded: HashSet::new(),
            focus: Focus::Tree,
            panes: Vec::new(),
            focused_pane: None,
            zoom: false,
            input: false,
            modal: None,
            message: None,
            inbox: Vec::new(),
            since: HashMap::new(),
            keymap,
            theme,
            info,
            layout: Layout::default(),
            tree_top: 0,
            want: None,
            snapshots: 0,
            shells_opened: 0,
        };
        m.rebuild_rows();
        m
    }

    /// Replaces the snapshot; returns the inbox items that are new since the last one.
    pub fn set_snapshot(&mut self, snap: Snapshot) -> Vec<InboxItem> {
        self.snap = snap;
        self.snapshots += 1;
        let before: HashSet<TaskId> = self.inbox.iter().map(|i| i.task).collect();
        let first = !self.loaded;
        self.loaded = true;
        let inbox = self.snap.inbox(&self.since);
        let fresh: Vec<InboxItem> = inbox
            .iter()
            .filter(|i| !before.contains(&i.task))
            .cloned()
            .collect();
        let now = self.now;
        for i in &fresh {
            if !first {
                self.since.insert(i.task, now);
            }
        }
        self.since
            .retain(|id, _| inbox.iter().any(|i| i.task == *id));
        self.inbox = self.snap.inbox(&self.since);
        self.rebuild_rows();
        if let Some(w) = self.want.filter(|w| self.snap.task(*w).is_some()) {
            self.want = None;
            self.reveal(w);
        }
        if first {
            Vec::new()
        } else {
            fresh
        }
    }

    /// Flattens the tree into rows (folded subtrees hidden) and keeps the selection.
    pub fn rebuild_rows(&mut self) {
        let mut rows = vec![Row {
            task: None,
            depth: 0,
        }];
        for &g in self.snap.goals.iter() {
            let mut stack = vec![(g, 0u16)];
            while let Some((id, depth)) = stack.pop() {
                let Some(t) = self.snap.task(id) else {
                    continue;
                };
                rows.push(Row {
                    task: Some(id),
                    depth,
                });
                if !self.folded.contains(&id) {
                    stack.extend(t.children.iter().rev().map(|c| (*c, depth + 1)));
                }
            }
        }
        self.rows = rows;
        if let Some(sel) = self.selected {
            if self.snap.task(sel).is_some() {
                // Hidden under a fold: select the nearest visible ancestor.
                let path = self.snap.ancestors(sel);
                let visible = path
                    .iter()
                    .rev()
                    .find(|a| self.rows.iter().any(|r| r.task == Some(**a)));
                self.selected = visible.copied();
            } else if self.loaded {
                let i = self.sel_index.min(self.rows.len() - 1);
                self.selected = self.rows[i].task;
            }
        }
        self.sel_index = self.selected_row();
    }

    pub fn selected_row(&self) -> usize {
        self.rows
            .iter()
            .position(|r| r.task == self.selected)
            .unwrap_or(0)
    }

    pub fn select_row(&mut self, i: usize) {
        let i = i.min(self.rows.len().saturating_sub(1));
        self.selected = self.rows.get(i).and_then(|r| r.task);
        self.sel_index = i;
    }

    /// Selects a task, unfolding its ancestors so it is visible.
    pub fn reveal(&mut self, id: TaskId) {
        for a in self.snap.ancestors(id) {
            if a != id {
                self.folded.remove(&a);
            }
        }
        self.selected = Some(id);
        self.rebuild_rows();
    }

    /// The goal whose panes show; `None` at the root (all goals).
    pub fn scope(&self) -> Option<TaskId> {
        self.selected
            .and_then(|s| self.snap.task(s))
            .map(|t| t.goal)
    }

    /// Panes shown for the current scope, in task order.
    pub fn visible_panes(&self) -> Vec<&PaneView> {
        let scope = self.scope();
        self.panes
            .iter()
            .filter(|p| match scope {
                None => true,
                Some(g) => self.snap.task(p.owner()).is_some_and(|t| t.goal == g),
            })
            .collect()
    }

    /// The pane keys go to: the focused one if visible, else the first running one, else
    /// the first.
    pub fn focused(&self) -> Option<&PaneView> {
        let vis = self.visible_panes();
        vis.iter()
            .find(|p| Some(p.task) == self.focused_pane)
            .or(vis.iter().find(|p| p.running()))
            .or(vis.first())
            .copied()
    }

    pub fn pane(&self, task: TaskId) -> Option<&PaneView> {
        self.panes.iter().find(|p| p.task == task)
    }

    /// Adds or replaces a task's pane (a new attempt replaces the old one).
    pub fn put_pane(&mut self, view: PaneView) {
        match self.panes.iter().position(|p| p.task >= view.task) {
            Some(i) if self.panes[i].task == view.task => self.panes[i] = view,
            Some(i) => self.panes.insert(i, view),
            None => self.panes.push(view),
        }
    }

    /// The task commands act on: the focused pane's (a shell's: the task it opened for)
    /// when panes have focus, else the selected tree row's.
    pub fn target(&self) -> Option<TaskId> {
        match self.focus {
            Focus::Panes => self.focused().map(PaneView::owner).or(self.selected),
            Focus::Tree => self.selected,
        }
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
            until: self.now + 5_000,
        });
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
            until: self.now + 8_000,
        });
    }

    /// Agent sessions still running in this process (quitting stops them); shell panes
    /// are not counted: they are the user's own and close with the TUI.
    pub fn live_agents(&self) -> usize {
        self.panes
            .iter()
            .filter(|p| p.shell.is_none() && p.running())
            .count()
    }
}

//! The live panes by task, readable without the board's thread: the driver (the one writer)
//! publishes, after every drain and before it answers anyone or tells the world, which task's
//! input goes to which open pane (`Board::session_of`, its own session or its goal's pinned
//! one); HTTP handlers (`/input`, `/resize`) and the goal check read it under a read lock.
//! A reader sees the table of the last finished drain, as a query between drains would.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::agent::{PaneRef, Session};
use crate::board::Board;
use crate::model::TaskId;

type Table = HashMap<TaskId, PaneRef>;

/// The read side, held by every [`super::BoardHandle`].
#[derive(Clone, Default)]
pub struct Panes(Arc<RwLock<Table>>);

impl Panes {
    /// The open pane a task's input goes to, as of the last finished drain.
    pub fn get(&self, task: TaskId) -> Option<PaneRef> {
        let t = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        t.get(&task).cloned()
    }
}

/// The write side: only the driver holds one (not `Clone`).
pub(super) struct PanesWriter(Arc<RwLock<Table>>);

impl PanesWriter {
    pub(super) fn new() -> (PanesWriter, Panes) {
        let table = Arc::new(RwLock::new(Table::new()));
        (PanesWriter(table.clone()), Panes(table))
    }

    /// Publishes the table for the board and sessions as they are now; the write lock is
    /// taken only when the table changed.
    pub(super) fn publish(&self, board: &Board, sessions: &HashMap<(TaskId, u32), Session>) {
        let next = table(board, sessions);
        let same = self.0.read().is_ok_and(|now| {
            now.len() == next.len()
                && next
                    .iter()
                    .all(|(k, p)| now.get(k).is_some_and(|q| Arc::ptr_eq(p, q)))
        });
        if same {
            return;
        }
        match self.0.write() {
            Ok(mut t) => *t = next,
            // A reader cannot panic while holding the lock (it only clones an `Arc`), but
            // should the lock be poisoned, the table is still replaced.
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}

/// Every task whose `session_of` names a live session: a session's own task, and the task a
/// goal's pinned session is serving. O(sessions + pinned goals), not O(tasks).
fn table(board: &Board, sessions: &HashMap<(TaskId, u32), Session>) -> Table {
    let mut t = Table::with_capacity(sessions.len());
    let tasks = sessions
        .keys()
        .map(|(task, _)| *task)
        .chain(board.pinned_current());
    for task in tasks {
        if let Some(s) = board.session_of(task).and_then(|k| sessions.get(&k)) {
            t.insert(task, s.pane.clone());
        }
    }
    t
}

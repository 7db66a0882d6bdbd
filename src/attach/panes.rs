//! The panes of an attached TUI: one per agent session the board runs, made when a snapshot
//! first shows it, fed from its log file, typed into over HTTP, and marked ended when a
//! snapshot shows the session gone. They are ordinary `Pane`s: the UI cannot tell.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::follow::{Follower, ATTACH_TAIL};
use super::io::{Op, RemoteIo};
use crate::agent::{vt::new_parser, Pane, PaneIo, PaneRef};
use crate::board::Snapshot;
use crate::model::{Kind, Proc, TaskId};

pub struct RemotePanes {
    follower: Follower,
    inputs: mpsc::UnboundedSender<Op>,
    logs: PathBuf,
    scrollback: usize,
    open: HashMap<TaskId, PaneRef>,
}

impl RemotePanes {
    pub fn new(
        follower: Follower,
        inputs: mpsc::UnboundedSender<Op>,
        logs: PathBuf,
        scrollback: usize,
    ) -> RemotePanes {
        RemotePanes {
            follower,
            inputs,
            logs,
            scrollback,
            open: HashMap::new(),
        }
    }

    /// Opens a pane for each session the snapshot shows running that has none yet (sized
    /// `size` until laid out) and ends the panes of sessions that are gone; the new panes.
    pub fn sync(&mut self, snap: &Snapshot, (rows, cols): (u16, u16)) -> Vec<PaneRef> {
        let running = |id: TaskId| {
            snap.task(id).and_then(|t| match t.proc {
                Proc::Running { pid } if t.kind == Kind::Agent => Some((t.attempt, pid)),
                _ => None,
            })
        };
        let gone: Vec<TaskId> = self
            .open
            .iter()
            .filter(|(id, p)| running(**id) != Some((p.attempt, p.pid)))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.follower.unfollow(id);
            if let Some(p) = self.open.remove(&id) {
                p.exited.store(true, Ordering::Release);
                p.dirty.store(true, Ordering::Release);
            }
        }
        let mut ids: Vec<TaskId> = snap.tasks.keys().copied().collect();
        ids.sort_unstable();
        let mut opened = Vec::new();
        for id in ids {
            let Some((attempt, pid)) = running(id) else {
                continue;
            };
            // A goal's pinned session serves several tasks: its first task shows it.
            if self.open.contains_key(&id) || self.open.values().any(|p| p.pid == pid) {
                continue;
            }
            let io = RemoteIo::new(id, self.inputs.clone());
            // Attaching claims the size, as a tmux client does.
            io.resize(rows.max(2), cols.max(2));
            let parser = new_parser(rows.max(2), cols.max(2), 0);
            let pane = Arc::new(Pane::new(
                id,
                attempt,
                pid,
                parser,
                self.scrollback,
                Box::new(io),
            ));
            let log = self.logs.join(format!("{id}.log"));
            match self.follower.follow(pane.clone(), &log, ATTACH_TAIL) {
                Ok(()) => {
                    self.open.insert(id, pane.clone());
                    opened.push(pane);
                }
                Err(e) => tracing::warn!(task = id, "cannot follow {}: {e}", log.display()),
            }
        }
        opened
    }
}

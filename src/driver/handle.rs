//! The board's public face: the handle others hold, the notices they hear, the summary
//! a run watches. Messages go to the driver; nothing here touches task state.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{broadcast, oneshot, watch};

use crate::agent::{self, PaneRef, Session};
use crate::board::Board;
use crate::board::{Event, Transition};
use crate::command::{Command, CommandError};
use crate::model::{Source, Status, TaskId};

/// What others hear about the board.
#[derive(Clone, Debug)]
pub enum Notice {
    Transition(Transition),
    Attention {
        task: TaskId,
        title: String,
        reason: String,
    },
    PaneOpened {
        task: TaskId,
        pane: PaneRef,
    },
    /// A pane has new output (payload-free: the UI pulls from the pane).
    Output(TaskId),
    /// A task's conflicts with other branches changed (empty: resolved).
    Conflicts {
        task: TaskId,
        goal: TaskId,
        title: String,
        conflicts: Vec<crate::model::Conflict>,
    },
    StorageFailed(String),
}

impl std::fmt::Debug for agent::Pane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Pane(#{} attempt {} pid {})",
            self.task, self.attempt, self.pid
        )
    }
}

/// Per-goal facts for whoever decides when a run is over.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub goals: Vec<GoalSummary>,
    pub paused: bool,
    /// Bumped after every drain that changed something.
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GoalSummary {
    pub id: TaskId,
    pub status: Status,
    pub live: usize,
}

pub(super) type Reply = Result<Value, CommandError>;

/// An `Idempotency-Key` and the scope it belongs to (a hash of the caller's token).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdemKey {
    pub scope: String,
    pub key: String,
}

/// How long an idempotent answer is kept.
pub(super) const IDEM_KEEP_MS: i64 = 24 * 3600 * 1000;

pub(super) enum Msg {
    Command {
        cmd: Command,
        who: Source,
        idem: Option<IdemKey>,
        reply: oneshot::Sender<Reply>,
    },
    Query(Box<dyn FnOnce(&Board) + Send>),
    SpawnDone {
        task: TaskId,
        attempt: u32,
        result: Result<(Session, Option<crate::model::WorkDir>), String>,
    },
    /// `Command::AskPermission`, plus where to send the answer when a human gives it (one
    /// message, so an answer can never come before its waiter is known).
    AskPermission {
        cmd: Command,
        who: Source,
        reply: oneshot::Sender<Reply>,
        answer: oneshot::Sender<PermissionAnswer>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// A human's (or a rule's) answer to a held tool call.
#[derive(Clone, Debug, PartialEq)]
pub struct PermissionAnswer {
    pub allow: bool,
    pub reason: Option<String>,
}

/// Everything the board's thread hears, on one queue.
pub(super) enum Input {
    Msg(Msg),
    Event(Event),
    /// A store read, run after the drain it arrives in has been committed.
    Read(crate::store::ReadJob),
    /// The runtime that runs the effects has shut down: the board's thread ends too.
    Gone,
}

/// Where events for the board go (sessions' reader and waiter threads, polls).
#[derive(Clone)]
pub struct EventTx(pub(super) std::sync::mpsc::Sender<Input>);

impl EventTx {
    /// Queues an event; false when the board has stopped.
    pub fn send(&self, e: Event) -> bool {
        self.0.send(Input::Event(e)).is_ok()
    }

    pub(super) fn msg(&self, m: Msg) -> bool {
        self.0.send(Input::Msg(m)).is_ok()
    }
}

/// The handle everyone else uses to talk to the board.
#[derive(Clone)]
pub struct BoardHandle {
    pub(super) tx: EventTx,
    pub(super) notices: broadcast::Sender<Notice>,
    pub(super) deltas: broadcast::Sender<std::sync::Arc<crate::board::delta::Delta>>,
    pub(super) summary: watch::Receiver<Summary>,
    pub(super) settled: watch::Receiver<Summary>,
    /// A receiver made before the board's thread started, so that the first taker sees every
    /// notice from the start (the restart's own transitions included); see
    /// [`BoardHandle::subscribe_from_start`].
    pub(super) first: Arc<Mutex<Option<broadcast::Receiver<Notice>>>>,
    /// The open panes by task, published by the driver after every drain.
    pub(super) panes: super::panes::Panes,
}

impl BoardHandle {
    /// Sends a command; the answer comes once it is applied and committed.
    pub async fn command(&self, cmd: Command, who: impl Into<Source>) -> Reply {
        self.command_once(cmd, who, None).await
    }

    /// Like `command`, but a repeat of the same idempotency key returns the first answer
    /// and applies nothing.
    pub async fn command_once(
        &self,
        cmd: Command,
        who: impl Into<Source>,
        idem: Option<IdemKey>,
    ) -> Reply {
        let (tx, rx) = oneshot::channel();
        let sent = self.tx.msg(Msg::Command {
            cmd,
            who: who.into(),
            idem,
            reply: tx,
        });
        if !sent {
            return Err(CommandError::Storage {
                message: "the board has stopped".into(),
            });
        }
        rx.await.map_err(|_| CommandError::Storage {
            message: "the board has stopped".into(),
        })?
    }

    /// Asks for permission on an agent's behalf. The reply says whether a rule answered at
    /// once (`"decision"` not null); otherwise the receiver gets the human's answer, or
    /// fails when the request is dropped (the session ended).
    pub async fn ask_permission(
        &self,
        cmd: Command,
        who: impl Into<Source>,
    ) -> (Reply, oneshot::Receiver<PermissionAnswer>) {
        let (tx, rx) = oneshot::channel();
        let (answer, answered) = oneshot::channel();
        let stopped = || CommandError::Storage {
            message: "the board has stopped".into(),
        };
        if !self.tx.msg(Msg::AskPermission {
            cmd,
            who: who.into(),
            reply: tx,
            answer,
        }) {
            return (Err(stopped()), answered);
        }
        let reply = rx.await.unwrap_or_else(|_| Err(stopped()));
        (reply, answered)
    }

    /// Reads the board (on its own task, between drains).
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Board) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let job = Box::new(move |b: &Board| {
            let _ = tx.send(f(b));
        });
        if !self.tx.msg(Msg::Query(job)) {
            return None;
        }
        rx.await.ok()
    }

    /// The live pane a task's input goes to (its own session's, or its goal's pinned
    /// one), as of the board's last finished drain; read without a hop to its thread.
    pub fn pane(&self, task: TaskId) -> Option<PaneRef> {
        self.panes.get(task)
    }

    /// Tells the board a person typed into a task's pane (clears its "needs you" flag).
    pub fn input_sent(&self, task: TaskId) {
        let _ = self.tx.send(Event::InputSent { task });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// Every batch that changed something, as task records (`super::delta`); the board
    /// builds them only while someone holds a receiver.
    pub fn deltas(&self) -> broadcast::Receiver<std::sync::Arc<crate::board::delta::Delta>> {
        self.deltas.subscribe()
    }

    /// Notices from the board's start for the first caller (what a restart did before anyone
    /// could subscribe, such as re-dispatching an interrupted task); later callers get
    /// [`BoardHandle::subscribe`]'s notices from now on.
    pub fn subscribe_from_start(&self) -> broadcast::Receiver<Notice> {
        let first = self.first.lock().ok().and_then(|mut f| f.take());
        first.unwrap_or_else(|| self.notices.subscribe())
    }

    /// The summary after every drain that changed something (a reason, a new task, ...).
    pub fn summary(&self) -> watch::Receiver<Summary> {
        self.summary.clone()
    }

    /// The same summary, but told only when a goal's status or live count, or the pause,
    /// changed: what decides whether a run is over, without a wake-up per drain.
    pub fn goal_summary(&self) -> watch::Receiver<Summary> {
        self.settled.clone()
    }

    /// Stops every session and the driver.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.msg(Msg::Shutdown(tx)) {
            let _ = rx.await;
        }
    }
}

/// What an agent's token may act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenScope {
    Task(TaskId),
    Goal(TaskId),
}

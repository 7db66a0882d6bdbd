//! The driver: owns the board and the store on one thread of its own. It drains its queue,
//! applies everything, commits the drain as one transaction (blocking: nothing else runs on
//! this thread), then answers callers, runs effects (processes, polls, timers) and publishes
//! notices.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{broadcast, oneshot, watch};

use crate::agent::Session;
use crate::board::delta::Delta;
use crate::board::Board;
use crate::board::{Effect, Event, Transition};
use crate::command::CommandError;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::model::{now_millis, TaskId};
use crate::store::{Committer, ReadJob, Store, StoreError, StoreHandle};

use super::handle::{BoardHandle, EventTx, GoalSummary, IdemKey, Notice, Summary, TokenScope};
use super::handle::{Input, Msg, PermissionAnswer, Reply, IDEM_KEEP_MS};

/// What the driver needs besides the board.
pub struct DriverParts {
    pub data: DataDir,
    pub config: Arc<Config>,
    pub board_id: String,
    /// Extra environment for every agent (listener URL, ...); per-task tokens come from `token_for`.
    pub env: Vec<(String, String)>,
    pub token_for: Option<Arc<dyn Fn(TokenScope) -> String + Send + Sync>>,
    pub pane_size: (u16, u16),
    /// Idempotent answers from the store (last 24 h).
    pub idempotent: Vec<crate::store::IdempotentAnswer>,
    /// Keep the notices sent from the start for the first `subscribe_from_start` (headless
    /// runs print what a restart did before they could subscribe). Off for the TUI: an unread
    /// receiver would hold up to the channel's capacity of notices (and their panes).
    pub notices_from_start: bool,
}

pub(super) struct Driver {
    pub(super) board: Board,
    pub(super) store: Committer,
    pub(super) parts: DriverParts,
    pub(super) rx: mpsc::Receiver<Input>,
    /// The board's own queue, for the effects that report back (spawns, polls, sessions).
    pub(super) events_tx: EventTx,
    pub(super) notices: broadcast::Sender<Notice>,
    /// Each changing batch as task records, built only while someone listens.
    pub(super) deltas: broadcast::Sender<Arc<Delta>>,
    pub(super) summary: watch::Sender<Summary>,
    /// The summary again, told only when a goal's status or live count or the pause moved.
    pub(super) settled: watch::Sender<Summary>,
    pub(super) sessions: HashMap<(TaskId, u32), Session>,
    pub(super) version: u64,
    pub(super) idem: HashMap<IdemKey, (i64, Reply)>,
    /// Answers of this drain to store with its changes.
    pub(super) idem_new: Vec<crate::store::IdempotentAnswer>,
    /// Hook calls holding an agent's tool call, by (task, request).
    pub(super) permission_waiters: HashMap<(TaskId, u64), oneshot::Sender<PermissionAnswer>>,
    /// The conflict watcher (its own thread) and what it was last told to watch.
    pub(super) watcher: Option<crate::git::watch::Watcher>,
    pub(super) watched: Vec<crate::board::Watched>,
}

/// How often the conflict watcher reads the live tasks' branch refs.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// Starts the conflict watcher; its findings come back to the board as events.
fn start_watcher(events: EventTx) -> Option<crate::git::watch::Watcher> {
    let report = Box::new(move |goal, found| {
        let _ = events.send(Event::ConflictsChecked { goal, found });
    });
    crate::git::watch::Watcher::start(WATCH_EVERY, report)
        .map_err(|e| tracing::warn!("cannot start the conflict watcher: {e}"))
        .ok()
}

/// Sends `Gone` to the board's thread when the runtime drops the task that holds it.
struct RuntimeGuard(mpsc::Sender<Input>);

impl Drop for RuntimeGuard {
    fn drop(&mut self) {
        let _ = self.0.send(Input::Gone);
    }
}

/// Starts the board's thread for a board loaded from the store (recovery already applied).
/// Must be called inside a tokio runtime: effects (polls, spawns) run on it, and when it
/// shuts down the board's thread ends.
pub fn start(
    board: Board,
    store: Store,
    parts: DriverParts,
) -> std::io::Result<(BoardHandle, StoreHandle)> {
    let (tx, rx) = mpsc::channel();
    let (notices, first) = broadcast::channel(16_384);
    let (deltas, _) = broadcast::channel(1024);
    let (summary_tx, summary_rx) = watch::channel(Summary::default());
    let (settled_tx, settled_rx) = watch::channel(Summary::default());
    let events_tx = EventTx(tx.clone());
    let handle = BoardHandle {
        tx: events_tx.clone(),
        notices: notices.clone(),
        deltas: deltas.clone(),
        summary: summary_rx,
        settled: settled_rx,
        first: std::sync::Arc::new(std::sync::Mutex::new(
            parts.notices_from_start.then_some(first),
        )),
    };
    let reads = tx.clone();
    let store_handle = StoreHandle::new(move |job: ReadJob| reads.send(Input::Read(job)).is_ok());
    let _ = tx.send(Input::Event(Event::Tick));
    let mut parts = parts;
    let idem = std::mem::take(&mut parts.idempotent)
        .into_iter()
        .filter_map(|a| {
            let reply: Reply = serde_json::from_str(&a.body).ok()?;
            Some((
                IdemKey {
                    scope: a.scope,
                    key: a.key,
                },
                (a.at, reply),
            ))
        })
        .collect();
    let watcher = start_watcher(events_tx.clone());
    let driver = Driver {
        board,
        store: Committer::new(store),
        parts,
        rx,
        events_tx,
        notices,
        deltas,
        summary: summary_tx,
        settled: settled_tx,
        sessions: HashMap::new(),
        version: 0,
        idem,
        idem_new: Vec::new(),
        permission_waiters: HashMap::new(),
        watcher,
        watched: Vec::new(),
    };
    let rt = tokio::runtime::Handle::current();
    let guard = RuntimeGuard(tx);
    rt.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    std::thread::Builder::new()
        .name("board".into())
        .spawn(move || driver.run(rt))?;
    Ok((handle, store_handle))
}

/// How many messages one drain takes at most, so a flood cannot starve the commit.
const MAX_DRAIN: usize = 4096;

/// One drain's outcome, told to nobody before its commit.
struct Drained {
    replies: Vec<(oneshot::Sender<Reply>, Reply)>,
    effects: Vec<Effect>,
    transitions: Vec<Transition>,
    attention: Vec<(TaskId, String)>,
    conflicts: Vec<TaskId>,
    idem_keys: Vec<IdemKey>,
    summary: bool,
    /// Tasks written and deleted (for the delta of this batch).
    dirty: Vec<TaskId>,
    deleted: Vec<TaskId>,
}

/// What one drain collected besides the board's own changes.
#[derive(Default)]
struct Pending {
    replies: Vec<(oneshot::Sender<Reply>, Reply)>,
    effects: Vec<Effect>,
    reads: Vec<ReadJob>,
    shutdown: Option<oneshot::Sender<()>>,
    gone: bool,
}

impl Driver {
    /// Tells the conflict watcher what to watch, when that changed.
    fn rewatch(&mut self) {
        let Some(w) = &self.watcher else { return };
        let list = self.board.watch_list();
        if list == self.watched {
            return;
        }
        w.watch(
            list.iter()
                .map(|x| crate::git::watch::WatchGoal {
                    goal: x.goal,
                    repo: x.repo.clone(),
                    target: x.target.clone(),
                    tasks: x.tasks.clone(),
                })
                .collect(),
        );
        self.watched = list;
    }

    /// The loop: wait → drain → apply → commit → answer, run effects and publish.
    fn run(mut self, rt: tokio::runtime::Handle) {
        let _enter = rt.enter();
        self.rewatch();
        loop {
            let mut p = Pending::default();
            let first = match self.board.next_wakeup() {
                Some(at) => {
                    let delay = (at - now_millis()).max(0) as u64;
                    match self.rx.recv_timeout(Duration::from_millis(delay)) {
                        Ok(i) => Some(i),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                None => match self.rx.recv() {
                    Ok(i) => Some(i),
                    Err(_) => return,
                },
            };
            match first {
                Some(i) => self.on_input(i, &mut p),
                None => self.on_event(Event::Tick, &mut p.effects),
            }
            let mut n = 1;
            while n < MAX_DRAIN && p.shutdown.is_none() && !p.gone {
                match self.rx.try_recv() {
                    Ok(i) => self.on_input(i, &mut p),
                    Err(_) => break,
                }
                n += 1;
            }
            if self.board.next_wakeup().is_some_and(|w| w <= now_millis()) {
                self.on_event(Event::Tick, &mut p.effects);
            }
            let (drained, result) = self.commit(p.replies, p.effects);
            self.finish(drained, result);
            for read in p.reads {
                read(self.store.store());
            }
            if p.gone {
                return;
            }
            if let Some(done) = p.shutdown {
                rt.block_on(self.stop_all());
                let _ = done.send(());
                return;
            }
        }
    }

    fn on_input(&mut self, i: Input, p: &mut Pending) {
        match i {
            Input::Msg(m) => self.on_msg(m, &mut p.replies, &mut p.effects, &mut p.shutdown),
            Input::Event(e) => self.on_event(e, &mut p.effects),
            Input::Read(job) => p.reads.push(job),
            Input::Gone => p.gone = true,
        }
    }

    fn on_msg(
        &mut self,
        m: Msg,
        replies: &mut Vec<(oneshot::Sender<Reply>, Reply)>,
        effects: &mut Vec<Effect>,
        shutdown: &mut Option<oneshot::Sender<()>>,
    ) {
        match m {
            Msg::Command {
                cmd,
                who,
                idem,
                reply,
            } => {
                if let Some((_, first)) = idem.as_ref().and_then(|k| self.idem.get(k)) {
                    replies.push((reply, first.clone()));
                    return;
                }
                tracing::debug!(command = cmd.name(), who = %who, "command");
                let now = now_millis();
                let out = self.board.handle(Event::Command { cmd, who }, now);
                effects.extend(out.effects);
                let answer = out.reply.unwrap_or(Ok(Value::Null));
                if let Some(k) = idem {
                    if let Ok(body) = serde_json::to_string(&answer) {
                        self.idem_new.push(crate::store::IdempotentAnswer {
                            scope: k.scope.clone(),
                            key: k.key.clone(),
                            status: 0,
                            body,
                            at: now,
                        });
                    }
                    self.idem.retain(|_, (at, _)| *at >= now - IDEM_KEEP_MS);
                    self.idem.insert(k, (now, answer.clone()));
                }
                replies.push((reply, answer));
            }
            Msg::AskPermission {
                cmd,
                who,
                reply,
                answer,
            } => {
                let task = match &cmd {
                    crate::command::Command::AskPermission { task, .. } => *task,
                    _ => 0,
                };
                let out = self.board.handle(Event::Command { cmd, who }, now_millis());
                effects.extend(out.effects);
                let r = out.reply.unwrap_or(Ok(Value::Null));
                if let Ok(v) = &r {
                    if v["decision"].is_null() {
                        if let Some(req) = v["request"].as_u64() {
                            self.permission_waiters.insert((task, req), answer);
                        }
                    }
                }
                replies.push((reply, r));
            }
            Msg::Query(f) => f(&self.board),
            Msg::Pane { task, reply } => {
                let pane = self
                    .board
                    .session_of(task)
                    .and_then(|key| self.sessions.get(&key))
                    .map(|s| s.pane.clone());
                let _ = reply.send(pane);
            }
            Msg::SpawnDone {
                task,
                attempt,
                result,
            } => {
                let ev = match result {
                    Ok((session, workdir)) => {
                        let pid = session.pane.pid;
                        let _ = self.notices.send(Notice::PaneOpened {
                            task,
                            pane: session.pane.clone(),
                        });
                        self.sessions.insert((task, attempt), session);
                        Event::Spawned {
                            task,
                            attempt,
                            pid,
                            workdir,
                        }
                    }
                    Err(error) => Event::SpawnFailed {
                        task,
                        attempt,
                        error,
                    },
                };
                self.on_event(ev, effects);
            }
            Msg::Shutdown(tx) => *shutdown = Some(tx),
        }
    }

    fn on_event(&mut self, e: Event, effects: &mut Vec<Effect>) {
        if let Event::Exited { task, attempt, .. } = &e {
            self.sessions.remove(&(*task, *attempt));
            // Its hook calls are gone with it; dropping the senders lets their routes answer.
            let t = *task;
            self.permission_waiters.retain(|(w, _), _| *w != t);
        }
        let out = self.board.handle(e, now_millis());
        effects.extend(out.effects);
    }

    /// Takes the drain's changes and commits them as one transaction.
    fn commit(
        &mut self,
        replies: Vec<(oneshot::Sender<Reply>, Reply)>,
        effects: Vec<Effect>,
    ) -> (Drained, Result<(), StoreError>) {
        let mut changes = self.board.take_changes();
        let idempotency = std::mem::take(&mut self.idem_new);
        let idem_keys = idempotency
            .iter()
            .map(|a| IdemKey {
                scope: a.scope.clone(),
                key: a.key.clone(),
            })
            .collect();
        let summary =
            !changes.dirty.is_empty() || !changes.deleted.is_empty() || changes.paused.is_some();
        let dirty: Vec<TaskId> = changes.dirty.iter().copied().collect();
        let deleted = changes.deleted.clone();
        let batch = super::batch_of(&self.board, &mut changes, idempotency);
        let result = if batch.is_empty() {
            Ok(())
        } else {
            self.store.commit(batch)
        };
        let drained = Drained {
            replies,
            effects,
            transitions: changes.transitions,
            attention: changes.attention,
            conflicts: changes.conflicts,
            idem_keys,
            summary,
            dirty,
            deleted,
        };
        (drained, result)
    }

    /// A drain's commit is done: answer, run its effects, tell the world.
    fn finish(&mut self, done: Drained, result: Result<(), StoreError>) {
        let failure = result.err().map(|e| e.to_string());
        if let Some(e) = &failure {
            // Not stored, so not answered: a repeat must be applied afresh.
            for k in &done.idem_keys {
                self.idem.remove(k);
            }
            let _ = self.notices.send(Notice::StorageFailed(e.clone()));
        }
        for (tx, reply) in done.replies {
            let reply = match (&failure, reply) {
                (Some(e), Ok(_)) => Err(CommandError::Storage { message: e.clone() }),
                (_, r) => r,
            };
            let _ = tx.send(reply);
        }
        for fx in done.effects {
            self.run_effect(fx);
        }
        for t in done.transitions {
            let _ = self.notices.send(Notice::Transition(t));
        }
        for (task, reason) in done.attention {
            let title = self
                .board
                .task(task)
                .map(|t| t.spec.title.clone())
                .unwrap_or_default();
            let _ = self.notices.send(Notice::Attention {
                task,
                title,
                reason,
            });
        }
        for task in done.conflicts {
            if let Some(t) = self.board.task(task) {
                let _ = self.notices.send(Notice::Conflicts {
                    task,
                    goal: t.goal,
                    title: t.spec.title.clone(),
                    conflicts: t.conflicts.clone(),
                });
            }
        }
        if done.summary {
            self.rewatch();
            self.version += 1;
            if self.deltas.receiver_count() > 0 {
                let d = Delta::of(&self.board, &done.dirty, &done.deleted, self.version);
                let _ = self.deltas.send(Arc::new(d));
            }
            let goals = self
                .board
                .goals()
                .iter()
                .filter_map(|g| self.board.task(*g))
                .map(|g| GoalSummary {
                    id: g.id,
                    status: g.status,
                    live: self.board.goal_stats(g.id).live,
                })
                .collect();
            let summary = Summary {
                goals,
                paused: self.board.paused(),
                version: self.version,
            };
            self.settled.send_if_modified(|old| {
                let moved =
                    old.version == 0 || old.goals != summary.goals || old.paused != summary.paused;
                if moved {
                    *old = summary.clone();
                }
                moved
            });
            let _ = self.summary.send(summary);
        }
    }
}

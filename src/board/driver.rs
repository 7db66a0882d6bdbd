//! The driver: owns the board, drains its queue, commits each drain as one transaction,
//! then answers callers, runs effects (processes, polls, timers) and publishes notices.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::effects::{Effect, Event, Transition};
use super::machine::Board;
use crate::agent::Session;
use crate::command::CommandError;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::model::{now_millis, TaskId};
use crate::store::{Batch, StoreHandle};

pub use super::handle::{BoardHandle, GoalSummary, IdemKey, Notice, Summary, TokenScope};
use super::handle::{Msg, Reply, IDEM_KEEP_MS};

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
}

pub(super) struct Driver {
    pub(super) board: Board,
    pub(super) store: StoreHandle,
    pub(super) parts: DriverParts,
    pub(super) rx: mpsc::UnboundedReceiver<Msg>,
    pub(super) self_tx: mpsc::UnboundedSender<Msg>,
    pub(super) events_rx: mpsc::UnboundedReceiver<Event>,
    pub(super) events_tx: mpsc::UnboundedSender<Event>,
    pub(super) notices: broadcast::Sender<Notice>,
    pub(super) summary: watch::Sender<Summary>,
    pub(super) sessions: HashMap<(TaskId, u32), Session>,
    pub(super) version: u64,
    pub(super) idem: HashMap<IdemKey, (i64, Reply)>,
    /// Answers of this drain to store with its changes.
    pub(super) idem_new: Vec<crate::store::IdempotentAnswer>,
}

/// Starts the driver task for a board loaded from the store (recovery already applied).
pub fn start(board: Board, store: StoreHandle, parts: DriverParts) -> BoardHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (notices, _) = broadcast::channel(16_384);
    let (summary_tx, summary_rx) = watch::channel(Summary::default());
    let handle = BoardHandle {
        tx: tx.clone(),
        events: events_tx.clone(),
        notices: notices.clone(),
        summary: summary_rx,
    };
    let _ = events_tx.send(Event::Tick);
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
    let driver = Driver {
        board,
        store,
        parts,
        rx,
        self_tx: tx,
        events_rx,
        events_tx,
        notices,
        summary: summary_tx,
        sessions: HashMap::new(),
        version: 0,
        idem,
        idem_new: Vec::new(),
    };
    tokio::spawn(driver.run());
    handle
}

/// How many messages one drain takes at most, so a flood cannot starve the commit.
const MAX_DRAIN: usize = 4096;

/// One drain's outcome, waiting for its commit before anyone hears of it.
struct Inflight {
    commit: Option<oneshot::Receiver<Result<(), String>>>,
    replies: Vec<(oneshot::Sender<Reply>, Reply)>,
    effects: Vec<Effect>,
    transitions: Vec<Transition>,
    attention: Vec<(TaskId, String)>,
    idem_keys: Vec<IdemKey>,
    summary: bool,
}

/// Resolves with the oldest drain's commit result (never, when none waits).
async fn next_commit(queue: &mut std::collections::VecDeque<Inflight>) -> Result<(), String> {
    match queue.front_mut() {
        Some(Inflight {
            commit: Some(rx), ..
        }) => rx
            .await
            .unwrap_or_else(|_| Err("the store thread has stopped".into())),
        Some(_) => Ok(()),
        None => std::future::pending().await,
    }
}

/// Drains waiting for their commit at most; then the board stops taking new messages.
const MAX_INFLIGHT: usize = 64;

impl Driver {
    /// The loop: drain → apply → hand the batch to the store → (later) answer, run effects
    /// and publish, in commit order. The next drain is applied while the store commits.
    async fn run(mut self) {
        let mut inflight: std::collections::VecDeque<Inflight> = std::collections::VecDeque::new();
        let mut shutdown: Option<oneshot::Sender<()>> = None;
        loop {
            let wake = self.board.next_wakeup().map(|at| {
                let delay = (at - now_millis()).max(0) as u64;
                tokio::time::Instant::now() + Duration::from_millis(delay)
            });
            let sleep = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let open = inflight.len() < MAX_INFLIGHT && shutdown.is_none();
            let finished = shutdown.is_some() && inflight.is_empty();
            let mut replies = Vec::new();
            let mut effects = Vec::new();
            tokio::select! {
                biased;
                result = next_commit(&mut inflight) => {
                    if let Some(done) = inflight.pop_front() {
                        self.finish(done, result);
                    }
                    continue;
                }
                Some(m) = self.rx.recv(), if open => self.on_msg(m, &mut replies, &mut effects, &mut shutdown),
                Some(e) = self.events_rx.recv(), if open => self.on_event(e, &mut effects),
                _ = sleep, if open => self.on_event(Event::Tick, &mut effects),
                _ = std::future::ready(()), if finished => {
                    self.stop_all().await;
                    if let Some(done) = shutdown.take() {
                        let _ = done.send(());
                    }
                    return;
                }
            }
            let mut n = 1;
            while n < MAX_DRAIN && shutdown.is_none() {
                if let Ok(m) = self.rx.try_recv() {
                    self.on_msg(m, &mut replies, &mut effects, &mut shutdown);
                } else if let Ok(e) = self.events_rx.try_recv() {
                    self.on_event(e, &mut effects);
                } else {
                    break;
                }
                n += 1;
            }
            if self.board.next_wakeup().is_some_and(|w| w <= now_millis()) {
                self.on_event(Event::Tick, &mut effects);
            }
            let pending = self.submit(replies, effects);
            if pending.commit.is_none() && inflight.is_empty() {
                self.finish(pending, Ok(()));
            } else {
                inflight.push_back(pending);
            }
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
        }
        let out = self.board.handle(e, now_millis());
        effects.extend(out.effects);
    }

    /// Takes the drain's changes and hands them to the store without waiting.
    fn submit(
        &mut self,
        replies: Vec<(oneshot::Sender<Reply>, Reply)>,
        effects: Vec<Effect>,
    ) -> Inflight {
        let changes = self.board.take_changes();
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
        let batch = Batch {
            tasks: changes
                .dirty
                .iter()
                .filter_map(|id| self.board.task(*id).cloned())
                .collect(),
            deleted: changes.deleted,
            audit: changes.audit,
            meta: changes
                .paused
                .map(|p| vec![("paused".to_string(), p.to_string())])
                .unwrap_or_default(),
            idempotency,
        };
        let commit = (!batch.is_empty()).then(|| self.store.submit(batch));
        Inflight {
            commit,
            replies,
            effects,
            transitions: changes.transitions,
            attention: changes.attention,
            idem_keys,
            summary,
        }
    }

    /// A drain's commit is done: answer, run its effects, tell the world.
    fn finish(&mut self, done: Inflight, result: Result<(), String>) {
        let failure = result.err();
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
        if done.summary {
            self.version += 1;
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
            let _ = self.summary.send(Summary {
                goals,
                paused: self.board.paused(),
                version: self.version,
            });
        }
    }
}

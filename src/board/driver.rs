//! The driver: owns the board, drains its queue, commits each drain as one transaction,
//! then answers callers, runs effects (processes, polls, timers) and publishes notices.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::effects::{Effect, Event, SpawnSpec, Transition};
use super::machine::Board;
use crate::agent::{self, procs, PaneRef, Session, Sinks, SpawnRequest};
use crate::command::{Command, CommandError};
use crate::config::Config;
use crate::datadir::DataDir;
use crate::model::{now_millis, Source, Status, TaskId};
use crate::store::{Batch, StoreHandle};

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

type Reply = Result<Value, CommandError>;

/// An `Idempotency-Key` and the scope it belongs to (a hash of the caller's token).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdemKey {
    pub scope: String,
    pub key: String,
}

/// How long an idempotent answer is kept.
const IDEM_KEEP_MS: i64 = 24 * 3600 * 1000;

enum Msg {
    Command {
        cmd: Command,
        who: Source,
        idem: Option<IdemKey>,
        reply: oneshot::Sender<Reply>,
    },
    Query(Box<dyn FnOnce(&Board) + Send>),
    /// The open pane of a task (its own session, or its goal's pinned one).
    Pane {
        task: TaskId,
        reply: oneshot::Sender<Option<PaneRef>>,
    },
    SpawnDone {
        task: TaskId,
        attempt: u32,
        result: Result<(Session, Option<crate::model::WorkDir>), String>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// The handle everyone else uses to talk to the board.
#[derive(Clone)]
pub struct BoardHandle {
    tx: mpsc::UnboundedSender<Msg>,
    events: mpsc::UnboundedSender<Event>,
    notices: broadcast::Sender<Notice>,
    summary: watch::Receiver<Summary>,
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
        self.tx
            .send(Msg::Command {
                cmd,
                who: who.into(),
                idem,
                reply: tx,
            })
            .map_err(|_| CommandError::Storage {
                message: "the board has stopped".into(),
            })?;
        rx.await.map_err(|_| CommandError::Storage {
            message: "the board has stopped".into(),
        })?
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
        self.tx.send(Msg::Query(job)).ok()?;
        rx.await.ok()
    }

    /// The live pane of a task's open session, if it has one.
    pub async fn pane(&self, task: TaskId) -> Option<PaneRef> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Msg::Pane { task, reply: tx }).ok()?;
        rx.await.ok().flatten()
    }

    /// Tells the board a person typed into a task's pane (clears its "needs you" flag).
    pub fn input_sent(&self, task: TaskId) {
        let _ = self.events.send(Event::InputSent { task });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    pub fn summary(&self) -> watch::Receiver<Summary> {
        self.summary.clone()
    }

    /// Stops every session and the driver.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(tx)).is_ok() {
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

struct Driver {
    board: Board,
    store: StoreHandle,
    parts: DriverParts,
    rx: mpsc::UnboundedReceiver<Msg>,
    self_tx: mpsc::UnboundedSender<Msg>,
    events_rx: mpsc::UnboundedReceiver<Event>,
    events_tx: mpsc::UnboundedSender<Event>,
    notices: broadcast::Sender<Notice>,
    summary: watch::Sender<Summary>,
    sessions: HashMap<(TaskId, u32), Session>,
    version: u64,
    idem: HashMap<IdemKey, (i64, Reply)>,
    /// Answers of this drain to store with its changes.
    idem_new: Vec<crate::store::IdempotentAnswer>,
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

    fn run_effect(&mut self, fx: Effect) {
        match fx {
            Effect::Spawn(spec) => self.spawn(spec),
            Effect::Kill { task, attempt } => {
                if let Some(s) = self.sessions.get(&(task, attempt)) {
                    let pid = s.pane.pid;
                    let mark = procs::mark_value(&self.parts.board_id, task);
                    std::thread::spawn(move || {
                        procs::stop_group(pid, Some(&mark), Duration::from_secs(5))
                    });
                }
            }
            Effect::WriteInput { session, text } => self.type_into(session, text),
            Effect::TypePrompt {
                session,
                task,
                prompt,
                agent,
            } => {
                let text = agent::profile::typed_prompt(
                    &self.parts.config,
                    agent.as_deref(),
                    &prompt,
                    task,
                );
                self.type_into(session, text);
            }
            Effect::RunPoll {
                task,
                attempt,
                command,
                cwd,
            } => {
                let events = self.events_tx.clone();
                tokio::spawn(async move {
                    let (code, stdout) = run_poll(&command, &cwd).await;
                    let _ = events.send(Event::PollFinished {
                        task,
                        attempt,
                        code,
                        stdout,
                    });
                });
            }
            Effect::RemoveWorktrees { goal, repo } => {
                let dir = self.parts.data.worktrees();
                tokio::task::spawn_blocking(move || {
                    for e in crate::git::remove_worktrees(&repo, &dir, goal) {
                        tracing::warn!(goal, "cannot remove a worktree: {e}");
                    }
                });
            }
            Effect::ComputeDiff {
                task,
                repo,
                base,
                branch,
            } => {
                let events = self.events_tx.clone();
                let dir = self.parts.data.root.join("diffs");
                tokio::task::spawn_blocking(move || {
                    match crate::git::diff(&repo, &base, &branch) {
                        Ok(d) => {
                            let _ = std::fs::create_dir_all(&dir);
                            let file = dir.join(format!("{task}-{}.patch", &d.hash[..16]));
                            if let Err(e) = std::fs::write(&file, &d.patch) {
                                tracing::warn!(task, "cannot save the diff: {e}");
                            }
                            let _ = events.send(Event::DiffReady {
                                task,
                                hash: d.hash,
                                stat: d.stat,
                            });
                        }
                        Err(e) => tracing::warn!(task, "cannot compute the review diff: {e}"),
                    }
                });
            }
        }
    }

    /// Types text into a session off the board's thread (the paste pauses before Enter).
    fn type_into(&self, session: (TaskId, u32), text: String) {
        match self.sessions.get(&session).map(|s| s.pane.clone()) {
            Some(pane) => {
                std::thread::spawn(move || {
                    if let Err(e) = pane.type_text(&text) {
                        tracing::warn!(task = pane.task, "cannot type into the session: {e}");
                    }
                });
            }
            None => tracing::warn!(task = session.0, "no open session to type into"),
        }
    }

    fn spawn(&mut self, spec: SpawnSpec) {
        let data = self.parts.data.clone();
        let config = self.parts.config.clone();
        let board_id = self.parts.board_id.clone();
        let (task, attempt) = (spec.task, spec.attempt);
        let mut env = self.parts.env.clone();
        env.extend([
            ("TASKBOARD_HOME".into(), data.root.display().to_string()),
            ("TASKBOARD_TASK_ID".into(), task.to_string()),
            ("TASKBOARD_GOAL_ID".into(), spec.goal.to_string()),
            (procs::MARK.into(), procs::mark_value(&board_id, task)),
        ]);
        if let Some(f) = &self.parts.token_for {
            // A pinned session serves every pinned task of its goal: its token is the goal's.
            let scope = if spec.pinned {
                TokenScope::Goal(spec.goal)
            } else {
                TokenScope::Task(task)
            };
            env.push(("TASKBOARD_TOKEN".into(), f(scope)));
        }
        let (rows, cols) = self.parts.pane_size;
        let sinks = Sinks {
            events: self.events_tx.clone(),
            output: {
                let notices = self.notices.clone();
                Arc::new(move |t| {
                    let _ = notices.send(Notice::Output(t));
                })
            },
        };
        let tx = self.self_tx.clone();
        // git and fork/exec block: keep them off the board's thread.
        tokio::task::spawn_blocking(move || {
            let result = (|| {
                let workdir = if spec.worktree {
                    let path = data.worktrees().join(format!("{}-{task}", spec.goal));
                    let branch = spec
                        .workdir
                        .as_ref()
                        .map(|w| w.branch.clone())
                        .unwrap_or_else(|| crate::git::branch_name(&board_id, task, &spec.title));
                    let w = crate::git::ensure_worktree(
                        &spec.repo,
                        &path,
                        &branch,
                        spec.base_branch.as_deref(),
                    )?;
                    Some(crate::model::WorkDir {
                        path: w.path,
                        branch: w.branch,
                        base: w.base,
                    })
                } else {
                    None
                };
                let cwd = workdir
                    .as_ref()
                    .map(|w| w.path.clone())
                    .unwrap_or_else(|| spec.repo.clone());
                let prompt_file = data.logs().join(format!("{task}.prompt"));
                let plan = agent::profile::plan(&spec, &config, &prompt_file, &cwd)?;
                std::fs::write(&prompt_file, &plan.prompt)
                    .map_err(|e| format!("cannot write {}: {e}", prompt_file.display()))?;
                env.push(("TASKBOARD_WORKTREE".into(), cwd.display().to_string()));
                env.push(("TASKBOARD_PROMPT".into(), plan.prompt.clone()));
                env.extend(plan.env);
                let req = SpawnRequest {
                    task,
                    attempt,
                    argv: plan.argv,
                    cwd,
                    env,
                    log_path: data.log_file(task),
                    rows,
                    cols,
                    scrollback: config.scrollback,
                    attention: plan.attention,
                };
                agent::spawn(req, sinks).map(|s| (s, workdir))
            })();
            let _ = tx.send(Msg::SpawnDone {
                task,
                attempt,
                result,
            });
        });
    }

    /// Stops every session (TERM, then KILL after a short grace) and waits for them.
    async fn stop_all(&mut self) {
        let board_id = self.parts.board_id.clone();
        let pids: Vec<(u32, String)> = self
            .sessions
            .iter()
            .map(|((t, _), s)| (s.pane.pid, procs::mark_value(&board_id, *t)))
            .collect();
        self.sessions.clear();
        let _ = tokio::task::spawn_blocking(move || {
            let threads: Vec<_> = pids
                .into_iter()
                .map(|(pid, mark)| {
                    std::thread::spawn(move || {
                        procs::stop_group(pid, Some(&mark), Duration::from_secs(3))
                    })
                })
                .collect();
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

/// Runs a poll command: exit code and stdout. A command that hangs counts as "still waiting".
async fn run_poll(command: &str, cwd: &std::path::Path) -> (i32, String) {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(Duration::from_secs(300), cmd.output()).await {
        Ok(Ok(out)) => (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        Ok(Err(e)) => (-1, format!("cannot run the poll command: {e}")),
        Err(_) => (-1, "poll command timed out".into()),
    }
}

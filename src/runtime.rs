//! Starting a board on a data dir: lock, store, recovery, orphan sweep, driver.

use std::sync::Arc;

use crate::agent::procs;
use crate::board::{Board, Limits};
use crate::config::Config;
use crate::datadir::{DataDir, DataDirError, Lock};
use crate::driver::{self, BoardHandle, DriverParts, TokenScope};
use crate::http::Keys;
use crate::model::now_millis;
use crate::store::{Batch, Store, StoreError, StoreHandle};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Listen(String),
    #[error("{0}")]
    Board(String),
}

impl StartError {
    /// The exit code the CLI uses (ARCHITECTURE §7: 3 for a data dir in use).
    pub fn exit_code(&self) -> i32 {
        match self {
            StartError::DataDir(DataDirError::InUse { .. }) => 3,
            _ => 2,
        }
    }
}

/// A board running on a data dir; dropping `lock` frees the dir.
pub struct Running {
    pub handle: BoardHandle,
    pub store: StoreHandle,
    pub board_id: String,
    pub listener: crate::http::Listener,
    pub lock: Lock,
}

impl Running {
    /// Stops the listener, then every agent session, then the driver.
    pub async fn shutdown(self) {
        self.listener.stop().await;
        self.handle.shutdown().await;
    }
}

/// How to start: where to listen, the agents' pane size.
#[derive(Default)]
pub struct Wiring {
    /// `--listen`; default from the config.
    pub listen: Option<String>,
    pub pane_size: Option<(u16, u16)>,
    /// The caller reads the board's notices from its start (`subscribe_from_start`).
    pub notices_from_start: bool,
}

/// Task data (prompts, payloads, agent output) is for the board's user only: the database
/// (SQLite gives its WAL files the database's mode) and the logs dir. Best effort.
fn private(data: &DataDir) {
    use std::os::unix::fs::PermissionsExt;
    let db = data.db();
    let mut files = vec![(data.logs(), 0o700)];
    for suffix in ["", "-wal", "-shm"] {
        files.push((
            std::path::PathBuf::from(format!("{}{suffix}", db.display())),
            0o600,
        ));
    }
    for (path, mode) in files {
        if path.exists() {
            if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)) {
                tracing::warn!("cannot make {} private: {e}", path.display());
            }
        }
    }
}

/// After a crash: worktrees half made or no longer a task's are removed (with their
/// registrations and the lock files a kill left in the board's namespace, and a
/// repository-wide lock files no process has open), and patches
/// whose saving was cut short are dropped. Runs before anything is dispatched.
fn tidy_git_work(data: &DataDir, board: &Board, board_id: &str) {
    let mut repos: Vec<std::path::PathBuf> = board
        .goals()
        .iter()
        .filter_map(|g| board.task(*g))
        .filter_map(|g| g.spec.goal.as_ref().map(|s| s.repo.clone()))
        .collect();
    repos.sort();
    repos.dedup();
    let keep = |name: &str| {
        let Some((goal, task)) = name.split_once('-') else {
            return false;
        };
        let (Ok(goal), Ok(task)) = (goal.parse::<u64>(), task.parse::<u64>()) else {
            return false;
        };
        board.task(task).is_some_and(|t| t.goal == goal)
    };
    let done = crate::git::reconcile(&data.worktrees(), &repos, board_id, &keep);
    for r in &done.removed {
        tracing::warn!("removed a worktree left half-made or taskless by an earlier run: {r}");
    }
    for l in &done.unlocked {
        tracing::warn!("removed a lock file left by an earlier run: {l}");
    }
    for e in &done.errors {
        tracing::warn!("cannot tidy the worktrees: {e}");
    }
    let temp = crate::git::clear_temp_patches(&data.root.join("diffs"));
    if temp > 0 {
        tracing::warn!(
            temp,
            "removed review patches an earlier run did not finish saving"
        );
    }
}

static STARTED_AT: std::sync::OnceLock<crate::model::Millis> = std::sync::OnceLock::new();

/// When this process started its board (before recovery): a goal with a task finished since
/// then was unfinished at start.
pub fn started_at() -> Option<crate::model::Millis> {
    STARTED_AT.get().copied()
}

/// Opens everything and starts the driver. Must run inside a tokio runtime.
pub fn start_board(data: &DataDir, config: &Config, wiring: Wiring) -> Result<Running, StartError> {
    let lock = data.lock()?;
    // Agents call this board through `<data>/bin/taskboard` (first on their PATH).
    crate::selfexe::link_own_exe(data)?;
    let _ = STARTED_AT.set(now_millis());
    let addr = crate::http::parse_listen(wiring.listen.as_deref().unwrap_or(&config.listen))
        .map_err(StartError::Listen)?;
    let mut store = Store::open(&data.db())?;
    private(data);
    let board_id = data.board_id()?;
    // Read everything before the first write: a damaged row must leave the file untouched.
    let loaded = store.load_tasks()?;
    let seed = match store.meta("session_seed")? {
        Some(s) => uuid::Uuid::parse_str(&s).unwrap_or_else(|_| uuid::Uuid::new_v4()),
        None => {
            let s = uuid::Uuid::new_v4();
            store.commit(&Batch {
                meta: vec![("session_seed".into(), s.to_string())],
                ..Batch::default()
            })?;
            s
        }
    };
    let limits = Limits {
        max_agents: config.max_agents,
        spawns_per_minute: config.spawns_per_minute,
    };
    let mut board = Board::new(limits, seed);
    // Checked when the config was parsed.
    board.set_allow_rules(config.allow_rules().unwrap_or_default());
    for task in loaded {
        board.insert_loaded(task);
    }
    if store.meta("paused")?.as_deref() == Some("true") {
        board.set_paused(true);
    }
    // Processes of an earlier run of this board (e.g. after kill -9) must not survive.
    let swept = procs::kill_marked(&format!("{board_id}:"), false);
    if swept > 0 {
        tracing::warn!(swept, "killed processes left by an earlier run");
    }
    let cfg = config.clone();
    let can_resume = move |t: &crate::model::Task| {
        t.spec.command.is_none()
            && cfg
                .agents
                .get(t.spec.agent.as_deref().unwrap_or(&cfg.default_agent))
                .is_some_and(|p| p.resume.is_some())
    };
    board.recover(&can_resume, now_millis());
    tidy_git_work(data, &board, &board_id);
    crate::fault::point(crate::fault::RECONCILED);
    let idempotent = store.load_idempotency(now_millis() - 24 * 3600 * 1000)?;
    store.prune_idempotency(now_millis() - 24 * 3600 * 1000)?;
    let keys = Keys::new(
        data.secret_file(&data.token(), 32)?,
        &data.secret_file(&data.secret(), 32)?,
    );
    let bound = crate::http::bind(addr)
        .map_err(|e| StartError::Listen(format!("cannot listen on {addr}: {e}")))?;
    let token_keys = keys.clone();
    let token_for: Arc<dyn Fn(TokenScope) -> String + Send + Sync> =
        Arc::new(move |scope| match scope {
            TokenScope::Task(t) => token_keys.task_token(t),
            TokenScope::Goal(g) => token_keys.goal_token(g),
        });
    let parts = DriverParts {
        data: data.clone(),
        config: Arc::new(config.clone()),
        board_id: board_id.clone(),
        env: vec![("TASKBOARD_URL".into(), bound.url.clone())],
        token_for: Some(token_for),
        pane_size: wiring.pane_size.unwrap_or((40, 120)),
        idempotent,
        notices_from_start: wiring.notices_from_start,
    };
    let (handle, store) = driver::start(board, store, parts)
        .map_err(|e| StartError::Board(format!("cannot start the board's thread: {e}")))?;
    if let Some(command) = config
        .notify_command
        .clone()
        .filter(|c| !c.trim().is_empty())
    {
        crate::notify::start(&handle, command);
    }
    let wait = config
        .permission_wait()
        .unwrap_or(std::time::Duration::from_secs(600));
    let state = crate::http::AppState::new(handle.clone(), keys, store.clone(), wait);
    let listener = crate::http::serve(bound, state, data).map_err(|e| {
        StartError::Listen(format!("cannot write {}: {e}", data.endpoint().display()))
    })?;
    tracing::info!(url = %listener.url, "listening");
    Ok(Running {
        handle,
        store,
        board_id,
        listener,
        lock,
    })
}

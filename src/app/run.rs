//! The TUI loop (ARCHITECTURE §1): one task owns the UI model; terminal events, board
//! notices and finished background jobs arrive through one `select!`. Each wake-up drains
//! everything pending, applies it, runs the resulting effects, and draws once if something
//! visible changed: at most ~60 frames a second, at once for the echo of a key just typed,
//! ~30 a second for the focused pane's output and ~10 for the other panes', and never
//! while nothing changes (timers are set only for shown clocks).

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::Event;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, mpsc, watch};

mod effects;
mod shells;

use super::Backend;
use crate::attach::RemotePanes;
use crate::command::CommandError;
use crate::datadir::DataDir;
use crate::driver::{Notice, Summary};
use crate::model::{now_millis, TaskId};
use crate::ui::modal::{Hit, ReviewDiff};
use crate::ui::term_input::{self, TermEvent};
use crate::ui::update::LoadedGoal;
use crate::ui::update::{self, Then, UiEffect};
use crate::ui::{paint, terminal, Model};

/// Frames are at least this far apart (≈ 60 fps), except for the echo of a typed key.
const FRAME: Duration = Duration::from_micros(16_667);
/// Frames that only show agents' new output come at most ~30 times a second for the
/// focused pane (or a busy parser's pane drawn late)...
const OUTPUT_FRAME: Duration = Duration::from_micros(33_333);
/// ... and ~10 times a second for the other panes, tiled or in the list: still fresh
/// enough to follow, at a third of the frames when 20 agents print (bench row B5).
const BACKGROUND_FRAME: Duration = Duration::from_millis(100);
/// Output from a pane within this long after a key was typed into it draws at once.
const ECHO_WINDOW: Duration = Duration::from_millis(250);
/// Events applied per wake-up at most, so a flood cannot starve drawing.
const MAX_DRAIN: usize = 4096;

/// What background jobs report back to the loop.
enum AppMsg {
    Snapshot(Option<crate::attach::Fresh>),
    Reply {
        label: String,
        then: Then,
        result: Result<serde_json::Value, CommandError>,
    },
    SearchDone {
        query: String,
        hits: Vec<Hit>,
        truncated: bool,
    },
    LogLoaded {
        task: TaskId,
        lines: Vec<String>,
        mark: Option<usize>,
    },
    DiffLoaded {
        task: TaskId,
        diff: Result<ReviewDiff, String>,
    },
    GoalLoaded(Result<LoadedGoal, String>),
    AuditLoaded {
        task: TaskId,
        lines: Result<Vec<String>, String>,
    },
    Tails(Vec<(TaskId, Vec<u8>)>),
    /// The attached board was asked to stop: how that went.
    BoardStopped(Result<(), String>),
    /// A shell pane's shell started (or could not).
    ShellOpened {
        key: TaskId,
        of: crate::ui::pane_view::ShellOf,
        mark: String,
        result: Result<crate::agent::Session, String>,
    },
    /// A shell pane has new output (sent again only once the UI pulled it).
    ShellOutput(TaskId),
    ShellExited {
        key: TaskId,
        code: i32,
    },
}

/// What the loop runs against: the same for a board in this process and an attached one.
pub struct Wiring {
    pub backend: Backend,
    /// Pane output (and, in-process, board) notices.
    pub notices: broadcast::Receiver<Notice>,
    /// Bumped whenever the board changed: read a new snapshot.
    pub summary: watch::Receiver<Summary>,
    /// Attached: the panes fed from the task logs.
    pub remote_panes: Option<RemotePanes>,
    pub data: DataDir,
    pub pane_size: (u16, u16),
    /// Lines a shell pane keeps for scrolling back (the config's `scrollback`).
    pub scrollback: usize,
}

/// Enters the terminal, runs the loop until the user quits, restores the terminal.
pub async fn run(model: Model, w: Wiring) -> Result<i32, String> {
    let mut terminal =
        terminal::Terminal::enter().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let mut app = App::new(model, w.backend, w.pane_size, w.remote_panes, w.data);
    app.scrollback = w.scrollback;
    let r = app.run(&mut terminal, w.notices, w.summary).await;
    terminal.leave();
    r
}

struct App {
    model: Model,
    board: Backend,
    remote_panes: Option<RemotePanes>,
    data: DataDir,
    /// The attached board was asked to stop: its going away is the expected end.
    stopping: bool,
    /// The user's shell panes (`s`).
    shells: shells::Shells,
    scrollback: usize,
    tx: mpsc::UnboundedSender<AppMsg>,
    rx: mpsc::UnboundedReceiver<AppMsg>,
    input: std::sync::Arc<terminal::PaneInput>,
    /// Where the terminal reader types keys in input mode.
    route: term_input::Route,
    snapshot_busy: bool,
    snapshot_again: bool,
    tails_loaded: bool,
    pane_size: (u16, u16),
    /// The pane a key was last typed into, and when.
    typed: Option<(TaskId, Instant)>,
    dirty: bool,
    /// Something besides agents' output changed since the last frame (tree, inbox, status
    /// bar, layout, a modal): the next frame draws everything, not only the panes.
    around: bool,
    /// The least time between the last frame and the next one: ~60 fps for what the user
    /// did or the board changed, ~30 fps when only agents' output changed.
    pace: Duration,
    urgent: bool,
    quit: bool,
    painter: paint::Painter,
}

impl App {
    fn new(
        model: Model,
        board: Backend,
        pane_size: (u16, u16),
        remote_panes: Option<RemotePanes>,
        data: DataDir,
    ) -> App {
        let (tx, rx) = mpsc::unbounded_channel();
        App {
            model,
            board,
            remote_panes,
            data,
            stopping: false,
            shells: shells::Shells::default(),
            scrollback: 1000,
            tx,
            rx,
            input: std::sync::Arc::new(terminal::PaneInput::start()),
            route: term_input::Route::default(),
            snapshot_busy: false,
            snapshot_again: false,
            tails_loaded: false,
            pane_size,
            typed: None,
            dirty: true,
            around: true,
            pace: FRAME,
            urgent: false,
            quit: false,
            painter: paint::Painter::new(),
        }
    }

    async fn run(
        mut self,
        terminal: &mut terminal::Terminal,
        mut notices: broadcast::Receiver<Notice>,
        mut summary: watch::Receiver<Summary>,
    ) -> Result<i32, String> {
        let (_reader, mut events) = term_input::start(self.route.clone(), self.input.clone());
        let mut stop = terminal::stop_signals();
        let mut last_draw = Instant::now() - FRAME;
        // 0 when the user quits; 130 (as headless) when a signal ends it.
        let mut code = 0;
        self.want_snapshot();
        while !self.quit {
            self.model.now = now_millis();
            let tick = self.model.next_change().map(|at| {
                tokio::time::Instant::now()
                    + Duration::from_millis((at - self.model.now).max(0) as u64)
            });
            // While a frame is already due, notices wait for it (drained below): 20 panes
            // each printing would otherwise wake the loop once per pane per frame. Not
            // while an echo may come: it draws at once.
            let listen = !self.dirty || self.urgent || self.echo_awaited();
            let draw_at = self.dirty.then(|| {
                let at = if self.urgent {
                    Instant::now()
                } else {
                    last_draw + self.pace
                };
                // Waiting for a slow (background) frame, look at the notices every
                // OUTPUT_FRAME meanwhile: the focused pane's output draws at its own pace.
                let at = if listen {
                    at
                } else {
                    at.min(Instant::now() + OUTPUT_FRAME)
                };
                tokio::time::Instant::from_std(at)
            });
            let sleep = |at: Option<tokio::time::Instant>| async move {
                match at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                ev = events.recv() => match ev {
                    Some(ev) => self.on_input(ev)?,
                    None => return Ok(code),
                },
                n = notices.recv(), if listen => match n {
                    Ok(n) => self.on_notice(n),
                    Err(RecvError::Lagged(_)) => self.want_snapshot(),
                    Err(RecvError::Closed) => return Err(self.board_gone()),
                },
                Some(msg) = self.rx.recv() => self.on_msg(msg),
                changed = summary.changed() => match changed {
                    Ok(()) => self.want_snapshot(),
                    Err(_) if self.stopping => return Ok(code),
                    Err(_) => return Err(self.board_gone()),
                },
                _ = sleep(draw_at) => {}
                _ = sleep(tick) => {}
                _ = stop.recv() => {
                    self.quit = true;
                    code = crate::headless::EXIT_INTERRUPTED;
                }
            }
            // A shown clock changed (also when another branch won the wake-up).
            if tick.is_some_and(|at| at <= tokio::time::Instant::now()) {
                self.mark();
            }
            // Drain everything pending before drawing once.
            for _ in 0..MAX_DRAIN {
                match events.try_recv() {
                    Ok(ev) => self.on_input(ev)?,
                    Err(_) => break,
                }
            }
            for _ in 0..MAX_DRAIN {
                match notices.try_recv() {
                    Ok(n) => self.on_notice(n),
                    Err(TryRecvError::Lagged(_)) => self.want_snapshot(),
                    Err(TryRecvError::Closed) => return Err(self.board_gone()),
                    Err(TryRecvError::Empty) => match self.rx.try_recv() {
                        Ok(msg) => self.on_msg(msg),
                        Err(_) => break,
                    },
                }
            }
            if self.quit {
                break;
            }
            self.sync_route();
            if self.dirty && (self.urgent || last_draw.elapsed() >= self.pace) {
                self.draw(terminal)
                    .map_err(|e| format!("cannot draw: {e}"))?;
                last_draw = Instant::now();
            }
        }
        tracing::info!(draws = self.painter.draws(), "the TUI is closing");
        Ok(code)
    }

    fn board_gone(&self) -> String {
        match self.board.attached() {
            Some(pid) => format!(
                "the board (pid {pid}) has stopped, and its agents with it: `taskboard up` \
                 starts it again"
            ),
            None => "the board has stopped".into(),
        }
    }

    /// Something besides agents' output changed on screen: draw within a frame.
    fn mark(&mut self) {
        self.around = true;
        self.pace = FRAME;
        self.dirty = true;
    }

    /// A shown pane has new output: draw it at most `pace` after the last frame (or
    /// sooner, if something else wants a frame sooner).
    fn mark_output(&mut self, pace: Duration) {
        self.pace = if self.dirty {
            self.pace.min(pace)
        } else {
            pace
        };
        self.dirty = true;
    }

    /// A key was typed into a pane lately: its output is an echo, drawn at once.
    fn echo_awaited(&self) -> bool {
        self.typed.is_some_and(|(_, at)| at.elapsed() < ECHO_WINDOW)
    }

    fn on_input(&mut self, ev: TermEvent) -> Result<(), String> {
        match ev {
            TermEvent::Event(ev) => self.on_term(&ev),
            TermEvent::Typed(task) => {
                // The reader typed it already; like any key, it ends scrolling back.
                self.typed = Some((task, Instant::now()));
                // A pane's "needs you" flag clears on the next input to it.
                let flagged = self.model.snap.task(task).is_some_and(|t| {
                    t.attention.is_some() && t.status == crate::model::Status::Active
                });
                if flagged {
                    self.board.input_sent(task);
                }
                if let Some(p) = self.model.pane(task).filter(|p| p.scrolled() > 0) {
                    p.scroll(-(isize::MAX / 2));
                    self.mark();
                }
            }
            TermEvent::Failed(e) => return Err(e),
        }
        Ok(())
    }

    /// Points the terminal reader at the pane in input mode (or at none).
    fn sync_route(&mut self) {
        let m = &self.model;
        let want = m
            .focused()
            .filter(|p| m.input && p.running())
            .and_then(|p| p.live_pane().cloned());
        // Compared with the route itself: the reader clears it on the key that leaves.
        if want.as_ref().map(|p| p.task) != self.route.task() {
            self.route.set(want);
        }
    }

    fn on_term(&mut self, ev: &Event) {
        let mut fx = Vec::new();
        update::on_event(&mut self.model, ev, &mut fx);
        self.mark();
        self.run_effects(fx);
    }

    fn on_notice(&mut self, n: Notice) {
        match n {
            Notice::Output(task) => self.on_output(task),
            Notice::PaneOpened { pane, .. } => {
                update::on_pane_opened(&mut self.model, pane);
                self.mark();
            }
            Notice::StorageFailed(e) => {
                self.model
                    .warn(format!("STORAGE ERROR: {e} (changes are not being saved)"));
                self.mark();
            }
            Notice::Transition(_) | Notice::Attention { .. } | Notice::Conflicts { .. } => {
                self.want_snapshot()
            }
        }
    }

    /// Pane `task` (an agent's or a shell's) has new output: a frame, if it is shown.
    fn on_output(&mut self, task: TaskId) {
        let l = &self.model.layout;
        if l.panes.iter().any(|(t, _)| *t == task) || l.list_rows.contains(&task) {
            let focused = self.model.focused().is_some_and(|p| p.task == task);
            self.mark_output(if focused {
                OUTPUT_FRAME
            } else {
                BACKGROUND_FRAME
            });
            if self
                .typed
                .is_some_and(|(t, at)| t == task && at.elapsed() < ECHO_WINDOW)
            {
                self.urgent = true;
            }
        }
    }

    fn on_msg(&mut self, msg: AppMsg) {
        // Output only: not a change around the panes.
        if let AppMsg::ShellOutput(key) = msg {
            return self.on_output(key);
        }
        let mut fx = Vec::new();
        let m = &mut self.model;
        m.now = now_millis();
        match msg {
            AppMsg::Snapshot(fresh) => {
                self.snapshot_busy = false;
                let snap = match fresh {
                    Some(crate::attach::Fresh::Full(snap)) => Some(snap),
                    Some(crate::attach::Fresh::Deltas(ds)) if ds.is_empty() => None,
                    Some(crate::attach::Fresh::Deltas(ds)) => {
                        // Applied to the snapshot shown, in place (no copy of the board).
                        let mut snap = std::mem::take(&mut m.snap);
                        if !ds.iter().all(|d| snap.apply(d)) {
                            self.board.need_full();
                            self.snapshot_again = true;
                        }
                        Some(snap)
                    }
                    None => None,
                };
                if let Some(snap) = snap {
                    update::on_snapshot(m, snap, &mut fx);
                    if let Some(remote) = &mut self.remote_panes {
                        for pane in remote.sync(&m.snap, self.pane_size) {
                            update::on_pane_opened(m, pane);
                        }
                    }
                    if !self.tails_loaded {
                        self.tails_loaded = true;
                        self.load_tails();
                    }
                }
                if std::mem::take(&mut self.snapshot_again) {
                    self.want_snapshot();
                }
            }
            AppMsg::Reply {
                label,
                then,
                result,
            } => update::on_reply(m, label, then, result),
            AppMsg::SearchDone {
                query,
                hits,
                truncated,
            } => update::on_search_done(m, query, hits, truncated),
            AppMsg::LogLoaded { task, lines, mark } => update::on_log_loaded(m, task, lines, mark),
            AppMsg::DiffLoaded { task, diff } => update::on_diff_loaded(m, task, diff),
            AppMsg::GoalLoaded(goal) => update::on_goal_loaded(m, goal, &mut fx),
            AppMsg::AuditLoaded { task, lines } => update::on_audit_loaded(m, task, lines),
            AppMsg::BoardStopped(Ok(())) => self.quit = true,
            AppMsg::BoardStopped(Err(e)) => {
                self.stopping = false;
                m.warn(e);
            }
            AppMsg::ShellOpened {
                key,
                of,
                mark,
                result,
            } => self.on_shell_opened(key, of, mark, result),
            AppMsg::ShellOutput(key) => self.on_output(key),
            AppMsg::ShellExited { key, code } => update::on_shell_exited(m, key, code),
            AppMsg::Tails(tails) => {
                let (rows, cols) = self.pane_size;
                for (task, bytes) in tails {
                    if self.model.pane(task).is_none() {
                        self.model.put_pane(crate::ui::pane_view::PaneView::tail(
                            task, bytes, rows, cols,
                        ));
                    }
                }
            }
        }
        self.mark();
        self.run_effects(fx);
    }

    fn want_snapshot(&mut self) {
        if self.snapshot_busy {
            self.snapshot_again = true;
            return;
        }
        self.snapshot_busy = true;
        let (board, tx) = (self.board.clone(), self.tx.clone());
        tokio::spawn(async move {
            let fresh = board.fresh().await;
            let _ = tx.send(AppMsg::Snapshot(fresh));
        });
    }

    /// After a restart: the saved output of agent tasks of unfinished goals.
    fn load_tails(&self) {
        let ids = terminal::tail_candidates(&self.model.snap);
        let (logs, tx) = (self.model.info.logs.clone(), self.tx.clone());
        tokio::task::spawn_blocking(move || {
            let tails = ids
                .into_iter()
                .filter_map(|id| Some((id, terminal::read_tail(&logs, id)?)))
                .collect();
            let _ = tx.send(AppMsg::Tails(tails));
        });
    }

    fn draw(&mut self, terminal: &mut terminal::Terminal) -> std::io::Result<()> {
        self.model.now = now_millis();
        let only = self.typed.filter(|_| self.urgent).map(|(t, _)| t);
        let deferred =
            self.painter
                .paint(&mut terminal.inner, &mut self.model, only, !self.around)?;
        self.dirty = deferred;
        self.around = false;
        self.pace = OUTPUT_FRAME;
        self.urgent = false;
        Ok(())
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::io::stdout().flush();
    }
}

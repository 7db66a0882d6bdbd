//! The TUI: started on a data dir, it runs the board in this process, or, when a board
//! already runs there (`taskboard up`), attaches to it (ARCHITECTURE §1). Either way the
//! same loop (`run`), views and keys; `backend` is where commands go, and panes are fed by
//! the board's PTY readers or by the task logs (`crate::attach`).

mod backend;
mod run;

use std::io::IsTerminal;

use tokio::sync::broadcast::error::RecvError;

use crate::command::Command;
use crate::config::keymap::Keymap;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::driver::{BoardHandle, Notice};
use crate::failure::Failure;
use crate::model::{now_millis, NewTask, TaskId};
use crate::ui::{layout, Info, Model};

pub use backend::Backend;

pub struct TuiOpts {
    /// A goal to add once the board runs (`taskboard run FILE`).
    pub goal: Option<NewTask>,
    pub listen: Option<String>,
    /// Approve every human gate as it comes (`--auto-approve`), as headless does.
    pub auto_approve: bool,
}

/// Runs the TUI on this terminal until the user quits (or detaches); the exit code.
pub fn main(data: &DataDir, config: &Config, opts: TuiOpts) -> Result<i32, Failure> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "the TUI needs a terminal: use `--headless` to run without one",
        ));
    }
    let keymap = Keymap::new(&config.keys).map_err(Failure::usage)?;
    let rt = crate::failure::runtime()?;
    let (w, h) = crossterm::terminal::size().unwrap_or((120, 40));
    let pane_size = (
        h.saturating_sub(3).max(4),
        (w - layout::left_width(w).min(w)).saturating_sub(2).max(20),
    );
    if let Some(pid) = data.running_pid() {
        if opts.goal.is_some() || opts.listen.is_some() || opts.auto_approve {
            return Err(Failure {
                message: format!(
                    "a board already runs on {} (pid {pid}): `taskboard add FILE` adds a goal \
                     to it, `taskboard` attaches to it, `taskboard down` stops it",
                    data.root.display()
                ),
                code: 3,
            });
        }
        return rt.block_on(attached(data, config, keymap, pane_size, pid));
    }
    rt.block_on(in_process(data, config, keymap, pane_size, opts))
}

/// The board in this process: quitting ends it and its agents.
async fn in_process(
    data: &DataDir,
    config: &Config,
    keymap: Keymap,
    pane_size: (u16, u16),
    opts: TuiOpts,
) -> Result<i32, Failure> {
    let wiring = crate::runtime::Wiring {
        listen: opts.listen.clone(),
        pane_size: Some(pane_size),
        notices_from_start: false,
    };
    let running = crate::runtime::start_board(data, config, wiring).map_err(|e| Failure {
        message: e.to_string(),
        code: e.exit_code(),
    })?;
    let notices = running.handle.subscribe();
    if opts.auto_approve {
        tokio::spawn(auto_approve(running.handle.clone()));
    }
    let mut first_goal = None;
    if let Some(goal) = opts.goal {
        let cmd = Command::AddGoal {
            goal: Box::new(goal),
        };
        match running.handle.command(cmd, "tui").await {
            Ok(v) => first_goal = v["id"].as_u64(),
            Err(e) => {
                running.shutdown().await;
                return Err(Failure {
                    message: format!("cannot add the goal: {e}"),
                    code: 1,
                });
            }
        }
    }
    let listen = running
        .listener
        .url
        .trim_start_matches("http://")
        .to_string();
    let mut model = new_model(data, config, keymap, listen, None);
    model.want = first_goal;
    let wiring = run::Wiring {
        backend: Backend::Local(running.handle.clone()),
        notices,
        summary: running.handle.summary(),
        remote_panes: None,
        data: data.clone(),
        pane_size,
        scrollback: config.scrollback,
    };
    let result = run::run(model, wiring).await;
    running.shutdown().await;
    result.map_err(|message| Failure { message, code: 1 })
}

/// Attached to the board `pid` runs: quitting detaches and leaves it and its agents running.
async fn attached(
    data: &DataDir,
    config: &Config,
    keymap: Keymap,
    pane_size: (u16, u16),
    pid: u32,
) -> Result<i32, Failure> {
    let a = crate::attach::connect(data, pid, config.scrollback)
        .await
        .map_err(|message| Failure { message, code: 3 })?;
    let listen = std::fs::read_to_string(data.endpoint())
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string))
        .unwrap_or_default()
        .trim_start_matches("http://")
        .to_string();
    let model = new_model(data, config, keymap, listen, Some(pid));
    let wiring = run::Wiring {
        backend: Backend::Remote(a.remote),
        notices: a.notices,
        summary: a.summary,
        remote_panes: Some(a.panes),
        data: data.clone(),
        pane_size,
        scrollback: config.scrollback,
    };
    let code = run::run(model, wiring)
        .await
        .map_err(|message| Failure { message, code: 1 })?;
    if data.running_pid() == Some(pid) {
        eprintln!(
            "detached: the board (pid {pid}) keeps running its agents; `taskboard` attaches \
             again, `taskboard down` stops it"
        );
    } else {
        eprintln!("the board (pid {pid}) has stopped");
    }
    Ok(code)
}

fn new_model(
    data: &DataDir,
    config: &Config,
    keymap: Keymap,
    listen: String,
    attached: Option<u32>,
) -> Model {
    let info = Info {
        listen,
        logs: data.logs(),
        diffs: data.root.join("diffs"),
        default_agent: config.default_agent.clone(),
        bell: config.bell,
        cwd: std::env::current_dir().unwrap_or_default(),
        attached,
    };
    Model::new(
        info,
        keymap,
        crate::ui::theme::Theme::from_env(),
        now_millis(),
    )
}

/// Approves every task that waits for a decision, now and whenever one starts to.
async fn auto_approve(board: BoardHandle) {
    let mut notices = board.subscribe();
    loop {
        let waiting: Vec<TaskId> = board
            .query(|b| {
                b.tasks()
                    .filter(|t| t.awaits_decision())
                    .map(|t| t.id)
                    .collect()
            })
            .await
            .unwrap_or_default();
        for task in waiting {
            let cmd = Command::Decide {
                task,
                decision: crate::command::Decision::Approve,
                comment: None,
                diff_hash: None,
            };
            if let Err(e) = board.command(cmd, "auto-approve").await {
                tracing::warn!(task, "auto-approve failed: {e}");
            }
        }
        loop {
            match notices.recv().await {
                Ok(Notice::Attention { .. }) | Err(RecvError::Lagged(_)) => break,
                Ok(_) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }
}

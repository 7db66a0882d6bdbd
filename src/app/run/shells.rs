//! The TUI's shell panes (`s`), on the app loop's side: each is a PTY session of this
//! process (never the board's: not in its state, store or API, and the same when attached),
//! started with the crate's agent PTY code so its pane is an ordinary live pane. Its reader
//! and waiter report through the loop's channel; closing a pane, and quitting, stop the
//! shell's process group (hang-up, then TERM, KILL after a grace) and whatever carries its
//! environment marker, so no shell outlives its pane.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::*;
use crate::agent::{self, procs, Session, Sinks, SpawnRequest};
use crate::ui::pane_view::{ShellOf, SHELL_KEYS};

/// How long a closed shell gets to exit after its hang-up before it is killed.
const GRACE: Duration = Duration::from_secs(2);

/// The shells this TUI runs, by pane key.
#[derive(Default)]
pub(super) struct Shells {
    open: HashMap<TaskId, Open>,
    /// Shells being stopped: quitting waits for them.
    closing: Vec<std::thread::JoinHandle<()>>,
}

struct Open {
    session: Session,
    /// `TASKBOARD_MARK` of everything the shell starts.
    mark: String,
}

/// `TASKBOARD_MARK` for shell pane `key` of this process: distinct from the board's marks
/// (`<board-id>:…`), so a board's sweep never takes a user's shell for an agent.
fn mark_of(key: TaskId) -> String {
    format!(
        "tui-shell:{}:{}",
        std::process::id(),
        key.saturating_sub(SHELL_KEYS)
    )
}

impl Shells {
    /// Stops the shell of pane `key` (if it still runs) and forgets it, off the loop.
    fn close(&mut self, key: TaskId) {
        let Some(o) = self.open.remove(&key) else {
            return;
        };
        if o.session.pane.exited.load(Ordering::Acquire) {
            // Its waiter reaped it and ended what carried its mark: its pid may be reused.
            return;
        }
        self.closing.retain(|t| !t.is_finished());
        match stop(o) {
            Ok(t) => self.closing.push(t),
            Err(e) => tracing::warn!("cannot stop a shell: {e}"),
        }
    }

    /// Stops every shell still running, all at once, and waits for them (at most `GRACE`).
    fn close_all(&mut self) {
        let running = self
            .open
            .drain()
            .filter(|(_, o)| !o.session.pane.exited.load(Ordering::Acquire));
        let stopping: Vec<_> = running.filter_map(|(_, o)| stop(o).ok()).collect();
        for t in stopping.into_iter().chain(self.closing.drain(..)) {
            let _ = t.join();
        }
    }
}

/// Hangs up on a shell's process group in a thread of its own (it may wait `GRACE`).
fn stop(o: Open) -> std::io::Result<std::thread::JoinHandle<()>> {
    let pid = o.session.pane.pid;
    std::thread::Builder::new()
        .name(format!("shell-close-{pid}"))
        .spawn(move || procs::hang_up_group(pid, Some(&o.mark), GRACE))
}

impl Drop for Shells {
    /// Quitting the TUI, by any path, closes its shells.
    fn drop(&mut self) {
        self.close_all();
    }
}

impl App {
    /// `UiEffect::OpenShell`: starts the shell in a PTY off the loop (fork/exec blocks);
    /// `AppMsg::ShellOpened` brings its pane back.
    pub(super) fn open_shell(&mut self, key: TaskId, of: ShellOf) {
        let spec = match crate::shell::spec(&of.dir, of.task) {
            Ok(spec) => spec,
            Err(e) => return update::on_shell_opened(&mut self.model, key, of, Err(e)),
        };
        let mark = mark_of(key);
        let mut env = spec.env;
        env.push((procs::MARK.into(), mark.clone()));
        // Sized like the focused pane until the next layout gives it its own rect.
        let (rows, cols) = self
            .model
            .focused()
            .map(|p| p.size())
            .filter(|(r, c)| *r > 2 && *c > 2)
            .unwrap_or(self.pane_size);
        let req = SpawnRequest {
            task: key,
            attempt: 0,
            argv: vec![spec.program],
            cwd: spec.dir,
            env,
            env_remove: spec.env_remove,
            log_path: None,
            rows,
            cols,
            scrollback: self.scrollback,
            attention: Vec::new(),
        };
        let (exited_tx, output_tx) = (self.tx.clone(), self.tx.clone());
        let sinks = Sinks {
            attention: Arc::new(|_, _| {}),
            exited: Arc::new(move |x: agent::Exit| {
                let _ = exited_tx.send(AppMsg::ShellExited {
                    key: x.task,
                    code: x.code,
                });
            }),
            output: Arc::new(move |key| {
                let _ = output_tx.send(AppMsg::ShellOutput(key));
            }),
        };
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = agent::spawn(req, sinks).map_err(|e| e.to_string());
            let _ = tx.send(AppMsg::ShellOpened {
                key,
                of,
                mark,
                result,
            });
        });
    }

    pub(super) fn on_shell_opened(
        &mut self,
        key: TaskId,
        of: ShellOf,
        mark: String,
        result: Result<Session, String>,
    ) {
        let pane = result.map(|session| {
            let pane = session.pane.clone();
            self.shells.open.insert(key, Open { session, mark });
            pane
        });
        update::on_shell_opened(&mut self.model, key, of, pane);
        // The pane may have been refused (it never is today): then it goes at once.
        if self.model.pane(key).is_none() {
            self.shells.close(key);
        }
    }

    /// `UiEffect::CloseShell`: the pane is gone from the model; its shell goes too.
    pub(super) fn close_shell(&mut self, key: TaskId) {
        self.shells.close(key);
    }
}

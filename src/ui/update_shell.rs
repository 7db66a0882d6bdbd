//! Shell panes (`s`): the key asks the app loop for a shell in the target task's directory,
//! the pane it opens takes focus in typing mode, an ended shell's pane stays (showing how
//! it ended) until `w` closes it, and `w` on a running one closes it with its shell. Pure:
//! the PTY and the processes are the app loop's (`UiEffect::OpenShell`/`CloseShell`).

use super::pane_view::{PaneView, ShellOf, SHELL_KEYS};
use super::tui_model::{Focus, Model};
use super::update::UiEffect;
use crate::agent::PaneRef;
use crate::model::TaskId;

/// `s`: a shell pane in the target task's worktree (or its goal's repository for a task
/// that works in place); a message and nothing else when the task has no such directory.
pub fn open(m: &mut Model, out: &mut Vec<UiEffect>) {
    let Some(t) = m.target().and_then(|id| m.snap.task(id)) else {
        return m.warn("select a task first");
    };
    match crate::model::shell_dir(t, m.snap.task(t.goal)) {
        Ok(dir) => {
            let of = ShellOf {
                task: t.id,
                title: t.spec.title.clone(),
                dir,
                exit: None,
            };
            m.shells_opened += 1;
            let key = SHELL_KEYS + m.shells_opened;
            m.say(format!("opening a shell in {}…", of.dir.display()));
            out.push(UiEffect::OpenShell { key, of });
        }
        Err(why) => m.warn(why),
    }
}

/// The app loop started the shell (`Ok`: its pane, keyed `key`) or could not. The new
/// pane takes focus in typing mode, as `Enter` on an agent's pane would.
pub fn on_shell_opened(m: &mut Model, key: TaskId, of: ShellOf, result: Result<PaneRef, String>) {
    let pane = match result {
        Ok(pane) if pane.task == key => pane,
        Ok(_) => return m.warn("the shell pane came back under another key (a bug)"),
        Err(e) => return m.warn(format!("cannot open a shell for #{}: {e}", of.task)),
    };
    let dir = of.dir.display().to_string();
    m.put_pane(PaneView::shell(pane, of));
    m.focused_pane = Some(key);
    m.focus = Focus::Panes;
    m.input = true;
    m.say(format!(
        "shell in {dir} · ctrl-g leaves typing · {} closes it",
        m.keymap.first(crate::config::keymap::Action::Dismiss)
    ));
}

/// The shell of pane `key` ended by itself (`exit`, or killed from elsewhere): its pane
/// stays, with its last screen, until `w` closes it.
pub fn on_shell_exited(m: &mut Model, key: TaskId, code: i32) {
    let Some(p) = m.panes.iter_mut().find(|p| p.task == key) else {
        return;
    };
    let Some(of) = p.shell.as_mut() else { return };
    of.exit = Some(code);
    let task = of.task;
    if m.input && m.focused().is_some_and(|p| p.task == key) {
        m.input = false;
    }
    m.say(format!(
        "the shell of #{task} ended (exit {code}) · {} closes its pane",
        m.keymap.first(crate::config::keymap::Action::Dismiss)
    ));
}

/// `w` on shell pane `key`: the pane goes, and the app loop stops the shell (if it still
/// runs) and everything it started.
pub fn close(m: &mut Model, key: TaskId, out: &mut Vec<UiEffect>) {
    let Some(task) = m.pane(key).map(PaneView::owner) else {
        return;
    };
    m.panes.retain(|p| p.task != key);
    if m.focused_pane == Some(key) {
        m.focused_pane = None;
        m.zoom = false;
        m.input = false;
    }
    if m.focused().is_none() {
        m.focus = Focus::Tree;
    }
    out.push(UiEffect::CloseShell { key });
    m.say(format!("closed the shell of #{task}"));
}

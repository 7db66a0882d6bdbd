//! The update rules of shell panes (`s`), without a terminal or a board: which task and
//! directory `s` asks a shell for (or why not), the pane taking focus in typing mode, an
//! ended shell's pane, and `w` closing one (ARCHITECTURE §4/§8; end to end in
//! tests/tui_shell.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::ui_fixture::*;
use crossterm::event::{KeyCode, KeyModifiers};
use taskboard::config::keymap::Action;
use taskboard::model::TaskId;
use taskboard::ui::pane_view::{ShellOf, SHELL_KEYS};
use taskboard::ui::update::{self, UiEffect};
use taskboard::ui::{Focus, Model};

fn with_worktree() -> Model {
    let t = with(tasks(), "Build", |t| {
        t.workdir = Some(taskboard::model::WorkDir {
            path: "/wt/1-2".into(),
            branch: "taskboard/x/2-build".into(),
            base: "abc".into(),
        })
    });
    model(t)
}

/// `s` on `task`: the one effect it asks for, a shell pane's key and what it opens for.
fn open_shell(m: &mut Model, task: TaskId) -> (TaskId, ShellOf) {
    m.reveal(task);
    match act(m, Action::Shell).as_slice() {
        [UiEffect::OpenShell { key, of }] => (*key, of.clone()),
        other => panic!("expected one OpenShell, got {} effects", other.len()),
    }
}

#[test]
fn s_asks_for_a_shell_pane_in_the_worktree_or_says_why_not() {
    let mut m = with_worktree();
    let build = id(&m, "Build");
    let (shell_key, of) = open_shell(&mut m, build);
    assert_eq!(of.task, build);
    assert_eq!(of.title, "Build");
    assert_eq!(of.dir, Path::new("/wt/1-2"));
    assert!(
        shell_key > SHELL_KEYS && m.snap.task(shell_key).is_none(),
        "{shell_key}"
    );
    // Each shell pane has a key of its own.
    assert_eq!(open_shell(&mut m, build).0, shell_key + 1);
    // No worktree yet, and a gate: a message, no shell.
    for (title, why) in [
        ("Release", "no worktree yet"),
        ("Gate", "human review task"),
    ] {
        let t = id(&m, title);
        m.reveal(t);
        assert!(act(&mut m, Action::Shell).is_empty(), "{title}");
        assert!(
            m.message
                .as_ref()
                .is_some_and(|x| x.error && x.text.contains(why)),
            "{title}: {:?}",
            m.message.as_ref().map(|x| &x.text)
        );
    }
    assert_eq!(m.shells_opened, 2, "a refused s opens nothing");
}

#[test]
fn an_opened_shell_pane_takes_the_keys_and_w_closes_it() {
    let mut m = with_worktree();
    let build = id(&m, "Build");
    let (shell_key, of) = open_shell(&mut m, build);
    update::on_shell_opened(&mut m, shell_key, of, Ok(live_pane(shell_key)));
    assert_eq!(m.focus, Focus::Panes);
    assert_eq!(m.focused().map(|p| p.task), Some(shell_key));
    assert!(m.input, "the shell takes the keys at once");
    // Keys go to the shell, `q` and `w` included.
    let fx = press(&mut m, KeyCode::Char('w'));
    assert!(
        matches!(fx.as_slice(), [UiEffect::Write { pane, bytes }] if pane.task == shell_key && bytes == b"w")
    );
    key(&mut m, KeyCode::Char('g'), KeyModifiers::CONTROL);
    assert!(!m.input);
    // Commands act on the shell's task, and quitting does not count it as an agent.
    assert_eq!(m.target(), Some(build));
    assert_eq!(m.live_agents(), 0);
    // Outside typing mode, `w` closes the pane and asks for the shell to be stopped.
    let fx = press(&mut m, KeyCode::Char('w'));
    assert!(matches!(fx.as_slice(), [UiEffect::CloseShell { key: k }] if *k == shell_key));
    assert!(m.pane(shell_key).is_none());
    assert!(m
        .message
        .as_ref()
        .is_some_and(|x| x.text.contains("closed the shell of #")));
    assert_eq!(m.focus, Focus::Tree);
}

#[test]
fn an_ended_shell_keeps_its_pane_until_w_and_a_failed_one_says_why() {
    let mut m = with_worktree();
    let build = id(&m, "Build");
    let (shell_key, of) = open_shell(&mut m, build);
    let pane = live_pane(shell_key);
    update::on_shell_opened(&mut m, shell_key, of.clone(), Ok(pane.clone()));
    pane.exited
        .store(true, std::sync::atomic::Ordering::Release);
    update::on_shell_exited(&mut m, shell_key, 3);
    assert!(!m.input, "typing mode ends with the shell");
    let p = m.pane(shell_key).expect("the pane stays");
    assert_eq!(p.shell.as_ref().and_then(|s| s.exit), Some(3));
    assert!(m
        .message
        .as_ref()
        .is_some_and(|x| x.text.contains("ended (exit 3)")));
    assert!(matches!(
        press(&mut m, KeyCode::Char('w')).as_slice(),
        [UiEffect::CloseShell { key: k }] if *k == shell_key
    ));
    assert!(m.pane(shell_key).is_none());
    // The app loop could not start it: a message, no pane.
    let (shell_key, of) = open_shell(&mut m, build);
    update::on_shell_opened(&mut m, shell_key, of, Err("no PTY left".into()));
    assert!(m.pane(shell_key).is_none());
    assert!(m
        .message
        .as_ref()
        .is_some_and(|x| x.error && x.text.contains("no PTY left")));
}

//! How the model changes on keys and actions (board commands, decisions, panes, forms):
//! model changes plus effects (board commands, bytes for a pane, searches) that the app loop
//! runs. Moving around is in `update_nav`, what comes back from the board in
//! `update_results`. No IO here, so every rule is testable without a terminal or a board.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::keys;
use super::modal::{
    Approval, Comment, Confirm, DiffState, GoalForm, Modal, OpenForm, Pending, Search, TextView,
};
use super::pane_view::{PaneView, ShellOf};
use super::tui_model::{Focus, Model};
use super::update_nav;
pub use super::update_results::{
    on_audit_loaded, on_diff_loaded, on_goal_loaded, on_log_loaded, on_pane_opened, on_reply,
    on_search_done, on_snapshot, stale, LoadedGoal,
};
pub use super::update_shell::{on_shell_exited, on_shell_opened};
use crate::agent::PaneRef;
use crate::command::{Command, Decision};
use crate::config::keymap::Action;
use crate::model::{Kind, Status, TaskId};

/// What the app loop must do for the model.
pub enum UiEffect {
    /// Send a command to the board as `tui`; `label` is said when it succeeds.
    Send {
        cmd: Command,
        label: String,
        then: Then,
    },
    Write {
        pane: PaneRef,
        bytes: Vec<u8>,
    },
    Search {
        query: String,
    },
    OpenLog {
        task: TaskId,
        line: Option<usize>,
    },
    LoadDiff {
        task: TaskId,
    },
    /// Read a task's audit trail (from the store, read-only).
    LoadAudit {
        task: TaskId,
    },
    /// Add tasks under a group: `tasks` in-process; `body` (`{"tasks": [...]}` in the goal
    /// file's task schema) for an attached board (`POST /api/tasks/:id/subtasks`).
    AddTasks {
        parent: TaskId,
        tasks: Vec<crate::model::NewTask>,
        body: serde_json::Value,
    },
    /// Open a shell pane keyed `key` (`pane_view::SHELL_KEYS` and up) in `of.dir`, owned
    /// by this process (never the board), and report with `on_shell_opened`.
    OpenShell {
        key: TaskId,
        of: ShellOf,
    },
    /// Close the shell pane `key`: its shell and whatever it started are stopped.
    CloseShell {
        key: TaskId,
    },
    LoadGoal {
        path: PathBuf,
        vars: BTreeMap<String, String>,
    },
    /// Add a goal: `goal` for a board in this process; `body` (the goal file as JSON, its
    /// repo absolute) for an attached one, which takes goals as `POST /api/goals`.
    AddGoal {
        goal: Box<crate::model::NewTask>,
        body: serde_json::Value,
    },
    /// Ring the outer terminal (BEL + OSC 9 with `text`).
    Bell {
        text: String,
    },
    /// Detach, or end the board in this process.
    Quit,
    /// Stop the attached board (and its agents), then quit.
    StopBoard,
}

/// What to do with a successful reply besides saying its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    Nothing,
    /// Close the goal form and select the new goal (`{"id": …}` in the reply).
    CloseForm,
}

pub fn on_event(m: &mut Model, ev: &Event, out: &mut Vec<UiEffect>) {
    match ev {
        Event::Key(k) => on_key(m, k, out),
        Event::Mouse(me) => update_nav::on_mouse(m, me),
        Event::Paste(text) => on_paste(m, text, out),
        _ => {}
    }
}

pub fn on_key(m: &mut Model, k: &KeyEvent, out: &mut Vec<UiEffect>) {
    if k.kind == KeyEventKind::Release {
        return;
    }
    if m.modal.is_some() {
        super::update_modal::on_key(m, k, out);
    } else if m.input {
        input_key(m, k, out);
    } else if let Some(a) = m.keymap.action(k) {
        act(m, a, out);
    }
}

fn input_key(m: &mut Model, k: &KeyEvent, out: &mut Vec<UiEffect>) {
    if k.code == KeyCode::Char('g') && k.modifiers.contains(KeyModifiers::CONTROL) {
        m.input = false;
        return;
    }
    let Some(p) = m.focused() else {
        m.input = false;
        return;
    };
    let (task, shell) = (p.owner(), p.shell.is_some());
    let Some(pane) = p.live_pane().filter(|_| p.running()).cloned() else {
        m.input = false;
        m.warn(if shell {
            format!("the shell of #{task} has ended; input mode left")
        } else {
            format!("#{task}'s session has ended; input mode left")
        });
        return;
    };
    let app_cursor = p.app_cursor();
    if p.scrolled() > 0 {
        p.scroll(-(isize::MAX / 2));
    }
    if let Some(bytes) = keys::encode(k, app_cursor) {
        out.push(UiEffect::Write { pane, bytes });
    }
}

fn on_paste(m: &mut Model, text: &str, out: &mut Vec<UiEffect>) {
    if let Some(modal) = &mut m.modal {
        super::update_modal::on_paste(modal, text);
    } else if m.input {
        if let Some(p) = m.focused().filter(|p| p.running()) {
            if let Some(pane) = p.live_pane() {
                let bytes = keys::paste(text, p.bracketed_paste());
                out.push(UiEffect::Write {
                    pane: pane.clone(),
                    bytes,
                });
            }
        }
    }
}

pub fn act(m: &mut Model, a: Action, out: &mut Vec<UiEffect>) {
    let tree = m.focus == Focus::Tree;
    match a {
        Action::Up if tree => update_nav::move_sel(m, -1),
        Action::Down if tree => update_nav::move_sel(m, 1),
        Action::Fold if tree => update_nav::fold(m),
        Action::Unfold if tree => update_nav::unfold(m),
        Action::Up => update_nav::move_pane(m, 0, -1),
        Action::Down => update_nav::move_pane(m, 0, 1),
        Action::Fold => update_nav::move_pane(m, -1, 0),
        Action::Unfold => update_nav::move_pane(m, 1, 0),
        Action::Focus => {
            if tree && m.focused().is_some() {
                m.focused_pane = m.focused().map(|p| p.task);
                m.focus = Focus::Panes;
            } else {
                m.focus = Focus::Tree;
                m.zoom = false;
            }
        }
        Action::NextAttention => next_attention(m, out),
        Action::Approve | Action::Reject | Action::RequestChanges => {
            let Some(task) = m.target() else {
                return m.warn("select a task waiting for a decision first");
            };
            let held = m.snap.task(task).is_some_and(|t| t.permission.is_some());
            if held && a != Action::RequestChanges {
                return answer_permission(m, task, a == Action::Approve, out);
            }
            match a {
                Action::Approve => open_approval(m, task, out),
                Action::Reject => open_comment(m, task, Decision::Reject),
                _ => open_comment(m, task, Decision::RequestChanges),
            }
        }
        Action::Input => enter(m, out),
        Action::Zoom => match m.focused().map(|p| p.task) {
            Some(t) => {
                m.zoom = !m.zoom;
                m.focused_pane = Some(t);
                m.focus = Focus::Panes;
            }
            None => m.warn("no pane to zoom"),
        },
        Action::ScrollUp | Action::ScrollDown => {
            let page = m
                .layout
                .panes
                .iter()
                .find(|(t, _)| Some(*t) == m.focused().map(|p| p.task))
                .map(|(_, r)| (r.height / 2).max(1) as isize)
                .unwrap_or(10);
            if let Some(p) = m.focused() {
                p.scroll(if a == Action::ScrollUp { page } else { -page });
            }
        }
        Action::Dismiss => dismiss(m, out),
        Action::Search => m.modal = Some(Modal::Search(Search::new())),
        Action::NewGoal => {
            let repo = m.info.cwd.display().to_string();
            let mut form = GoalForm::new(&m.info.default_agent, &repo);
            super::update_modal::focus_fields(&mut form.fields, 0);
            m.modal = Some(Modal::Goal(form));
        }
        Action::OpenGoal => {
            let mut form = OpenForm::new("");
            super::update_modal::focus_fields(&mut form.fields, 0);
            m.modal = Some(Modal::Open(form));
        }
        Action::Diff => match m.target() {
            Some(task) => {
                let view = TextView::new(
                    task,
                    format!("Diff of #{task}"),
                    vec!["loading…".into()],
                    None,
                );
                m.modal = Some(Modal::Diff(view));
                out.push(UiEffect::LoadDiff { task });
            }
            None => m.warn("select a task first"),
        },
        Action::AddTask => {
            let Some(t) = m.target().and_then(|id| m.snap.task(id)) else {
                return m.warn("select a group (or a task in one) first");
            };
            // On a group: a new child. On a task: a new sibling, in its group.
            let parent = if t.kind == Kind::Group {
                Some(t.id)
            } else {
                t.parent
            };
            let Some(parent) = parent else {
                return m.warn("select a group (or a task in one) first");
            };
            let mut form = GoalForm::task(parent, &m.info.default_agent);
            super::update_modal::focus_fields(&mut form.fields, 0);
            m.modal = Some(Modal::Goal(form));
        }
        Action::EditPrompt => {
            let Some(t) = m.target().and_then(|id| m.snap.task(id)) else {
                return m.warn("select a task first");
            };
            if t.kind != Kind::Agent {
                return m.warn(format!(
                    "#{} has no prompt (it is a {} task)",
                    t.id,
                    t.kind.as_str()
                ));
            }
            if !matches!(t.status, Status::Pending | Status::Blocked | Status::Failed) {
                return m.warn(format!(
                    "#{} is {}: a prompt changes only before the task runs, or once it failed or is blocked",
                    t.id, t.status
                ));
            }
            let lines: Vec<String> = t
                .spec
                .prompt
                .as_deref()
                .unwrap_or("")
                .lines()
                .map(str::to_string)
                .collect();
            let mut editor = ratatui_textarea::TextArea::new(if lines.is_empty() {
                vec![String::new()]
            } else {
                lines
            });
            editor.set_cursor_line_style(ratatui::style::Style::new());
            editor.move_cursor(ratatui_textarea::CursorMove::Bottom);
            editor.move_cursor(ratatui_textarea::CursorMove::End);
            m.modal = Some(Modal::Prompt(super::modal::PromptEdit {
                task: t.id,
                editor,
            }));
        }
        Action::Shell => super::update_shell::open(m, out),
        Action::Audit => match m.target() {
            Some(task) => out.push(UiEffect::LoadAudit { task }),
            None => m.warn("select a task first"),
        },
        Action::Retry | Action::Skip | Action::Stop | Action::Delete => task_command(m, a, out),
        Action::Land => super::update_land::land(m),
        Action::Pause => {
            let (cmd, label) = if m.snap.paused {
                (Command::Resume, "dispatch resumed")
            } else {
                (
                    Command::Pause,
                    "paused: no new work starts (running agents go on)",
                )
            };
            out.push(UiEffect::Send {
                cmd,
                label: label.into(),
                then: Then::Nothing,
            });
        }
        Action::Help => m.modal = Some(Modal::Help { scroll: 0 }),
        Action::Quit if m.info.attached.is_some() => out.push(UiEffect::Quit),
        Action::StopBoard if m.info.attached.is_some() => {
            let pid = m.info.attached.unwrap_or(0);
            let n = m.snap.running();
            m.modal = Some(Modal::Confirm(Confirm {
                question: format!(
                    "Stop the board (pid {pid}) and its {n} running agent session{}, then quit?",
                    if n == 1 { "" } else { "s" }
                ),
                on_yes: Pending::StopBoard,
            }));
        }
        Action::Quit | Action::StopBoard => {
            let n = m.live_agents();
            if n > 0 {
                m.modal = Some(Modal::Confirm(Confirm {
                    question: format!(
                        "{n} agent session{} running; quitting stops {}. Quit?",
                        if n == 1 { " is" } else { "s are" },
                        if n == 1 { "it" } else { "them" }
                    ),
                    on_yes: Pending::Quit,
                }));
            } else {
                out.push(UiEffect::Quit);
            }
        }
    }
}

fn task_command(m: &mut Model, a: Action, out: &mut Vec<UiEffect>) {
    let Some(t) = m.target().and_then(|id| m.snap.task(id)).cloned() else {
        return m.warn("select a task first");
    };
    let id = t.id;
    let running = m
        .snap
        .subtree(id)
        .iter()
        .filter_map(|x| m.snap.task(*x))
        .any(|x| x.kind == Kind::Agent && x.status == Status::Active);
    let (cmd, label, ask) = match a {
        Action::Retry => (
            Command::Retry { task: id },
            format!("#{id} will run again"),
            None,
        ),
        Action::Skip => (
            Command::Skip { task: id },
            format!("#{id} skipped"),
            running.then(|| format!("Skip #{id} {}? Its running agent is stopped.", t.spec.title)),
        ),
        Action::Stop => (
            Command::Stop { task: id },
            format!("#{id} stopped"),
            Some(format!(
                "Stop the running agent of #{id} {}? The task fails.",
                t.spec.title
            )),
        ),
        _ => (
            Command::Delete { task: id },
            format!("#{id} deleted"),
            Some(format!(
                "Delete #{id} {} and everything under it?",
                t.spec.title
            )),
        ),
    };
    match ask {
        Some(question) => {
            m.modal = Some(Modal::Confirm(Confirm {
                question,
                on_yes: Pending::Send { cmd, label },
            }))
        }
        None => out.push(UiEffect::Send {
            cmd,
            label,
            then: Then::Nothing,
        }),
    }
}

fn enter(m: &mut Model, out: &mut Vec<UiEffect>) {
    if m.focus == Focus::Panes {
        match m.focused() {
            Some(p) if p.running() => m.input = true,
            Some(p) => {
                let t = p.owner();
                m.warn(match p.shell {
                    Some(_) => format!("the shell of #{t} has ended: w closes its pane"),
                    None => format!("#{t}'s session has ended: nothing to type into"),
                })
            }
            None => m.focus = Focus::Tree,
        }
        return;
    }
    let Some(t) = m.selected.and_then(|s| m.snap.task(s)).cloned() else {
        return;
    };
    if m.pane(t.id).is_some_and(PaneView::running) {
        m.focused_pane = Some(t.id);
        m.focus = Focus::Panes;
        m.input = true;
    } else if t.awaits_decision() {
        open_approval(m, t.id, out);
    } else if !t.children.is_empty() {
        if !m.folded.remove(&t.id) {
            m.folded.insert(t.id);
        }
        m.rebuild_rows();
    } else if m.pane(t.id).is_some() {
        m.focused_pane = Some(t.id);
        m.focus = Focus::Panes;
    }
}

fn dismiss(m: &mut Model, out: &mut Vec<UiEffect>) {
    let target = match m.focus {
        Focus::Panes => m.focused().map(|p| p.task),
        Focus::Tree => m.selected.filter(|s| m.pane(*s).is_some()),
    };
    let Some(task) = target else {
        return m.warn("no pane to close");
    };
    if m.pane(task).is_some_and(|p| p.shell.is_some()) {
        return super::update_shell::close(m, task, out);
    }
    if m.pane(task).is_some_and(PaneView::running) {
        return m.warn(format!(
            "#{task} is still running: stop it first ({})",
            m.keymap.first(Action::Stop)
        ));
    }
    m.panes.retain(|p| p.task != task);
    if m.focused_pane == Some(task) {
        m.focused_pane = None;
        m.zoom = false;
    }
    if m.focused().is_none() {
        m.focus = Focus::Tree;
    }
    m.say(format!("closed the pane of #{task}"));
}

/// `!`: the oldest item that needs you, selected and opened.
pub fn next_attention(m: &mut Model, out: &mut Vec<UiEffect>) {
    let Some(item) = m.inbox.first().cloned() else {
        return m.say("nothing needs you");
    };
    m.reveal(item.task);
    m.focus = Focus::Tree;
    m.zoom = false;
    let Some(t) = m.snap.task(item.task).cloned() else {
        return;
    };
    if let Some(ask) = &t.permission {
        m.say(format!(
            "#{} asks to run {} · a allows · x denies",
            t.id,
            ask.summary()
        ));
    } else if t.awaits_decision() {
        open_approval(m, t.id, out);
    } else if t.status == Status::Blocked {
        m.modal = Some(Modal::Blocked { task: t.id });
    } else if m.pane(t.id).is_some_and(PaneView::running) {
        m.focused_pane = Some(t.id);
        m.focus = Focus::Panes;
        m.input = true;
        m.say(format!(
            "#{} needs you: {} · typing into it, ctrl-g leaves",
            t.id, item.why
        ));
    } else {
        m.say(format!("#{} needs you: {}", t.id, item.why));
    }
}

/// `a` on a held tool call allows it at once; `x` asks for an optional reason first.
fn answer_permission(m: &mut Model, task: TaskId, allow: bool, out: &mut Vec<UiEffect>) {
    if allow {
        out.push(UiEffect::Send {
            cmd: Command::AnswerPermission {
                task,
                allow: true,
                reason: None,
            },
            label: format!("#{task}'s tool call allowed"),
            then: Then::Nothing,
        });
        return;
    }
    let mut editor = ratatui_textarea::TextArea::default();
    editor.set_placeholder_text("why not? (told to the agent; empty is fine)");
    editor.set_cursor_line_style(ratatui::style::Style::new());
    m.modal = Some(Modal::Deny(super::modal::PromptEdit { task, editor }));
}

pub fn open_approval(m: &mut Model, task: TaskId, out: &mut Vec<UiEffect>) {
    let Some(t) = m.snap.task(task) else { return };
    if !t.awaits_decision() {
        return m.warn(format!(
            "#{task} is not waiting for a decision (it is {})",
            t.status
        ));
    }
    m.modal = Some(Modal::Approval(Approval {
        task,
        diff_hash: t.diff_hash.clone(),
        diff: DiffState::Loading,
        stale: None,
    }));
    out.push(UiEffect::LoadDiff { task });
}

pub fn open_comment(m: &mut Model, task: TaskId, decision: Decision) {
    let Some(t) = m.snap.task(task) else { return };
    if !t.awaits_decision() {
        return m.warn(format!(
            "#{task} is not waiting for a decision (it is {})",
            t.status
        ));
    }
    let mut editor = ratatui_textarea::TextArea::default();
    editor.set_placeholder_text(match decision {
        Decision::Reject => "why is it rejected?",
        _ => "what should change? (sent to the agent)",
    });
    editor.set_cursor_line_style(ratatui::style::Style::new());
    m.modal = Some(Modal::Comment(Comment {
        task,
        decision,
        diff_hash: t.diff_hash.clone(),
        editor,
        stale: None,
    }));
}

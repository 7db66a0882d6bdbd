//! Keys while a modal is open: the modal sees them first and acts on what it carries.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Modifier, Style};
use ratatui_textarea::TextArea;

use super::modal::{Comment, Modal, Pending, TextView, GOAL_FIELDS};
use super::tui_model::Model;
use super::update::{open_approval, open_comment, Then, UiEffect};
use crate::command::{Command, Decision};
use crate::config::keymap::Action;

fn ctrl(k: &KeyEvent, c: char) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char(c)
}

fn is_close(k: &KeyEvent) -> bool {
    k.code == KeyCode::Esc
}

/// Shows the cursor only in the active field.
pub fn focus_fields(fields: &mut [TextArea<'static>], active: usize) {
    for (i, f) in fields.iter_mut().enumerate() {
        f.set_cursor_style(if i == active {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        });
    }
}

pub fn on_paste(modal: &mut Modal, text: &str) {
    match modal {
        Modal::Comment(c) => {
            c.editor.insert_str(text);
        }
        Modal::Search(s) => {
            s.query.insert_str(text.replace('\n', " "));
        }
        Modal::Goal(g) => {
            if let Some(f) = g.fields.get_mut(g.active) {
                f.insert_str(text);
            }
        }
        Modal::Open(o) => {
            if let Some(f) = o.fields.get_mut(o.active) {
                f.insert_str(text.replace('\n', " "));
            }
        }
        Modal::Prompt(p) | Modal::Deny(p) => {
            p.editor.insert_str(text);
        }
        _ => {}
    }
}

pub fn on_key(m: &mut Model, k: &KeyEvent, out: &mut Vec<UiEffect>) {
    let action = m.keymap.action(k);
    let page = (m.layout.area.height as usize).saturating_sub(6).max(1);
    let Some(modal) = m.modal.take() else { return };
    m.modal = match modal {
        Modal::Help { scroll } => match k.code {
            KeyCode::Down | KeyCode::Char('j') => Some(Modal::Help {
                scroll: scroll.saturating_add(1),
            }),
            KeyCode::Up | KeyCode::Char('k') => Some(Modal::Help {
                scroll: scroll.saturating_sub(1),
            }),
            KeyCode::Char(' ') | KeyCode::PageDown => Some(Modal::Help {
                scroll: scroll.saturating_add(10),
            }),
            KeyCode::PageUp => Some(Modal::Help {
                scroll: scroll.saturating_sub(10),
            }),
            _ => None,
        },
        Modal::Approval(a) => {
            if is_close(k) || action == Some(Action::Quit) {
                None
            } else if let Some(why) = a.stale.clone().filter(|_| {
                matches!(
                    action,
                    Some(Action::Approve | Action::Reject | Action::RequestChanges)
                )
            }) {
                m.warn(format!("refused: {why}"));
                Some(Modal::Approval(a))
            } else {
                match action {
                    Some(Action::Approve) => {
                        out.push(decide(a.task, Decision::Approve, None, a.diff_hash.clone()));
                        None
                    }
                    Some(Action::Reject) | Some(Action::RequestChanges) => {
                        let d = if action == Some(Action::Reject) {
                            Decision::Reject
                        } else {
                            Decision::RequestChanges
                        };
                        m.modal = None;
                        open_comment(m, a.task, d);
                        if let Some(Modal::Comment(c)) = &mut m.modal {
                            // Decide what the reviewer saw, not whatever is current now.
                            c.diff_hash = a.diff_hash.clone();
                        }
                        m.modal.take()
                    }
                    Some(Action::Diff) => {
                        let lines = match &a.diff {
                            super::modal::DiffState::Ready(d) => d.lines(),
                            super::modal::DiffState::Missing(why) => vec![why.clone()],
                            super::modal::DiffState::Loading => vec!["loading…".into()],
                        };
                        let mut v = TextView::new(
                            a.task,
                            format!("Diff of #{} (Esc returns)", a.task),
                            lines,
                            None,
                        );
                        v.back_to = Some(a.task);
                        Some(Modal::Diff(v))
                    }
                    _ => Some(Modal::Approval(a)),
                }
            }
        }
        Modal::Prompt(mut p) => {
            if k.code == KeyCode::Esc {
                None
            } else if ctrl(k, 's') {
                let prompt = p.editor.lines().join("\n").trim().to_string();
                if prompt.is_empty() {
                    m.warn("the prompt is empty (Esc cancels)");
                    Some(Modal::Prompt(p))
                } else {
                    out.push(UiEffect::Send {
                        cmd: Command::EditPrompt {
                            task: p.task,
                            prompt,
                        },
                        label: format!("#{}'s prompt changed", p.task),
                        then: Then::Nothing,
                    });
                    None
                }
            } else {
                p.editor.input(*k);
                Some(Modal::Prompt(p))
            }
        }
        Modal::Deny(mut p) => {
            if k.code == KeyCode::Esc {
                None
            } else if ctrl(k, 's') {
                let reason = p.editor.lines().join("\n").trim().to_string();
                out.push(UiEffect::Send {
                    cmd: Command::AnswerPermission {
                        task: p.task,
                        allow: false,
                        reason: (!reason.is_empty()).then_some(reason),
                    },
                    label: format!("#{}'s tool call denied", p.task),
                    then: Then::Nothing,
                });
                None
            } else {
                p.editor.input(*k);
                Some(Modal::Deny(p))
            }
        }
        Modal::Comment(mut c) => {
            if is_close(k) {
                m.modal = None;
                open_approval(m, c.task, out);
                m.modal.take()
            } else if ctrl(k, 's') {
                send_comment(m, c, out)
            } else {
                c.editor.input(*k);
                Some(Modal::Comment(c))
            }
        }
        Modal::Confirm(c) => match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                match c.on_yes {
                    Pending::Send { cmd, label } => out.push(UiEffect::Send {
                        cmd,
                        label,
                        then: Then::Nothing,
                    }),
                    Pending::Quit => out.push(UiEffect::Quit),
                    Pending::StopBoard => out.push(UiEffect::StopBoard),
                }
                None
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => None,
            _ => Some(Modal::Confirm(c)),
        },
        Modal::Blocked { task } => match action {
            Some(Action::Retry) => {
                out.push(UiEffect::Send {
                    cmd: Command::Retry { task },
                    label: format!("#{task} will run again"),
                    then: Then::Nothing,
                });
                None
            }
            Some(Action::Skip) => {
                out.push(UiEffect::Send {
                    cmd: Command::Skip { task },
                    label: format!("#{task} skipped"),
                    then: Then::Nothing,
                });
                None
            }
            _ if is_close(k) || action == Some(Action::Quit) => None,
            _ => Some(Modal::Blocked { task }),
        },
        Modal::Search(mut s) => {
            match k.code {
                KeyCode::Esc => return,
                KeyCode::Up => s.selected = s.selected.saturating_sub(1),
                KeyCode::Down => s.selected = (s.selected + 1).min(s.hits.len().saturating_sub(1)),
                _ if ctrl(k, 'p') => s.selected = s.selected.saturating_sub(1),
                _ if ctrl(k, 'n') => {
                    s.selected = (s.selected + 1).min(s.hits.len().saturating_sub(1))
                }
                KeyCode::Enter => {
                    let q = s.text();
                    if s.ran.as_deref() != Some(q.as_str()) {
                        if !q.trim().is_empty() {
                            s.running = true;
                            out.push(UiEffect::Search { query: q });
                        }
                    } else if let Some(hit) = s.hits.get(s.selected).cloned() {
                        m.reveal(hit.task);
                        if m.pane(hit.task).is_some() {
                            m.focused_pane = Some(hit.task);
                        }
                        out.push(UiEffect::OpenLog {
                            task: hit.task,
                            line: Some(hit.line),
                        });
                    }
                }
                _ => {
                    s.query.input(*k);
                }
            }
            Some(Modal::Search(s))
        }
        Modal::Log(v) => scroll_view(v, k, page).map(Modal::Log),
        Modal::Diff(v) => {
            let back = v.back_to;
            match (scroll_view(v, k, page), back) {
                (Some(v), _) => Some(Modal::Diff(v)),
                (None, Some(task)) => {
                    open_approval(m, task, out);
                    m.modal.take()
                }
                (None, None) => None,
            }
        }
        Modal::Goal(mut g) => {
            let n = g.fields.len();
            let prompt = GOAL_FIELDS.iter().position(|f| *f == "Prompt");
            match k.code {
                KeyCode::Esc => return,
                KeyCode::Tab => g.active = (g.active + 1) % n,
                KeyCode::BackTab => g.active = (g.active + n - 1) % n,
                KeyCode::Enter if Some(g.active) != prompt && g.active + 1 < n => g.active += 1,
                KeyCode::Enter if Some(g.active) != prompt => submit_goal(m, &mut g, out),
                _ if ctrl(k, 's') => submit_goal(m, &mut g, out),
                _ => {
                    if let Some(f) = g.fields.get_mut(g.active) {
                        f.input(*k);
                    }
                }
            }
            focus_fields(&mut g.fields, g.active);
            Some(Modal::Goal(g))
        }
        Modal::Open(mut o) => {
            let n = o.fields.len();
            match k.code {
                KeyCode::Esc => return,
                KeyCode::Tab => o.active = (o.active + 1) % n,
                KeyCode::BackTab => o.active = (o.active + n - 1) % n,
                KeyCode::Enter => submit_open(m, &mut o, out),
                _ if ctrl(k, 's') => submit_open(m, &mut o, out),
                _ => {
                    if let Some(f) = o.fields.get_mut(o.active) {
                        f.input(*k);
                    }
                }
            }
            focus_fields(&mut o.fields, o.active);
            Some(Modal::Open(o))
        }
    };
}

fn decide(
    task: u64,
    decision: Decision,
    comment: Option<String>,
    diff_hash: Option<String>,
) -> UiEffect {
    let label = match decision {
        Decision::Approve => format!("#{task} approved"),
        Decision::Reject => format!("#{task} rejected"),
        Decision::RequestChanges => format!("changes requested on #{task}: the agent runs again"),
    };
    UiEffect::Send {
        cmd: Command::Decide {
            task,
            decision,
            comment,
            diff_hash,
        },
        label,
        then: Then::Nothing,
    }
}

fn send_comment(m: &mut Model, c: Comment, out: &mut Vec<UiEffect>) -> Option<Modal> {
    let text = c.editor.lines().join("\n").trim().to_string();
    if let Some(why) = &c.stale {
        m.warn(format!("refused: {why}"));
        return Some(Modal::Comment(c));
    }
    if text.is_empty() {
        m.warn("write a comment first (Esc cancels)");
        return Some(Modal::Comment(c));
    }
    out.push(decide(c.task, c.decision, Some(text), c.diff_hash.clone()));
    None
}

fn scroll_view(mut v: TextView, k: &KeyEvent, page: usize) -> Option<TextView> {
    let last = v.lines.len().saturating_sub(1);
    match k.code {
        KeyCode::Esc | KeyCode::Char('q') => return None,
        KeyCode::Down | KeyCode::Char('j') => v.top = (v.top + 1).min(last),
        KeyCode::Up | KeyCode::Char('k') => v.top = v.top.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => v.top = (v.top + page).min(last),
        KeyCode::PageUp => v.top = v.top.saturating_sub(page),
        KeyCode::Home | KeyCode::Char('g') => v.top = 0,
        KeyCode::End | KeyCode::Char('G') => v.top = last.saturating_sub(page),
        _ => {}
    }
    Some(v)
}

fn submit_goal(m: &Model, g: &mut super::modal::GoalForm, out: &mut Vec<UiEffect>) {
    let (title, prompt, agent, repo) = (g.value(0), g.value(1), g.value(2), g.value(3));
    if title.is_empty() {
        g.error = Some(format!(
            "a {} needs a title",
            if g.parent.is_some() { "task" } else { "goal" }
        ));
        g.active = 0;
        return;
    }
    let mut task = toml::Table::new();
    task.insert("title".into(), title.clone().into());
    if !prompt.is_empty() {
        task.insert("prompt".into(), prompt.into());
    }
    if !agent.is_empty() {
        task.insert("agent".into(), agent.into());
    }
    if let Some(parent) = g.parent {
        let body = serde_json::json!({"tasks": [task]});
        match crate::goalfile::parse_subtasks(&body) {
            Ok(tasks) => {
                g.error = None;
                out.push(UiEffect::AddTasks {
                    parent,
                    tasks,
                    body,
                });
            }
            Err(e) => g.error = Some(e.message()),
        }
        return;
    }
    let mut root = toml::Table::new();
    root.insert("title".into(), title.into());
    let repo = if repo.is_empty() {
        ".".to_string()
    } else {
        repo
    };
    let dir = m.info.cwd.join(&repo);
    // Outside a git repository the agent works in the directory itself.
    if !dir.ancestors().any(|d| d.join(".git").exists()) {
        root.insert("worktree".into(), false.into());
    }
    root.insert("repo".into(), repo.into());
    root.insert(
        "task".into(),
        toml::Value::Array(vec![toml::Value::Table(task)]),
    );
    let text = toml::to_string(&root).unwrap_or_default();
    match crate::goalfile::parse_str(&text, "new goal", &m.info.cwd, &BTreeMap::new()) {
        Ok(goal) => {
            g.error = None;
            // The JSON form takes only an absolute repo.
            if let Some(gs) = &goal.spec.goal {
                root.insert("repo".into(), gs.repo.display().to_string().into());
            }
            out.push(UiEffect::AddGoal {
                goal: Box::new(goal),
                body: serde_json::to_value(&root).unwrap_or_default(),
            });
        }
        Err(e) => g.error = Some(e.message()),
    }
}

fn submit_open(m: &Model, o: &mut super::modal::OpenForm, out: &mut Vec<UiEffect>) {
    let path = o.value(0);
    if path.is_empty() {
        o.error = Some("write the path of a goal file (TOML)".into());
        return;
    }
    let mut vars = BTreeMap::new();
    for word in o.value(1).split_whitespace() {
        match crate::cli::parse_var(word) {
            Ok((k, v)) => {
                vars.insert(k, v);
            }
            Err(e) => {
                o.error = Some(e);
                o.active = 1;
                return;
            }
        }
    }
    let path = std::path::PathBuf::from(shellexpand_home(&path));
    let path = if path.is_absolute() {
        path
    } else {
        m.info.cwd.join(path)
    };
    o.error = None;
    o.busy = true;
    out.push(UiEffect::LoadGoal { path, vars });
}

/// `~/x` → `$HOME/x` (the one expansion people type in a path field).
fn shellexpand_home(p: &str) -> String {
    match (p.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => p.to_string(),
    }
}

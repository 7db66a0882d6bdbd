//! The TUI's update rules without a terminal or a board: selection across updates, the
//! approval modal carrying its task and diff hash, comments, `!`, the bell, forms.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::ui_fixture::*;
use crossterm::event::{KeyCode, KeyModifiers};
use taskboard::board::Board;
use taskboard::command::{Command, Decision};
use taskboard::config::keymap::{Action, Keymap};
use taskboard::model::{Status, Task, TaskId};
use taskboard::ui::modal::Modal;
use taskboard::ui::update::{self, UiEffect};

fn review_waiting(hash: &str) -> Vec<Task> {
    let t = with(tasks(), "Build", |t| t.status = Status::Done);
    with(t, "Gate", |t| {
        t.status = Status::PendingReview;
        t.started_at = Some(NOW - 30_000);
        t.diff_hash = Some(hash.to_string());
    })
}

fn decision(fx: &[UiEffect]) -> Option<(TaskId, Decision, Option<String>, Option<String>)> {
    fx.iter().find_map(|e| match e {
        UiEffect::Send {
            cmd:
                Command::Decide {
                    task,
                    decision,
                    comment,
                    diff_hash,
                },
            ..
        } => Some((*task, *decision, comment.clone(), diff_hash.clone())),
        _ => None,
    })
}

#[test]
fn selection_follows_the_task_across_updates() {
    let mut m = model(tasks());
    let release = id(&m, "Release");
    m.reveal(release);
    let mut fx = Vec::new();
    // Statuses change and another goal arrives: the same task stays selected.
    let mut more = with(tasks(), "Build", |t| t.status = Status::Active);
    let mut b = Board::from_tasks(more.clone(), false);
    let other = taskboard::goalfile::parse_str(
        "title = \"Other\"\n[[task]]\ntitle = \"x\"\nprompt = \"p\"\n",
        "o.toml",
        Path::new("/r"),
        &BTreeMap::new(),
    )
    .expect("goal");
    b.add_goal_offline(other, "test", NOW);
    more = b.tasks().cloned().collect();
    update::on_snapshot(&mut m, snap(more.clone()), &mut fx);
    assert_eq!(m.selected, Some(release));
    // The selected task is deleted: the selection lands on a neighbour, not nowhere.
    let row = m.selected_row();
    more.retain(|t| t.id != release);
    for t in more.iter_mut() {
        t.children.retain(|c| *c != release);
    }
    update::on_snapshot(&mut m, snap(more), &mut fx);
    assert!(m.selected.is_some());
    assert_eq!(m.selected_row(), row.min(m.rows.len() - 1));
}

#[test]
fn fold_and_unfold() {
    let mut m = model(tasks());
    let goal = id(&m, "Ship");
    m.reveal(goal);
    let rows = m.rows.len();
    act(&mut m, Action::Fold);
    assert_eq!(m.rows.len(), rows - 3);
    act(&mut m, Action::Unfold);
    assert_eq!(m.rows.len(), rows);
    act(&mut m, Action::Unfold);
    assert_eq!(
        m.selected,
        Some(id(&m, "Build")),
        "unfolded: l goes to the first child"
    );
    act(&mut m, Action::Fold);
    assert_eq!(m.selected, Some(goal), "on a leaf, h goes to the parent");
}

#[test]
fn bang_opens_the_oldest_decision_and_a_approves_exactly_it() {
    let mut m = model(review_waiting("hash-1"));
    let gate = id(&m, "Gate");
    let fx = act(&mut m, Action::NextAttention);
    assert!(matches!(fx.as_slice(), [UiEffect::LoadDiff { task }] if *task == gate));
    assert!(matches!(&m.modal, Some(Modal::Approval(a)) if a.task == gate));
    assert_eq!(m.selected, Some(gate));
    // The selection moves on; the modal still decides the task it showed.
    m.reveal(id(&m, "Release"));
    let fx = key(&mut m, KeyCode::Char('a'), KeyModifiers::NONE);
    assert_eq!(
        decision(&fx),
        Some((gate, Decision::Approve, None, Some("hash-1".into())))
    );
    assert!(m.modal.is_none());
}

#[test]
fn a_review_opened_before_its_diff_was_recorded_takes_that_diff() {
    let before = with(review_waiting("x"), "Gate", |t| t.diff_hash = None);
    let mut m = model(before);
    let gate = id(&m, "Gate");
    act(&mut m, Action::NextAttention);
    // The board records the review's diff while the modal is open: it is loaded and shown,
    // and approving sends that hash (the modal is not stale).
    let mut fx = Vec::new();
    update::on_snapshot(&mut m, snap(review_waiting("hash-1")), &mut fx);
    assert!(matches!(fx.as_slice(), [UiEffect::LoadDiff { task }] if *task == gate));
    assert!(matches!(&m.modal, Some(Modal::Approval(a)) if a.stale.is_none()));
    let fx = key(&mut m, KeyCode::Char('a'), KeyModifiers::NONE);
    assert_eq!(
        decision(&fx),
        Some((gate, Decision::Approve, None, Some("hash-1".into())))
    );
    // A diff that changes after that is still a changed task.
    let mut m = model(with(review_waiting("x"), "Gate", |t| t.diff_hash = None));
    act(&mut m, Action::NextAttention);
    update::on_snapshot(&mut m, snap(review_waiting("hash-1")), &mut Vec::new());
    update::on_snapshot(&mut m, snap(review_waiting("hash-2")), &mut Vec::new());
    let fx = key(&mut m, KeyCode::Char('a'), KeyModifiers::NONE);
    assert_eq!(decision(&fx), None, "a stale decision is never sent");
}

#[test]
fn a_decision_on_a_changed_task_is_refused() {
    let mut m = model(review_waiting("hash-1"));
    act(&mut m, Action::NextAttention);
    // The agent re-ran: the diff shown is no longer the one under review.
    let mut fx = Vec::new();
    update::on_snapshot(&mut m, snap(review_waiting("hash-2")), &mut fx);
    let fx = key(&mut m, KeyCode::Char('a'), KeyModifiers::NONE);
    assert_eq!(decision(&fx), None, "a stale decision is never sent");
    assert!(m
        .message
        .as_ref()
        .is_some_and(|msg| msg.error && msg.text.contains("changed")));
    assert!(matches!(m.modal, Some(Modal::Approval(_))));
    // Once decided elsewhere, the modal says so and still refuses.
    let done = with(review_waiting("hash-2"), "Gate", |t| {
        t.status = Status::Done
    });
    update::on_snapshot(&mut m, snap(done), &mut Vec::new());
    let fx = key(&mut m, KeyCode::Char('x'), KeyModifiers::NONE);
    assert!(fx.is_empty());
    assert!(m
        .message
        .as_ref()
        .is_some_and(|msg| msg.text.contains("no longer applies")));
}

#[test]
fn request_changes_sends_the_comment_with_the_hash_shown() {
    let mut m = model(review_waiting("hash-1"));
    let gate = id(&m, "Gate");
    act(&mut m, Action::NextAttention);
    key(&mut m, KeyCode::Char('c'), KeyModifiers::NONE);
    assert!(matches!(&m.modal, Some(Modal::Comment(c)) if c.task == gate));
    // An empty comment is not sent.
    let fx = key(&mut m, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(fx.is_empty());
    typed(&mut m, "more tests");
    let fx = key(&mut m, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert_eq!(
        decision(&fx),
        Some((
            gate,
            Decision::RequestChanges,
            Some("more tests".into()),
            Some("hash-1".into())
        ))
    );
    // Esc in the editor goes back to the approval, not to the board.
    act(&mut m, Action::NextAttention);
    key(&mut m, KeyCode::Char('x'), KeyModifiers::NONE);
    key(&mut m, KeyCode::Esc, KeyModifiers::NONE);
    assert!(matches!(m.modal, Some(Modal::Approval(_))));
}

#[test]
fn a_new_item_rings_the_bell_once() {
    let mut m = model(tasks());
    let mut fx = Vec::new();
    update::on_snapshot(&mut m, snap(review_waiting("h")), &mut fx);
    assert!(matches!(fx.as_slice(), [UiEffect::Bell { text }] if text.contains("Gate")));
    let mut fx = Vec::new();
    update::on_snapshot(&mut m, snap(review_waiting("h")), &mut fx);
    assert!(fx.is_empty(), "the same item rings once");
    m.info.bell = false;
    let blocked = with(review_waiting("h"), "Release", |t| {
        t.status = Status::Blocked;
        t.reason = "x".into();
    });
    update::on_snapshot(&mut m, snap(blocked), &mut fx);
    assert!(fx.is_empty(), "bell = false in the config");
    assert_eq!(m.inbox.len(), 2);
    assert_eq!(m.inbox[0].task, id(&m, "Gate"), "oldest first");
}

#[test]
fn skip_of_running_work_and_stop_ask_first() {
    let running = with(tasks(), "Build", |t| {
        t.status = Status::Active;
        t.started_at = Some(NOW);
    });
    let mut m = model(running);
    m.reveal(id(&m, "Ship"));
    assert!(act(&mut m, Action::Skip).is_empty());
    assert!(matches!(&m.modal, Some(Modal::Confirm(c)) if c.question.contains("stopped")));
    let fx = key(&mut m, KeyCode::Char('y'), KeyModifiers::NONE);
    assert!(matches!(
        fx.as_slice(),
        [UiEffect::Send {
            cmd: Command::Skip { .. },
            ..
        }]
    ));
    m.reveal(id(&m, "Release"));
    let fx = act(&mut m, Action::Skip);
    assert!(
        matches!(
            fx.as_slice(),
            [UiEffect::Send {
                cmd: Command::Skip { .. },
                ..
            }]
        ),
        "nothing runs under it: no question"
    );
    m.reveal(id(&m, "Build"));
    assert!(act(&mut m, Action::Stop).is_empty());
    let fx = key(&mut m, KeyCode::Char('n'), KeyModifiers::NONE);
    assert!(fx.is_empty() && m.modal.is_none());
    let fx = act(&mut m, Action::Pause);
    assert!(matches!(
        fx.as_slice(),
        [UiEffect::Send {
            cmd: Command::Pause,
            ..
        }]
    ));
}

#[test]
fn quit_without_agents_does_not_ask() {
    let mut m = model(tasks());
    assert!(matches!(
        act(&mut m, Action::Quit).as_slice(),
        [UiEffect::Quit]
    ));
}

#[test]
fn the_goal_form_validates_in_place() {
    let mut m = model(tasks());
    act(&mut m, Action::NewGoal);
    let fx = key(&mut m, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(fx.is_empty());
    assert!(
        matches!(&m.modal, Some(Modal::Goal(g)) if g.error.as_deref() == Some("a goal needs a title"))
    );
    typed(&mut m, "Say hi");
    key(&mut m, KeyCode::Tab, KeyModifiers::NONE);
    typed(&mut m, "echo hi");
    let fx = key(&mut m, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let (goal, body) = fx
        .iter()
        .find_map(|e| match e {
            UiEffect::AddGoal { goal, body } => Some((goal.clone(), body.clone())),
            _ => None,
        })
        .expect("an AddGoal effect");
    assert_eq!(goal.spec.title, "Say hi");
    assert_eq!(goal.children[0].spec.prompt.as_deref(), Some("echo hi"));
    // The JSON an attached TUI posts is the same goal (repo made absolute).
    let posted = taskboard::goalfile::parse_json(&body).expect("valid goal JSON");
    assert_eq!(posted.spec.title, goal.spec.title);
    assert_eq!(
        posted.spec.goal.as_ref().map(|g| &g.repo),
        goal.spec.goal.as_ref().map(|g| &g.repo)
    );
    assert_eq!(posted.children[0].spec, goal.children[0].spec);
}

#[test]
fn shift_a_shows_the_audit_trail_of_the_target() {
    let mut m = model(tasks());
    assert!(
        act(&mut m, Action::Audit).is_empty(),
        "no target: a warning only"
    );
    let target = *m.snap.tasks.keys().max().expect("tasks");
    m.reveal(target);
    assert!(matches!(
        act(&mut m, Action::Audit).as_slice(),
        [UiEffect::LoadAudit { task }] if *task == target
    ));
    update::on_audit_loaded(&mut m, target, Ok(vec!["12:00  tui  decision  {}".into()]));
    assert!(
        matches!(&m.modal, Some(Modal::Log(v)) if v.title == format!("Audit trail of #{target}") && v.lines.len() == 1)
    );
    update::on_audit_loaded(&mut m, target, Err("database is locked".into()));
    assert!(matches!(&m.modal, Some(Modal::Log(v)) if v.lines[0].contains("database is locked")));
}

#[test]
fn e_edits_a_waiting_prompt_and_plus_adds_a_task_to_the_group() {
    let mut m = model(tasks());
    let (goal, release, gate) = (id(&m, "Ship"), id(&m, "Release"), id(&m, "Gate"));
    // e on a gate: a message, no editor.
    m.reveal(gate);
    act(&mut m, Action::EditPrompt);
    assert!(m.modal.is_none());
    assert!(m
        .message
        .as_ref()
        .is_some_and(|x| x.text.contains("has no prompt")));
    // e on a pending agent task: its prompt in an editor; Ctrl-s sends the new one.
    m.reveal(release);
    act(&mut m, Action::EditPrompt);
    assert!(
        matches!(&m.modal, Some(Modal::Prompt(p)) if p.task == release && p.editor.lines() == ["release it"])
    );
    typed(&mut m, " carefully");
    let fx = key(&mut m, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(matches!(
        fx.as_slice(),
        [UiEffect::Send { cmd: Command::EditPrompt { task, prompt }, .. }]
            if *task == release && prompt == "release it carefully"
    ));
    assert!(m.modal.is_none());
    // + on a task: a new task in its group (the goal), as a tree and as the route's JSON.
    act(&mut m, Action::AddTask);
    assert!(
        matches!(&m.modal, Some(Modal::Goal(g)) if g.parent == Some(goal) && g.fields.len() == 3)
    );
    typed(&mut m, "Announce");
    key(&mut m, KeyCode::Tab, KeyModifiers::NONE);
    typed(&mut m, "write the release notes");
    let fx = key(&mut m, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let (parent, tasks, body) = fx
        .iter()
        .find_map(|e| match e {
            UiEffect::AddTasks {
                parent,
                tasks,
                body,
            } => Some((*parent, tasks.clone(), body.clone())),
            _ => None,
        })
        .expect("an AddTasks effect");
    assert_eq!(parent, goal);
    assert_eq!(tasks[0].spec.title, "Announce");
    assert_eq!(
        tasks[0].spec.prompt.as_deref(),
        Some("write the release notes")
    );
    let again = taskboard::goalfile::parse_subtasks(&body).expect("valid body");
    assert_eq!(again[0].spec, tasks[0].spec);
    // The answer closes the form and names the new task.
    update::on_reply(
        &mut m,
        "added".into(),
        update::Then::CloseForm,
        Ok(serde_json::json!({"id": goal, "children": [42]})),
    );
    assert!(m.modal.is_none());
    assert_eq!(m.want, Some(42));
    assert!(m
        .message
        .as_ref()
        .is_some_and(|x| x.text.contains("task #42 added")));
}

#[test]
fn attached_q_detaches_at_once_and_shift_q_asks_before_stopping_the_board() {
    let mut m = model(tasks());
    m.info.attached = Some(4242);
    assert!(matches!(
        act(&mut m, Action::Quit).as_slice(),
        [UiEffect::Quit]
    ));
    assert!(m.modal.is_none(), "detaching never asks");
    assert!(act(&mut m, Action::StopBoard).is_empty());
    assert!(
        matches!(&m.modal, Some(Modal::Confirm(c)) if c.question.contains("pid 4242")),
        "Q asks first"
    );
    let fx = key(&mut m, KeyCode::Char('y'), KeyModifiers::NONE);
    assert!(matches!(fx.as_slice(), [UiEffect::StopBoard]));
    // In-process, Q is quit (no live panes here, so it does not ask).
    let mut m = model(tasks());
    assert!(matches!(
        act(&mut m, Action::StopBoard).as_slice(),
        [UiEffect::Quit]
    ));
}

#[test]
fn the_open_form_shows_the_file_error_in_place() {
    let mut m = model(tasks());
    act(&mut m, Action::OpenGoal);
    typed(&mut m, "/nope/goal.toml");
    let fx = key(&mut m, KeyCode::Enter, KeyModifiers::NONE);
    assert!(matches!(fx.as_slice(), [UiEffect::LoadGoal { .. }]));
    let mut fx = Vec::new();
    update::on_goal_loaded(
        &mut m,
        Err("/nope/goal.toml:1:1: cannot read".into()),
        &mut fx,
    );
    assert!(fx.is_empty());
    assert!(
        matches!(&m.modal, Some(Modal::Open(o)) if o.error.as_deref().is_some_and(|e| e.contains("1:1")))
    );
}

#[test]
fn the_readme_key_map_matches_the_keymap() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let tui = readme
        .split("## TUI")
        .nth(1)
        .expect("a TUI section")
        .split("\n## ")
        .next()
        .unwrap_or("");
    for (keys, what) in Keymap::default().help() {
        if keys.contains("ctrl-") && what.contains("send")
            || keys.starts_with("esc")
            || keys.starts_with("y /")
            || keys == "ctrl-g"
        {
            continue;
        }
        assert!(
            tui.contains(&what),
            "README's TUI key map lacks {what:?} ({keys})"
        );
    }
}

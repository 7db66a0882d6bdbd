//! The TUI's side of landing and conflicts, without a terminal or a board: `L` asks first
//! (target and strategy shown) and its yes carries the command; conflicts show in the tree
//! row, the status line and the review modal (rendered into a TestBackend).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use taskboard::board::Board;
use taskboard::command::Command;
use taskboard::config::keymap::{Action, Keymap};
use taskboard::config::KeyBinding;
use taskboard::model::{Conflict, Millis, Status, Task, TaskId, WorkDir};
use taskboard::ui::modal::{Modal, Pending};
use taskboard::ui::theme::Theme;
use taskboard::ui::update::{self, UiEffect};
use taskboard::ui::{Info, Model, Snapshot};

const NOW: Millis = 1_750_000_000_000;

const GOAL: &str = r#"
title = "Ship"
parallel = true
[[task]]
title = "A"
prompt = "a"
[[task]]
title = "B"
prompt = "b"
[[task]]
title = "Gate"
kind = "human_review"
after = []
"#;

/// #1 goal (recorded branch main), #2 A done on a branch, #3 B active, #4 gate waiting.
fn tasks() -> Vec<Task> {
    let mut b = Board::new(Default::default(), uuid::Uuid::nil());
    let mut goal =
        taskboard::goalfile::parse_str(GOAL, "g.toml", Path::new("/r"), &BTreeMap::new())
            .expect("goal");
    goal.spec.goal.as_mut().unwrap().branch = Some("main".into());
    b.add_goal_offline(goal, "test", NOW - 60_000);
    let mut out: Vec<Task> = b.tasks().cloned().collect();
    for t in out.iter_mut() {
        let branch = |id: TaskId| WorkDir {
            path: format!("/d/worktrees/1-{id}").into(),
            branch: format!("taskboard/x/{id}"),
            base: "b".into(),
        };
        match t.id {
            2 => {
                t.status = Status::Done;
                t.workdir = Some(branch(2));
            }
            3 => {
                t.status = Status::Active;
                t.started_at = Some(NOW - 30_000);
                t.workdir = Some(branch(3));
            }
            4 => t.status = Status::PendingReview,
            _ => {}
        }
    }
    out
}

fn model(tasks: Vec<Task>, keymap: Keymap) -> Model {
    let mut m = Model::new(Info::default(), keymap, Theme { color: false }, NOW);
    let mut fx = Vec::new();
    update::on_snapshot(
        &mut m,
        Snapshot::from_board(&Board::from_tasks(tasks, false)),
        &mut fx,
    );
    m
}

fn select(m: &mut Model, id: TaskId) {
    m.reveal(id);
}

fn press(m: &mut Model, code: KeyCode) -> Vec<UiEffect> {
    let mut fx = Vec::new();
    update::on_key(m, &KeyEvent::new(code, KeyModifiers::NONE), &mut fx);
    fx
}

#[test]
fn shift_l_asks_with_target_and_strategy_then_sends_land() {
    let mut m = model(tasks(), Keymap::default());
    select(&mut m, 2);
    assert!(
        press(&mut m, KeyCode::Char('L')).is_empty(),
        "it asks first"
    );
    let Some(Modal::Confirm(c)) = &m.modal else {
        panic!("a question, got {:?}", m.modal.is_some());
    };
    assert!(
        c.question
            .contains("Land #2 A (1 branch) on main with strategy merge"),
        "{}",
        c.question
    );
    assert!(
        matches!(
            &c.on_yes,
            Pending::Send {
                cmd: Command::Land {
                    task: 2,
                    into: None,
                    strategy: None,
                    pr: false
                },
                ..
            }
        ),
        "the yes carries the command"
    );
    let fx = press(&mut m, KeyCode::Char('y'));
    assert!(
        fx.iter().any(|e| matches!(
            e,
            UiEffect::Send {
                cmd: Command::Land { task: 2, .. },
                ..
            }
        )),
        "y sends it"
    );
    // On a task still running: a warning, no question.
    let mut m = model(tasks(), Keymap::default());
    select(&mut m, 3);
    press(&mut m, KeyCode::Char('L'));
    assert!(m.modal.is_none());
    assert!(m
        .message
        .as_ref()
        .is_some_and(|x| x.text.contains("#3 is active: it lands once it is done")));
}

#[test]
fn the_land_key_is_configurable_and_in_the_help() {
    let mut o = BTreeMap::new();
    o.insert("land".to_string(), KeyBinding::One("ctrl-l".into()));
    let km = Keymap::new(&o).expect("keymap");
    assert_eq!(
        km.action(&KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL)),
        Some(Action::Land)
    );
    assert!(Keymap::default()
        .help()
        .iter()
        .any(|(k, what)| k == "L" && what.contains("land a finished task or group")));
}

fn render(m: &mut Model, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    m.relayout(Rect::new(0, 0, w, h));
    term.draw(|f| taskboard::ui::draw(f, m)).expect("draw");
    term.backend().to_string()
}

fn conflicted() -> Vec<Task> {
    let c = |task: Option<TaskId>, branch: &str| Conflict {
        task,
        branch: branch.into(),
        files: vec!["src/api.rs".into()],
    };
    let mut t = tasks();
    for x in t.iter_mut() {
        match x.id {
            2 => x.conflicts = vec![c(Some(3), "taskboard/x/3")],
            3 => x.conflicts = vec![c(Some(2), "taskboard/x/2"), c(None, "main")],
            _ => {}
        }
    }
    t
}

#[test]
fn conflicts_show_on_both_rows_and_in_the_status_line() {
    let mut m = model(conflicted(), Keymap::default());
    select(&mut m, 3);
    let screen = render(&mut m, 200, 30);
    assert!(
        screen.contains("#2 A  ⚠ conflicts with #3: src/api.rs"),
        "row of A:\n{screen}"
    );
    assert!(
        screen.contains("#3 B  ⚠ conflicts with #2: src/api.rs"),
        "row of B:\n{screen}"
    );
    assert!(
        screen.contains("⚠ #3 conflicts with #2: src/api.rs"),
        "status line:\n{screen}"
    );
    // Without conflicts, none of it.
    let mut m = model(tasks(), Keymap::default());
    let screen = render(&mut m, 200, 30);
    assert!(!screen.contains("conflicts with"), "{screen}");
}

#[test]
fn the_review_modal_names_the_conflicts_before_approving() {
    let mut t = conflicted();
    // A waits for review itself.
    for x in t.iter_mut() {
        if x.id == 2 {
            x.status = Status::PendingReview;
        }
    }
    let mut m = model(t, Keymap::default());
    select(&mut m, 2);
    let mut fx = Vec::new();
    update::act(&mut m, Action::Approve, &mut fx);
    assert!(matches!(m.modal, Some(Modal::Approval(_))));
    let screen = render(&mut m, 200, 40);
    assert!(screen.contains("Decide #2 · A"), "{screen}");
    assert!(
        screen.contains("conflicts ⚠ with #3 B: src/api.rs"),
        "the modal warns:\n{screen}"
    );
}

#[test]
fn an_attached_tui_lands_through_the_documented_route() {
    let r = taskboard::attach::request::request(&Command::Land {
        task: 7,
        into: Some("release".into()),
        strategy: Some(taskboard::model::LandStrategy::Squash),
        pr: true,
    })
    .expect("a route");
    assert_eq!((r.method, r.path.as_str()), ("POST", "/api/tasks/7/land"));
    assert_eq!(
        r.body,
        Some(serde_json::json!({"into": "release", "strategy": "squash", "pr": true}))
    );
    assert_eq!(
        taskboard::attach::request::task_of(&Command::Land {
            task: 7,
            into: None,
            strategy: None,
            pr: false
        }),
        Some(7)
    );
}

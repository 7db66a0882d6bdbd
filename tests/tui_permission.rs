//! The TUI's answers to an agent's held tool call, without a terminal or a board: the inbox
//! shows the call, `a` allows it at once, `x` asks for an optional reason, then denies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use taskboard::board::Board;
use taskboard::command::Command;
use taskboard::config::keymap::{Action, Keymap};
use taskboard::model::{Millis, PermissionAsk, Status, Task};
use taskboard::ui::modal::Modal;
use taskboard::ui::theme::Theme;
use taskboard::ui::update::{self, UiEffect};
use taskboard::ui::{Info, Model, Snapshot};

const NOW: Millis = 1_750_000_000_000;

/// A goal whose agent task holds `rm -rf build` for permission.
fn held() -> Vec<Task> {
    let mut b = Board::new(Default::default(), uuid::Uuid::nil());
    let goal = taskboard::goalfile::parse_str(
        "title = \"Ship\"\n[[task]]\ntitle = \"Build\"\nprompt = \"build\"\n",
        "g.toml",
        Path::new("/r"),
        &BTreeMap::new(),
    )
    .expect("goal");
    b.add_goal_offline(goal, "test", NOW - 60_000);
    let mut tasks: Vec<Task> = b.tasks().cloned().collect();
    let t = tasks
        .iter_mut()
        .find(|t| t.spec.title == "Build")
        .expect("task");
    t.status = Status::Active;
    let ask = PermissionAsk {
        request: 3,
        tool: "Bash".into(),
        input: serde_json::json!({"command": "rm -rf build"}),
        asked_at: NOW - 1_000,
    };
    t.attention = Some(format!("permission: {}", ask.summary()));
    t.permission = Some(ask);
    tasks
}

fn model() -> (Model, u64) {
    let mut m = Model::new(
        Info::default(),
        Keymap::default(),
        Theme { color: false },
        NOW,
    );
    let mut fx = Vec::new();
    update::on_snapshot(
        &mut m,
        Snapshot::from_board(&Board::from_tasks(held(), false)),
        &mut fx,
    );
    let id = m
        .snap
        .tasks
        .values()
        .find(|t| t.spec.title == "Build")
        .expect("task")
        .id;
    m.reveal(id);
    (m, id)
}

fn answers(fx: &[UiEffect]) -> Vec<(u64, bool, Option<String>)> {
    fx.iter()
        .filter_map(|e| match e {
            UiEffect::Send {
                cmd:
                    Command::AnswerPermission {
                        task,
                        allow,
                        reason,
                    },
                ..
            } => Some((*task, *allow, reason.clone())),
            _ => None,
        })
        .collect()
}

fn key(m: &mut Model, code: KeyCode, mods: KeyModifiers) -> Vec<UiEffect> {
    let mut fx = Vec::new();
    update::on_key(m, &KeyEvent::new(code, mods), &mut fx);
    fx
}

#[test]
fn the_inbox_shows_the_tool_and_its_input() {
    let (m, id) = model();
    let item = m.inbox.iter().find(|i| i.task == id).expect("in the inbox");
    assert_eq!(item.why, "permission: Bash: rm -rf build");
}

#[test]
fn a_allows_at_once() {
    let (mut m, id) = model();
    let mut fx = Vec::new();
    update::act(&mut m, Action::Approve, &mut fx);
    assert_eq!(answers(&fx), vec![(id, true, None)]);
    assert!(m.modal.is_none(), "no dialog for an allow");
}

#[test]
fn x_denies_with_an_optional_reason() {
    let (mut m, id) = model();
    let mut fx = Vec::new();
    update::act(&mut m, Action::Reject, &mut fx);
    assert!(answers(&fx).is_empty(), "nothing is sent before the reason");
    assert!(matches!(m.modal, Some(Modal::Deny(_))));
    for c in "not the build dir".chars() {
        key(&mut m, KeyCode::Char(c), KeyModifiers::NONE);
    }
    let fx = key(&mut m, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert_eq!(
        answers(&fx),
        vec![(id, false, Some("not the build dir".into()))]
    );
    assert!(m.modal.is_none());
    // Without a reason, and Esc sends nothing.
    update::act(&mut m, Action::Reject, &mut Vec::new());
    assert!(answers(&key(&mut m, KeyCode::Esc, KeyModifiers::NONE)).is_empty());
    update::act(&mut m, Action::Reject, &mut Vec::new());
    let fx = key(&mut m, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert_eq!(answers(&fx), vec![(id, false, None)]);
}

#[test]
fn next_attention_says_what_is_asked() {
    let (mut m, _) = model();
    update::act(&mut m, Action::NextAttention, &mut Vec::new());
    let said = m
        .message
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(
        said.contains("Bash: rm -rf build") && said.contains("a allows"),
        "{said}"
    );
}

#[test]
fn the_pane_title_says_the_turn_ended() {
    use ratatui::backend::TestBackend;
    use ratatui::layout::Rect;
    let mut tasks = held();
    let t = tasks.iter_mut().find(|t| t.spec.title == "Build").unwrap();
    t.permission = None;
    t.attention = None;
    t.turn_ended = true;
    let id = t.id;
    let mut m = Model::new(
        Info::default(),
        Keymap::default(),
        Theme { color: false },
        NOW,
    );
    update::on_snapshot(
        &mut m,
        Snapshot::from_board(&Board::from_tasks(tasks, false)),
        &mut Vec::new(),
    );
    m.put_pane(taskboard::ui::pane_view::PaneView::tail(
        id,
        b"done for now".to_vec(),
        10,
        60,
    ));
    let mut term = ratatui::Terminal::new(TestBackend::new(160, 30)).unwrap();
    m.relayout(Rect::new(0, 0, 160, 30));
    m.fit_panes();
    term.draw(|f| taskboard::ui::draw(f, &m)).unwrap();
    let screen = term.backend().to_string();
    assert!(screen.contains("turn ended"), "{screen}");
}

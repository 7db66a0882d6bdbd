//! The TUI model on a small board, for the pure update-rule tests (`tests/tui_model*.rs`):
//! a goal "Ship" with an agent task "Build", a human review "Gate" and an agent "Release".

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use taskboard::board::Board;
use taskboard::config::keymap::{Action, Keymap};
use taskboard::model::{Millis, Task, TaskId};
use taskboard::ui::theme::Theme;
use taskboard::ui::update::{self, UiEffect};
use taskboard::ui::{Info, Model, Snapshot};

pub const NOW: Millis = 1_750_000_000_000;

pub const GOAL: &str = r#"
title = "Ship"
[[task]]
title = "Build"
prompt = "build it"
[[task]]
title = "Gate"
kind = "human_review"
[[task]]
title = "Release"
prompt = "release it"
"#;

pub fn tasks() -> Vec<Task> {
    let mut b = Board::new(Default::default(), uuid::Uuid::nil());
    let goal = taskboard::goalfile::parse_str(GOAL, "g.toml", Path::new("/r"), &BTreeMap::new())
        .expect("goal");
    b.add_goal_offline(goal, "test", NOW - 60_000);
    b.tasks().cloned().collect()
}

pub fn with(mut tasks: Vec<Task>, title: &str, f: impl FnOnce(&mut Task)) -> Vec<Task> {
    f(tasks
        .iter_mut()
        .find(|t| t.spec.title == title)
        .expect("task"));
    tasks
}

pub fn snap(tasks: Vec<Task>) -> Snapshot {
    Snapshot::from_board(&Board::from_tasks(tasks, false))
}

pub fn model(tasks: Vec<Task>) -> Model {
    let info = Info {
        bell: true,
        ..Info::default()
    };
    let mut m = Model::new(info, Keymap::default(), Theme { color: false }, NOW);
    let mut fx = Vec::new();
    update::on_snapshot(&mut m, snap(tasks), &mut fx);
    assert!(fx.is_empty(), "the first snapshot rings no bell");
    m
}

pub fn id(m: &Model, title: &str) -> TaskId {
    m.snap
        .tasks
        .values()
        .find(|t| t.spec.title == title)
        .expect("task")
        .id
}

pub fn act(m: &mut Model, a: Action) -> Vec<UiEffect> {
    let mut fx = Vec::new();
    update::act(m, a, &mut fx);
    fx
}

pub fn key(m: &mut Model, code: KeyCode, mods: KeyModifiers) -> Vec<UiEffect> {
    let mut fx = Vec::new();
    update::on_key(m, &KeyEvent::new(code, mods), &mut fx);
    fx
}

/// A pane's input side that takes every byte and resizes nothing: the model and its
/// drawing only route keys to a pane and read its parser.
pub struct NoIo;

impl taskboard::agent::PaneIo for NoIo {
    fn write(&self, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn resize(&self, _: u16, _: u16) {}
}

/// A live pane for `key` with no program behind it: its parser takes what a test feeds.
pub fn live_pane(key: TaskId) -> taskboard::agent::PaneRef {
    let parser = taskboard::agent::vt::new_parser(24, 80, 0);
    std::sync::Arc::new(taskboard::agent::Pane::new(
        key,
        0,
        0,
        parser,
        100,
        Box::new(NoIo),
    ))
}

pub fn press(m: &mut Model, code: KeyCode) -> Vec<UiEffect> {
    key(m, code, KeyModifiers::NONE)
}

pub fn typed(m: &mut Model, text: &str) {
    for c in text.chars() {
        key(m, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

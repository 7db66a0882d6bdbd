//! Render snapshots of the TUI from fixed models and fixed PTY byte streams (TestBackend +
//! insta), at 80×24 (panes collapse to a list) and 200×50.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use taskboard::board::Board;
use taskboard::config::keymap::{Action, Keymap};
use taskboard::model::{Millis, Status, Task, WorkDir};
use taskboard::ui::modal::{DiffState, Modal, ReviewDiff};
use taskboard::ui::pane_view::PaneView;
use taskboard::ui::theme::Theme;
use taskboard::ui::update::{self, UiEffect};
use taskboard::ui::{Focus, Info, Model, Snapshot};

const NOW: Millis = 1_750_000_000_000;
const MIN: Millis = 60_000;

const GOALS: &str = r#"
title = "Shepherd PR 42"
[[task]]
key = "fix"
title = "Fix flaky test"
prompt = "Make tests/http.rs pass reliably."
[[task]]
title = "CI is green"
kind = "signal"
gate = "gh_ci"
pr = 42
timeout = "2h"
[[task]]
title = "Review"
kind = "human_review"
prompt = "Check the fix and its test."
[[task]]
title = "Follow-ups"
parallel = true
  [[task.task]]
  title = "Docs"
  prompt = "Document the fix in CHANGELOG.md"
  [[task.task]]
  title = "Lint"
  prompt = "Run the linter"
"#;

const NIGHTLY: &str = r#"
title = "Nightly cleanup"
[[task]]
title = "Prune branches"
prompt = "Delete merged branches"
"#;

/// Two goals in fixed states: a review waiting, a gate counting down, agents running, a
/// blocked task.
fn tasks() -> Vec<Task> {
    let mut b = Board::new(Default::default(), uuid::Uuid::nil());
    for text in [GOALS, NIGHTLY] {
        let goal =
            taskboard::goalfile::parse_str(text, "g.toml", Path::new("/repo"), &BTreeMap::new())
                .expect("valid goal");
        b.add_goal_offline(goal, "test", NOW - 30 * MIN);
    }
    let mut out: Vec<Task> = b.tasks().cloned().collect();
    let set = |out: &mut Vec<Task>,
               title: &str,
               status: Status,
               reason: &str,
               started: Option<Millis>| {
        let t = out
            .iter_mut()
            .find(|t| t.spec.title == title)
            .expect("task");
        t.status = status;
        t.reason = reason.to_string();
        t.started_at = started;
    };
    set(
        &mut out,
        "Shepherd PR 42",
        Status::PendingReview,
        "",
        Some(NOW - 25 * MIN),
    );
    set(
        &mut out,
        "Fix flaky test",
        Status::Done,
        "",
        Some(NOW - 25 * MIN),
    );
    set(
        &mut out,
        "CI is green",
        Status::Active,
        "",
        Some(NOW - 5 * MIN),
    );
    set(
        &mut out,
        "Review",
        Status::PendingReview,
        "waiting for review",
        Some(NOW - 3 * MIN),
    );
    set(
        &mut out,
        "Follow-ups",
        Status::Active,
        "",
        Some(NOW - 2 * MIN),
    );
    set(&mut out, "Docs", Status::Active, "", Some(NOW - 2 * MIN));
    set(&mut out, "Lint", Status::Done, "", Some(NOW - 2 * MIN));
    set(
        &mut out,
        "Nightly cleanup",
        Status::Blocked,
        "",
        Some(NOW - MIN),
    );
    set(
        &mut out,
        "Prune branches",
        Status::Blocked,
        "not a git repository",
        Some(NOW - MIN),
    );
    for t in out.iter_mut() {
        match t.spec.title.as_str() {
            "CI is green" => t.deadline = Some(NOW + 95 * MIN),
            "Review" => {
                t.diff_hash = Some("3f2a9c0b1d4e5f60718293a4b5c6d7e8".into());
                t.diff_stat = Some(" tests/http.rs | 12 +++++++-----\n 1 file changed, 7 insertions(+), 5 deletions(-)".into());
            }
            "Docs" => {
                t.workdir = Some(WorkDir {
                    path: "/data/worktrees/1-6".into(),
                    branch: "taskboard/3f2a/6-docs".into(),
                    base: "abc".into(),
                })
            }
            _ => {}
        }
    }
    out
}

/// A fixed agent session: colours, a progress line rewritten with \r, a prompt.
const DOCS_PTY: &[u8] = b"\x1b[1mdemo-agent\x1b[0m \x1b[2mtask #6\x1b[0m\r\n\x1b[36mprompt:\x1b[0m Document the fix in CHANGELOG.md\r\n[1/4] reading the repository... \x1b[32mok\x1b[0m\r\n[2/4] editing CHANGELOG.md\rXX\r[2/4] editing CHANGELOG.md... \x1b[32mok\x1b[0m\r\n$ ";
const LINT_PTY: &[u8] = b"running clippy\r\n    Checking taskboard v0.1.0\r\n    Finished dev profile\r\n\x1b[32m\xe2\x9c\x94 no warnings\x1b[0m\r\n";

fn model(theme: Theme) -> Model {
    let info = Info {
        listen: "127.0.0.1:43121".into(),
        ..Info::default()
    };
    let mut m = Model::new(info, Keymap::default(), theme, NOW);
    let board = Board::from_tasks(tasks(), false);
    let mut fx = Vec::new();
    update::on_snapshot(&mut m, Snapshot::from_board(&board), &mut fx);
    let id = |title: &str| {
        m.snap
            .tasks
            .values()
            .find(|t| t.spec.title == title)
            .expect("task")
            .id
    };
    let (docs, lint) = (id("Docs"), id("Lint"));
    m.put_pane(PaneView::tail(docs, DOCS_PTY.to_vec(), 10, 40));
    m.put_pane(PaneView::tail(lint, LINT_PTY.to_vec(), 10, 40));
    m
}

fn render(m: &mut Model, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    m.relayout(Rect::new(0, 0, w, h));
    m.fit_panes();
    term.draw(|f| taskboard::ui::draw(f, m)).expect("draw");
    term.backend().to_string()
}

fn both(name: &str, mut setup: impl FnMut(&mut Model)) {
    for (w, h) in [(80, 24), (200, 50)] {
        let mut m = model(Theme { color: true });
        setup(&mut m);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&mut m, w, h));
    }
}

fn key(m: &mut Model, a: Action) -> Vec<UiEffect> {
    let mut fx = Vec::new();
    update::act(m, a, &mut fx);
    fx
}

#[test]
fn tree_and_panes() {
    both("tree", |_| {});
}

#[test]
fn pane_focused_and_zoomed() {
    both("pane_zoomed", |m| {
        key(m, Action::Focus);
        key(m, Action::Zoom);
    });
}

#[test]
fn inbox_goal_selected() {
    // The blocked goal selected: its panes (none) show, the inbox lists both items.
    both("inbox", |m| {
        for _ in 0..8 {
            key(m, Action::Down);
        }
        assert_eq!(
            m.selected
                .and_then(|s| m.snap.task(s))
                .map(|t| t.spec.title.as_str()),
            Some("Nightly cleanup")
        );
    });
}

#[test]
fn approval_modal() {
    both("approval", |m| {
        let fx = key(m, Action::NextAttention);
        assert!(fx.iter().any(|e| matches!(e, UiEffect::LoadDiff { .. })));
        if let Some(Modal::Approval(a)) = &mut m.modal {
            a.diff = DiffState::Ready(ReviewDiff {
                stat: m
                    .snap
                    .task(a.task)
                    .and_then(|t| t.diff_stat.clone())
                    .unwrap_or_default(),
                patch: String::new(),
                hash: a.diff_hash.clone().unwrap_or_default(),
            });
        } else {
            panic!("! opens the approval modal of the oldest item");
        }
    });
}

#[test]
fn help_overlay() {
    both("help", |m| {
        key(m, Action::Help);
    });
}

#[test]
fn no_color_has_no_colours() {
    let mut m = model(Theme { color: false });
    key(&mut m, Action::Focus);
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    m.relayout(Rect::new(0, 0, 200, 50));
    term.draw(|f| taskboard::ui::draw(f, &m)).expect("draw");
    let buf = term.backend().buffer();
    // Pane contents keep the agent's own colours; everything the board draws has none.
    let panes: Vec<Rect> = m.layout.panes.iter().map(|(_, r)| *r).collect();
    for y in 0..50 {
        for x in 0..200 {
            let inside = panes
                .iter()
                .any(|r| x > r.x && x < r.x + r.width - 1 && y > r.y && y < r.y + r.height - 1);
            let c = &buf[(x, y)];
            if !inside {
                assert_eq!(
                    c.fg,
                    ratatui::style::Color::Reset,
                    "colour at {x},{y}: {:?}",
                    c.symbol()
                );
            }
        }
    }
    assert_eq!(m.focus, Focus::Panes);
}

#[test]
fn twenty_panes_tile_at_240x64() {
    let mut text = String::from("title = \"Fan-out\"\nparallel = true\n");
    for i in 1..=20 {
        text.push_str(&format!(
            "[[task]]\ntitle = \"agent {i}\"\nprompt = \"p\"\n"
        ));
    }
    let goal = taskboard::goalfile::parse_str(&text, "f.toml", Path::new("/r"), &BTreeMap::new())
        .expect("goal");
    let mut b = Board::new(Default::default(), uuid::Uuid::nil());
    b.add_goal_offline(goal, "test", NOW);
    let mut tasks: Vec<Task> = b.tasks().cloned().collect();
    for t in tasks.iter_mut() {
        t.status = Status::Active;
        t.started_at = Some(NOW - MIN);
    }
    let mut m = Model::new(
        Info::default(),
        Keymap::default(),
        Theme { color: true },
        NOW,
    );
    update::on_snapshot(
        &mut m,
        Snapshot::from_board(&Board::from_tasks(tasks, false)),
        &mut Vec::new(),
    );
    let ids: Vec<u64> = m
        .snap
        .tasks
        .values()
        .filter(|t| t.parent.is_some())
        .map(|t| t.id)
        .collect();
    for id in ids {
        let bytes = format!("agent #{id}\r\n{}", "working... ok\r\n".repeat(30));
        m.put_pane(PaneView::tail(id, bytes.into_bytes(), 10, 40));
    }
    let mut term = Terminal::new(TestBackend::new(240, 64)).expect("terminal");
    m.relayout(Rect::new(0, 0, 240, 64));
    m.fit_panes();
    assert_eq!(
        m.layout.panes.len(),
        20,
        "all 20 panes tile, none collapse to the list"
    );
    assert!(m.layout.list_rows.is_empty());
    for (_, r) in &m.layout.panes {
        assert!(r.width >= 40 && r.height >= 10, "{r:?}");
    }
    let started = std::time::Instant::now();
    for _ in 0..20 {
        term.draw(|f| taskboard::ui::draw(f, &m)).expect("draw");
    }
    eprintln!(
        "240x64 frame with 20 panes: {:?} (this build)",
        started.elapsed() / 20
    );
    let screen = term.backend().to_string();
    assert!(screen.contains("#21 agent 20"), "{screen}");
}

//! Frames drawn in place (`ui::paint`): whatever mix of output, echo frames, output-only
//! frames, tree and status changes, zoom, help and resizes came before, once a frame leaves
//! nothing for later the screen is exactly what drawing the whole model afresh gives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::ui_fixture::*;
use proptest::prelude::*;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Style;
use ratatui::Terminal;
use taskboard::config::keymap::Action;
use taskboard::model::{Status, TaskId};
use taskboard::ui::paint::Painter;
use taskboard::ui::pane_view::{PaneView, ShellOf, SHELL_KEYS};
use taskboard::ui::{self, Model};
use unicode_width::UnicodeWidthStr;

/// What a pane's program prints next.
const CHUNKS: &[&str] = &[
    "plain line {n}\r\n",
    "\x1b[31mred\x1b[0m and \x1b[1;44mbold on blue\x1b[0m {n}\r\n",
    "wide 漢字テスト {n} 終わり\r\n",
    "\x1b[2J\x1b[H",
    "\x1b[5;10Hmoved {n}",
    "\x1b[3;1H\x1b[K",
    "a long line that wraps round the pane a few times over, {n} {n} {n} {n} {n} {n} {n} {n} {n} {n} {n} {n} {n} {n}\r\n",
    "x",
];

#[derive(Debug, Clone)]
enum Op {
    /// Output into pane `0..3`, chunk `1`.
    Output(usize, usize),
    /// A frame; `Some(i)`: an echo frame for pane `i`.
    Frame(Option<usize>),
    /// "Release" (a pane's title changes too) or "Gate" (only tree and inbox) changes status.
    Status(usize, usize),
    /// The tree's selection moves down.
    Down,
    Zoom,
    Help,
    FocusNext,
    Resize(u16, u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..CHUNKS.len()).prop_map(|(p, c)| Op::Output(p, c)),
        5 => prop::option::of(0..3usize).prop_map(Op::Frame),
        1 => (0..2usize, 0..4usize).prop_map(|(t, s)| Op::Status(t, s)),
        1 => Just(Op::Down),
        1 => Just(Op::Zoom),
        1 => Just(Op::Help),
        1 => Just(Op::FocusNext),
        1 => (60..220u16, 16..60u16).prop_map(|(w, h)| Op::Resize(w, h)),
    ]
}

/// The model with panes for "Build" and "Release" and a shell opened for "Build".
fn board() -> (Model, Vec<TaskId>) {
    let t = with(tasks(), "Build", |t| {
        t.status = Status::Active;
        t.started_at = Some(NOW - 90_000);
    });
    let t = with(t, "Release", |t| t.status = Status::Active);
    let mut m = model(t);
    let (build, release) = (id(&m, "Build"), id(&m, "Release"));
    let shell = SHELL_KEYS + 1;
    m.put_pane(PaneView::live(live_pane(build)));
    m.put_pane(PaneView::live(live_pane(release)));
    let of = ShellOf {
        task: build,
        title: "Build".into(),
        dir: "/wt/1-2".into(),
        exit: None,
    };
    m.put_pane(PaneView::shell(live_pane(shell), of));
    (m, vec![build, release, shell])
}

fn feed(m: &Model, task: TaskId, text: &str) {
    let p = m.pane(task).and_then(|p| p.live_pane()).expect("pane");
    p.parser.lock().unwrap().process(text.as_bytes());
    p.dirty.store(true, std::sync::atomic::Ordering::Release);
}

/// Each row's cells as a terminal shows them: the cells a wide character covers are its.
fn shown(b: &Buffer) -> Vec<Vec<(String, Style)>> {
    (b.area.top()..b.area.bottom())
        .map(|y| {
            let mut row = Vec::new();
            let mut x = b.area.left();
            while x < b.area.right() {
                let c = &b[(x, y)];
                row.push((c.symbol().to_string(), c.style()));
                x += (c.symbol().width() as u16).max(1);
            }
            row
        })
        .collect()
}

/// The whole model drawn afresh on a blank screen of the same size.
fn afresh(m: &Model, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, m)).unwrap();
    t.backend().buffer().clone()
}

fn run(ops: &[Op]) {
    let (mut m, panes) = board();
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    let mut painter = Painter::new();
    // Something besides output changed since the last frame (the app's `around`).
    let mut around = true;
    let mut n = 0;
    for (i, o) in ops.iter().enumerate() {
        let echo = match o {
            Op::Output(p, c) => {
                n += 1;
                feed(&m, panes[*p], &CHUNKS[*c].replace("{n}", &n.to_string()));
                continue;
            }
            Op::Frame(echo) => echo.map(|p| panes[p]),
            Op::Status(k, s) => {
                let status = [
                    Status::Done,
                    Status::Failed,
                    Status::Active,
                    Status::Blocked,
                ][*s];
                let title = ["Release", "Gate"][*k];
                let t = with(m.snap.tasks.values().cloned().collect(), title, |t| {
                    t.status = status
                });
                ui::update::on_snapshot(&mut m, snap(t), &mut Vec::new());
                around = true;
                continue;
            }
            Op::Zoom | Op::Help | Op::FocusNext | Op::Down => {
                let a = match o {
                    Op::Zoom => Action::Zoom,
                    Op::Help => Action::Help,
                    Op::Down => Action::Down,
                    _ => Action::Focus,
                };
                act(&mut m, a);
                around = true;
                continue;
            }
            Op::Resize(w, h) => {
                term.backend_mut().resize(*w, *h);
                continue;
            }
        };
        let mut more = painter.paint(&mut term, &mut m, echo, !around).unwrap();
        around = false;
        // The app draws again while something was left for later; then all must be shown.
        let mut frames = 0;
        while more || echo.is_some() && frames == 0 {
            more = painter.paint(&mut term, &mut m, None, true).unwrap();
            frames += 1;
            assert!(frames < 5, "op {i}: panes still left after {frames} frames");
        }
        let area = term.get_frame().area();
        let want = afresh(&m, area.width, area.height);
        assert_eq!(
            shown(term.backend().buffer()),
            shown(&want),
            "op {i} ({o:?}): the screen differs from the model drawn afresh"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn a_frame_drawn_in_place_shows_what_a_fresh_draw_would(ops in prop::collection::vec(op(), 1..60)) {
        run(&ops);
    }
}

/// The cases the property test is built round, spelt out: an echo frame, output-only frames
/// and a status change between output.
#[test]
fn echo_and_output_only_frames_then_a_status_change() {
    use Op::*;
    run(&[
        Output(0, 0),
        Output(1, 2),
        Frame(None),
        Output(0, 7),
        Output(1, 1),
        Frame(Some(0)),
        Output(2, 6),
        Frame(None),
        Status(0, 0),
        Frame(None),
        Output(0, 0),
        Status(1, 3),
        Down,
        Output(1, 3),
        Frame(None),
        Zoom,
        Output(0, 4),
        Frame(Some(0)),
        Help,
        Frame(None),
        Help,
        Resize(120, 30),
        Output(2, 5),
        Frame(None),
    ]);
}

//! TUI keys end to end (ARCHITECTURE §8): `d` diff, `D` delete (asks), `R` retry, `/`
//! search, PgUp/PgDn, a mouse click, and `NO_COLOR`. The real binary in a private tmux
//! server; each test takes the serial lock (tests/common/serial.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::tmux::Tmux;
use common::*;

const LONG: Duration = Duration::from_secs(30);

/// The screen's (column, row), 0-based, where `text` first shows.
fn find(screen: &str, text: &str) -> (usize, usize) {
    screen
        .lines()
        .enumerate()
        .find_map(|(row, l)| {
            let i = l.find(text)?;
            Some((l[..i].chars().count(), row))
        })
        .unwrap_or_else(|| panic!("{text:?} is not on the screen:\n{screen}"))
}

/// A left click at (column, row), 0-based, as an SGR mouse report (what the terminal sends
/// once the TUI turned mouse capture on).
fn click(t: &Tmux, (col, row): (usize, usize)) {
    let (x, y) = (col + 1, row + 1);
    t.text(&format!("\x1b[<0;{x};{y}M\x1b[<0;{x};{y}m"));
}

/// The SGR parameters of every escape sequence on the screen (`capture-pane -e`).
fn sgr_params(t: &Tmux) -> Vec<String> {
    let raw = String::from_utf8_lossy(&t.tmux(&["capture-pane", "-p", "-e"]).stdout).into_owned();
    let re = regex::Regex::new(r"\x1b\[([0-9;:]*)m").expect("regex");
    re.captures_iter(&raw).map(|c| c[1].to_string()).collect()
}

/// Whether an SGR parameter list sets a colour (foreground or background, any palette).
fn sets_colour(params: &str) -> bool {
    params.split(';').any(|p| {
        let n: u32 = p.split(':').next().unwrap_or("").parse().unwrap_or(0);
        matches!(n, 30..=38 | 40..=48 | 90..=97 | 100..=107)
    })
}

#[test]
fn d_shows_the_diff_of_the_selected_task() {
    let _serial = serial();
    let s = Scratch::new();
    git_repo(&s.path().join("repo"));
    let goal = s.file(
        "g.toml",
        "title = \"Diffs\"\nrepo = \"repo\"\n[[task]]\ntitle = \"Writer\"\ncommand = [\"sh\", \"-c\", \"echo greetings-from-the-agent > hello.txt && git add hello.txt && git -c user.name=a -c user.email=a@x.invalid commit -qm hello\"]\n",
    );
    let t = Tmux::start(&s, &["run", goal.to_str().unwrap()], &[], (200, 50));
    t.wait_for("✔ #2 Writer", LONG);
    t.keys(&["j", "j", "d"]);
    let screen = t.wait_for("+greetings-from-the-agent", LONG);
    assert!(screen.contains("Diff of #2"), "{screen}");
    assert!(screen.contains("hello.txt"), "{screen}");
    t.keys(&["Escape"]);
    t.wait("the diff to close", LONG, |sc| !sc.contains("Diff of #2"));
}

#[test]
fn capital_d_asks_then_deletes_the_task() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = s.file(
        "g.toml",
        "title = \"Keep\"\nparallel = true\n[[task]]\ntitle = \"Waits\"\nkind = \"signal\"\ngate = \"a\"\n[[task]]\ntitle = \"Doomed\"\nkind = \"signal\"\ngate = \"b\"\n",
    );
    let t = Tmux::start(&s, &["run", goal.to_str().unwrap()], &[], (200, 50));
    t.wait_for("#3 Doomed", LONG);
    t.keys(&["j", "j", "j", "D"]);
    t.wait_for("Delete #3 Doomed and everything under it?", LONG);
    t.keys(&["n"]);
    t.wait("the question to close", LONG, |sc| {
        !sc.contains("Delete #3")
    });
    // `n` kept it: the task is still there after the next question.
    assert!(flatten(&s.status()).iter().any(|x| x["title"] == "Doomed"));
    t.keys(&["D"]);
    t.wait_for("Delete #3 Doomed", LONG);
    t.keys(&["y"]);
    t.wait("#3 to leave the tree", LONG, |sc| !sc.contains("#3 Doomed"));
    let titles: Vec<_> = flatten(&s.status())
        .iter()
        .map(|x| x["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(titles, ["Keep", "Waits"]);
}

#[test]
fn capital_r_retries_a_failed_task() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = s.file(
        "g.toml",
        "title = \"Retry\"\n[[task]]\ntitle = \"Flaky\"\ncommand = [\"sh\", \"-c\", \"test -f fixed || exit 3; echo second try\"]\nworktree = false\n",
    );
    let t = Tmux::start(&s, &["run", goal.to_str().unwrap()], &[], (200, 50));
    t.wait_for("✘ #2 Flaky", LONG);
    std::fs::write(s.path().join("fixed"), "").unwrap();
    t.keys(&["j", "j", "R"]);
    t.wait_for("✔ #2 Flaky", LONG);
    assert!(wait_status(&s, "Flaky", "done", LONG));
    let log = std::fs::read_to_string(s.data().join("logs/2.log")).unwrap_or_default();
    assert!(log.contains("second try"), "{log}");
}

#[test]
fn slash_searches_all_output_and_jumps_to_the_hit() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = s.file(
        "g.toml",
        "title = \"Search\"\nparallel = true\n[[task]]\ntitle = \"Quiet\"\ncommand = [\"sh\", \"-c\", \"echo nothing here; sleep 600\"]\nworktree = false\n[[task]]\ntitle = \"Talker\"\ncommand = [\"sh\", \"-c\", \"seq 1 50; echo the-needle-4711; sleep 600\"]\nworktree = false\n",
    );
    let t = Tmux::start(&s, &["run", goal.to_str().unwrap()], &[], (200, 50));
    t.wait_for("the-needle-4711", LONG);
    t.keys(&["/"]);
    t.wait_for("Search all output", LONG);
    t.text("needle-4711");
    t.keys(&["Enter"]);
    let screen = t.wait_for("1 matches for \"needle-4711\"", LONG);
    assert!(screen.contains("#3 Talker:51 the-needle-4711"), "{screen}");
    // Enter on the hit opens that task's log at the line.
    t.keys(&["Enter"]);
    t.wait("the log view of #3", LONG, |sc| {
        !sc.contains("Search all output") && sc.contains("#3") && sc.contains("the-needle-4711")
    });
}

#[test]
fn pgup_and_pgdn_scroll_the_focused_pane() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = s.file(
        "g.toml",
        "title = \"Scroll\"\n[[task]]\ntitle = \"Counter\"\ncommand = [\"sh\", \"-c\", \"seq 1 300; echo last-line; sleep 600\"]\nworktree = false\n",
    );
    let t = Tmux::start(&s, &["run", goal.to_str().unwrap()], &[], (200, 50));
    t.wait_for("last-line", LONG);
    t.keys(&["Tab", "PPage"]);
    let up = t.wait("the pane to scroll back", LONG, |sc| {
        scrolled_back(sc).is_some() && !sc.contains("last-line")
    });
    let first = scrolled_back(&up).unwrap();
    t.keys(&["PPage"]);
    let further = t.wait("a second page back", LONG, |sc| {
        scrolled_back(sc).is_some_and(|n| n > first)
    });
    let second = scrolled_back(&further).unwrap();
    assert!(second >= 2 * first, "{first} then {second}");
    t.keys(&["NPage"]);
    t.wait("a page forward", LONG, |sc| {
        scrolled_back(sc) == Some(first)
    });
    t.keys(&["NPage"]);
    t.wait("the pane back at the bottom", LONG, |sc| {
        sc.contains("last-line") && scrolled_back(sc).is_none()
    });
}

/// The `↑N` (lines scrolled back) in the title of #2's pane.
fn scrolled_back(screen: &str) -> Option<usize> {
    let line = screen.lines().find(|l| l.contains("#2 Counter ·"))?;
    let after = line.split('↑').nth(1)?;
    after
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

#[test]
fn a_mouse_click_selects_a_tree_row_and_focuses_a_pane() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = s.file(
        "g.toml",
        "title = \"Mouse\"\nparallel = true\n[[task]]\ntitle = \"Left\"\ncommand = [\"sh\"]\nworktree = false\n[[task]]\ntitle = \"Right\"\ncommand = [\"sh\"]\nworktree = false\n",
    );
    let t = Tmux::start(
        &s,
        &["run", goal.to_str().unwrap()],
        &[("PS1", "$ ")],
        (200, 50),
    );
    let screen = t.wait("both panes", LONG, |sc| sc.matches("· active").count() >= 2);
    // A click on the tree row of #3 selects it: `A` then shows #3's trail.
    click(&t, find(&screen, "#3 Right"));
    t.keys(&["A"]);
    t.wait_for("Audit trail of #3", LONG);
    t.keys(&["Escape"]);
    t.wait("the trail to close", LONG, |sc| {
        !sc.contains("Audit trail of #3")
    });
    // A click inside #2's pane focuses it: Enter types into #2, not #3.
    let screen = t.screen();
    let (col, row) = find(&screen, "#2 Left ·");
    click(&t, (col, row + 2));
    t.keys(&["Enter"]);
    let screen = t.wait_for("INPUT", LONG);
    let (_, title_row) = find(&screen, "#2 Left ·");
    assert!(
        screen.lines().nth(title_row).unwrap().contains("INPUT"),
        "#2 has the input:\n{screen}"
    );
    t.text("echo typed-into-left");
    t.keys(&["Enter"]);
    assert!(wait_for(LONG, || std::fs::read_to_string(
        s.data().join("logs/2.log")
    )
    .unwrap_or_default()
    .contains("typed-into-left")));
    let right = std::fs::read_to_string(s.data().join("logs/3.log")).unwrap_or_default();
    assert!(!right.contains("typed-into-left"), "{right}");
}

#[test]
fn no_color_draws_without_colours() {
    let _serial = serial();
    let s = Scratch::new();
    let goal = s.file(
        "g.toml",
        "title = \"Colours\"\nparallel = true\n[[task]]\ntitle = \"Done\"\ncommand = [\"true\"]\nworktree = false\n[[task]]\ntitle = \"Waits\"\nkind = \"human_review\"\n",
    );
    let goal = goal.to_str().unwrap();
    // With colour (the default) the same screen does use colours: the check can fail.
    let t = Tmux::start(&s, &["run", goal], &[("TERM", "xterm-256color")], (200, 50));
    t.wait_for("✔ #2 Done", LONG);
    t.wait_for("Needs you (1)", LONG);
    let coloured = sgr_params(&t);
    assert!(coloured.iter().any(|p| sets_colour(p)), "{coloured:?}");
    t.keys(&["q"]);
    t.wait_for("EXITED", LONG);
    drop(t);
    let t = Tmux::start(
        &s,
        &[],
        &[("TERM", "xterm-256color"), ("NO_COLOR", "1")],
        (200, 50),
    );
    t.wait_for("✔ #2 Done", LONG);
    t.wait_for("Needs you (1)", LONG);
    let plain = sgr_params(&t);
    let colours: Vec<_> = plain.iter().filter(|p| sets_colour(p)).collect();
    assert!(colours.is_empty(), "colours with NO_COLOR: {colours:?}");
    // Modifiers (bold, reverse) still mark what matters.
    assert!(!plain.is_empty(), "no styling at all");
}

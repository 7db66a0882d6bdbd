//! Crash loop (ARCHITECTURE §5): a goal of short command tasks, gates, parallel groups and
//! agent tasks that commit in their own git worktrees (one under review) runs headless while
//! a driver thread posts signals and decisions over HTTP and deletes the goals of finished
//! rounds (their worktrees go with them); the board gets `kill -9` at random moments, or
//! stopped at a fault point inside git and storage work (worktree creation and removal,
//! saving a review diff, a store commit: `TASKBOARD_FAULT`, src/fault.rs) and killed there,
//! and is restarted on the same data dir. After every kill and restart the invariants are
//! checked: every change that got a 2xx is in the store, the database passes `PRAGMA
//! integrity_check`, no process of an earlier run survives, no agent task stays `active`
//! without a live process, `git worktree list` matches the board with no lock file left and
//! every recorded review diff whole (checked with the restarted board stopped right after
//! its clean-up, before it dispatches anything), and every round finishes with the statuses
//! of a run without crashes.
//!
//! `cargo test --test crashloop` runs 20 kills; `cargo test --release --test crashloop --
//! --ignored --nocapture` runs 200 (`ITERATIONS=N` changes either; `CRASHLOOP_SEED=S` replays).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "crashloop/driver.rs"]
mod driver;
#[path = "crashloop/git.rs"]
mod git;
#[path = "crashloop/probe.rs"]
mod probe;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use driver::Driver;
use probe::{marked, Board, Rng};

/// One round's goal: three parallel branches (a gated build, a failing branch, a chain with a
/// human approval and a parallel group) and a noisy gate that takes many signals.
fn round_goal(round: u32) -> String {
    let sh =
        |secs: &str| format!("command = [\"sh\", \"-c\", \"sleep {secs}\"]\nworktree = false\n");
    // Works in its own worktree: a commit on its branch (again, empty, when it runs again).
    let wt = |secs: &str| {
        format!(
            "command = [\"sh\", \"-c\", \"sleep {secs}; echo $TASKBOARD_TASK_ID >> work.txt; git add work.txt; git -c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m work\"]\n"
        )
    };
    let mut g = format!(
        "title = \"crashloop round {round}\"\nrepo = \"repo\"\nparallel = true\nspawns_per_minute = 10000\n\n"
    );
    g.push_str("[[task]]\ntitle = \"build\"\n");
    g.push_str("  [[task.task]]\n  title = \"compile\"\n  parallel = true\n");
    for i in 0..4 {
        g.push_str(&format!(
            "    [[task.task.task]]\n    title = \"compile {i}\"\n    {}",
            sh(&format!("0.{}", 1 + i))
        ));
    }
    g.push_str("  [[task.task]]\n  title = \"ci\"\n  kind = \"signal\"\n  gate = \"crash_ci\"\n  retries = 1\n");
    g.push_str(&format!(
        "  [[task.task]]\n  title = \"package\"\n  {}",
        wt("0.2")
    ));
    g.push_str("  [[task.task]]\n  title = \"review\"\n  kind = \"human_review\"\n");
    g.push_str(&format!(
        "  [[task.task]]\n  title = \"ship\"\n  {}",
        sh("0.1")
    ));
    g.push_str("[[task]]\ntitle = \"flaky branch\"\n");
    g.push_str("  [[task.task]]\n  title = \"flaky\"\n  retries = 1\n  command = [\"sh\", \"-c\", \"sleep 0.1; exit 3\"]\n  worktree = false\n");
    g.push_str(&format!(
        "  [[task.task]]\n  title = \"never\"\n  {}",
        sh("0")
    ));
    g.push_str("[[task]]\ntitle = \"chain\"\n");
    for i in 0..4 {
        g.push_str(&format!(
            "  [[task.task]]\n  title = \"step {i}\"\n  {}",
            wt("0.1")
        ));
    }
    g.push_str("  [[task.task]]\n  title = \"approval\"\n  kind = \"signal\"\n  gate = \"human_approval\"\n");
    g.push_str("  [[task.task]]\n  title = \"fan\"\n  parallel = true\n");
    for i in 0..3 {
        g.push_str(&format!(
            "    [[task.task.task]]\n    title = \"fan {i}\"\n    {}",
            wt("0.2")
        ));
    }
    g.push_str(
        "[[task]]\ntitle = \"noise\"\nkind = \"signal\"\ngate = \"noise\"\nretries = 100000\n",
    );
    g
}

/// A scratch area with its config and the goals' git repository (`repo`).
fn scratch() -> Scratch {
    let s = Scratch::new();
    s.file("config.toml", "spawns_per_minute = 10000\nmax_agents = 4\n");
    git_repo(&s.path().join("repo"));
    s
}

/// The fault points a restart may arm (src/fault.rs). `land` is not among them: the
/// rounds have no land task (their agents all append to one file, so their branches would
/// conflict); tests/git_faults.rs kills mid-land instead.
const KILL_POINTS: &[&str] = &[
    "worktree_branch",
    "worktree_add",
    "worktree_ready",
    "worktree_remove",
    "diff_save",
    "store_commit",
];

/// Kills per fault point, and restarts whose armed point was not reached in time.
#[derive(Default)]
struct Faults {
    hits: [usize; KILL_POINTS.len()],
    misses: [usize; KILL_POINTS.len()],
}

impl Faults {
    /// Every other restart arms a point: the one hit least (then missed least), so each is
    /// reached in turn.
    fn arm(&self, rng: &mut Rng) -> Option<usize> {
        if rng.below(2) == 0 {
            return None;
        }
        let best = (0..KILL_POINTS.len())
            .map(|i| (self.hits[i], self.misses[i]))
            .min()?;
        let ties: Vec<usize> = (0..KILL_POINTS.len())
            .filter(|i| (self.hits[*i], self.misses[*i]) == best)
            .collect();
        Some(ties[rng.below(ties.len() as u64) as usize])
    }

    fn summary(&self) -> String {
        KILL_POINTS
            .iter()
            .zip(self.hits)
            .map(|(p, n)| format!("{p} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Starts a board stopping at `reconciled` (to look at the repository before it dispatches
/// anything) and at the armed point, if any (`store_commit` at one of its first commits,
/// the others at their first or second hit).
fn start(
    s: &Scratch,
    file: Option<&std::path::Path>,
    point: Option<usize>,
    rng: &mut Rng,
) -> Board {
    let mut spec = String::from("reconciled:pause");
    if let Some(i) = point {
        let n = 1 + rng.below(if KILL_POINTS[i] == "store_commit" {
            6
        } else {
            2
        });
        spec.push_str(&format!(",{}:pause:{n}", KILL_POINTS[i]));
    }
    Board::start_with(s, file, &spec)
}

/// Title → status of every task of the goal titled `title`, from `status --json`.
fn statuses(s: &Scratch, title: &str) -> BTreeMap<String, String> {
    let all = s.status();
    let goal = all["goals"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["title"] == title))
        .cloned()
        .unwrap_or_else(|| panic!("no goal {title:?} in {all}"));
    flatten(&serde_json::json!({ "goals": [goal] }))
        .iter()
        .map(|t| {
            (
                t["title"].as_str().unwrap_or("").to_string(),
                t["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// What a round ends with when nothing crashes: exit code and statuses.
fn reference() -> (Option<i32>, BTreeMap<String, String>) {
    let s = scratch();
    let f = s.file("round.toml", &round_goal(1));
    let driver = Driver::start(&s.data());
    let mut b = Board::start(&s, Some(&f));
    assert!(b.up(Duration::from_secs(20)), "{}", b.printed());
    driver.set_addr(b.addr());
    let code = b.wait_exit(Duration::from_secs(60));
    driver.stop();
    assert_eq!(code, Some(1), "the flaky branch fails: {}", b.printed());
    let st = statuses(&s, "crashloop round 1");
    for (t, want) in [
        ("crashloop round 1", "failed"),
        ("flaky", "failed"),
        ("never", "pending"),
        ("ship", "done"),
        ("fan 2", "done"),
        ("noise", "done"),
    ] {
        assert_eq!(st.get(t).map(String::as_str), Some(want), "{t}: {st:?}");
    }
    assert!(
        marked(&probe::board_id(&s.data())).is_empty(),
        "agents left after a clean run"
    );
    (code, st)
}

fn run(iterations: usize) {
    let seed = std::env::var("CRASHLOOP_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("crashloop: seed {seed} (CRASHLOOP_SEED={seed} replays the kill times)");
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let (ref_code, ref_statuses) = reference();

    let s = scratch();
    let (data, repo) = (s.data(), s.path().join("repo"));
    let driver = Arc::new(Driver::start(&data));
    let mut faults = Faults::default();
    let mut round = 1u32;
    let mut file = s.file("round-1.toml", &round_goal(1));
    // (The first start commits before `reconciled`: no store_commit stop there.)
    let mut armed = None;
    let mut board = start(&s, Some(&file), armed, &mut rng);
    let (mut kills, mut rounds, mut recovered, mut checked) = (0usize, 0usize, 0usize, 0usize);
    let mut old: Vec<(i32, u64)> = Vec::new();
    let check_round = |round: u32, code: Option<i32>, board: &Board| {
        // Killed while it was shutting down after the round: the restart finds nothing to do.
        let over_before = board.printed().contains("nothing to run") && code == Some(0);
        if !over_before {
            assert_eq!(code, ref_code, "round {round}: {}", board.printed());
        }
        let mut got = statuses(&s, &format!("crashloop round {round}"));
        let mut want = ref_statuses.clone();
        got.remove(&format!("crashloop round {round}"));
        want.remove("crashloop round 1");
        assert_eq!(got, want, "round {round} ended differently");
    };
    while kills < iterations {
        // Stopped right after recovery and the clean-up, before anything is dispatched:
        // the repository must match the board now. (Or stopped earlier, at the armed point
        // inside the clean-up itself, removing a worktree: a kill there.)
        let mut early = false;
        if board.wait_stopped(Duration::from_secs(20)) {
            if board.stop_point(Duration::from_secs(5)) == "reconciled" {
                git::assert_consistent(&data, &repo, &format!("restart after {kills} kills"));
                checked += 1;
                board.cont();
            } else {
                early = true;
            }
        }
        let state = if early {
            Some(false)
        } else if board.running() {
            board.up_or_stopped(Duration::from_secs(20))
        } else {
            None
        };
        let exited_at_start = state.is_none();
        let mut at_point = state == Some(false);
        if exited_at_start {
            // It exited before listening: only a round that was over before the kill may
            // do that (the restart finds nothing to run).
            let code = board.wait_exit(Duration::from_secs(5));
            assert!(
                code == Some(0) && board.printed().contains("nothing to run"),
                "the board exited at start ({code:?}): {}",
                board.printed()
            );
        } else if !at_point {
            driver.set_addr(board.addr());
            probe::assert_gone(&old, "a process of an earlier run survived the restart");
            if armed.is_some() {
                // Until it stops at the armed point (or a while passes: a kill there anyway).
                at_point = board.wait_stopped(Duration::from_secs(3));
            } else {
                let wait = Duration::from_millis(rng.below(1500));
                let until = Instant::now() + wait;
                while Instant::now() < until && board.running() {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        if exited_at_start || !board.running() {
            let code = board.wait_exit(Duration::from_secs(5));
            check_round(round, code, &board);
            assert!(
                marked(&probe::board_id(&data)).is_empty(),
                "agents outlived a clean exit"
            );
            rounds += 1;
            round += 1;
            file = s.file(&format!("round-{round}.toml"), &round_goal(round));
            driver.clear_addr();
            armed = faults.arm(&mut rng);
            board = start(&s, Some(&file), armed, &mut rng);
            continue;
        }
        match (armed, at_point) {
            (Some(i), true) => faults.hits[i] += 1,
            (Some(i), false) => faults.misses[i] += 1,
            _ => {}
        }
        if !at_point {
            // (A board stopped at a fault point cannot move its tasks on: not looked at.)
            probe::assert_active_agents_have_processes(&data, Duration::from_secs(15));
        }
        let before = marked(&probe::board_id(&data));
        board.kill9();
        driver.clear_addr();
        kills += 1;
        old = before;
        old.extend(marked(&probe::board_id(&data)));
        probe::assert_integrity(&data);
        let acks = driver.acks();
        probe::assert_acked_present(&data, &acks, &driver.maybe_deleted());
        let title = format!("crashloop round {round}");
        armed = faults.arm(&mut rng);
        board = if probe::goal_stored(&data, &title) {
            recovered += 1;
            start(&s, None, armed, &mut rng)
        } else {
            start(&s, Some(&file), armed, &mut rng)
        };
    }
    // Let the last round finish without crashes; it must end like the others.
    while board.wait_stopped(Duration::from_secs(20)) {
        let at = board.stop_point(Duration::from_secs(5));
        if at == "reconciled" {
            git::assert_consistent(&data, &repo, "the last restart");
            checked += 1;
        }
        board.cont();
        if at == "reconciled" {
            break;
        }
    }
    let finish = board.up_or_stopped(Duration::from_secs(20));
    if finish == Some(false) {
        // Stopped at its armed point: this last run goes on past it.
        board.cont();
    }
    if finish.is_some() {
        driver.set_addr(board.addr());
        probe::assert_gone(&old, "a process of an earlier run survived the restart");
        loop {
            if board.wait_stopped(Duration::from_secs(90)) {
                board.cont();
                continue;
            }
            break;
        }
    }
    let code = board.wait_exit(Duration::from_secs(90));
    check_round(round, code, &board);
    rounds += 1;
    driver.stop();
    assert!(marked(&probe::board_id(&data)).is_empty());
    let acks = driver.acks();
    probe::assert_acked_present(&data, &acks, &driver.maybe_deleted());
    probe::assert_integrity(&data);
    let at_points: usize = faults.hits.iter().sum();
    println!(
        "crashloop: {kills} kills / {kills} iterations ({at_points} at fault points: {}; {} at random moments; {recovered} restarts with recovery), {rounds} rounds finished like the reference, {checked} restarts with git and diffs checked, {} acknowledged changes checked ({} goal deletions), {:.1} s",
        faults.summary(),
        kills - at_points,
        acks.len(),
        acks.iter().filter(|a| a.kind == "delete").count(),
        started.elapsed().as_secs_f64()
    );
    assert!(at_points > 0, "no kill at a fault point");
    if iterations >= 100 {
        for (p, n) in KILL_POINTS.iter().zip(faults.hits) {
            assert!(n > 0, "no kill at {p} in {iterations} kills");
        }
    }
}

fn iterations(default: usize) -> usize {
    std::env::var("ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn crash_loop() {
    run(iterations(20));
}

/// The long run (200 kills by default); see the README's "Reliability" section.
#[test]
#[ignore]
fn crash_loop_long() {
    run(iterations(200));
}

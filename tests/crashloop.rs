//! Crash loop (ARCHITECTURE §5): a goal of short command tasks, gates and parallel groups runs
//! headless while a driver thread posts signals and decisions over HTTP; the board gets
//! `kill -9` at random moments and is restarted on the same data dir. After every kill and
//! restart the invariants are checked: every change that got a 2xx is in the store, the
//! database passes `PRAGMA integrity_check`, no process of an earlier run survives, no agent
//! task stays `active` without a live process, and every round finishes with the statuses of a
//! run without crashes.
//!
//! `cargo test --test crashloop` runs 20 kills; `cargo test --release --test crashloop --
//! --ignored --nocapture` runs 200 (`ITERATIONS=N` changes either; `CRASHLOOP_SEED=S` replays).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "crashloop/driver.rs"]
mod driver;
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
    let mut g = format!(
        "title = \"crashloop round {round}\"\nparallel = true\nspawns_per_minute = 10000\n\n"
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
        sh("0.2")
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
            sh("0.1")
        ));
    }
    g.push_str("  [[task.task]]\n  title = \"approval\"\n  kind = \"signal\"\n  gate = \"human_approval\"\n");
    g.push_str("  [[task.task]]\n  title = \"fan\"\n  parallel = true\n");
    for i in 0..3 {
        g.push_str(&format!(
            "    [[task.task.task]]\n    title = \"fan {i}\"\n    {}",
            sh("0.2")
        ));
    }
    g.push_str(
        "[[task]]\ntitle = \"noise\"\nkind = \"signal\"\ngate = \"noise\"\nretries = 100000\n",
    );
    g
}

fn scratch() -> Scratch {
    let s = Scratch::new();
    s.file("config.toml", "spawns_per_minute = 10000\nmax_agents = 4\n");
    s
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
    let data = s.data();
    let driver = Arc::new(Driver::start(&data));
    let mut round = 1u32;
    let mut file = s.file("round-1.toml", &round_goal(1));
    let mut board = Board::start(&s, Some(&file));
    let (mut kills, mut rounds, mut recovered) = (0usize, 0usize, 0usize);
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
        let exited_at_start = !board.up(Duration::from_secs(20));
        if exited_at_start {
            // It exited before listening: only a round that was over before the kill may
            // do that (the restart finds nothing to run).
            let code = board.wait_exit(Duration::from_secs(5));
            assert!(
                code == Some(0) && board.printed().contains("nothing to run"),
                "the board exited at start ({code:?}): {}",
                board.printed()
            );
        } else {
            driver.set_addr(board.addr());
            probe::assert_gone(&old, "a process of an earlier run survived the restart");
            let wait = Duration::from_millis(rng.below(1500));
            let until = Instant::now() + wait;
            while Instant::now() < until && board.running() {
                std::thread::sleep(Duration::from_millis(10));
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
            board = Board::start(&s, Some(&file));
            continue;
        }
        probe::assert_active_agents_have_processes(&data, Duration::from_secs(15));
        let before = marked(&probe::board_id(&data));
        board.kill9();
        driver.clear_addr();
        kills += 1;
        old = before;
        old.extend(marked(&probe::board_id(&data)));
        probe::assert_integrity(&data);
        let acks = driver.acks();
        probe::assert_acked_present(&data, &acks);
        let title = format!("crashloop round {round}");
        board = if probe::goal_stored(&data, &title) {
            recovered += 1;
            Board::start(&s, None)
        } else {
            Board::start(&s, Some(&file))
        };
    }
    // Let the last round finish without crashes; it must end like the others.
    assert!(board.up(Duration::from_secs(20)), "{}", board.printed());
    driver.set_addr(board.addr());
    probe::assert_gone(&old, "a process of an earlier run survived the restart");
    let code = board.wait_exit(Duration::from_secs(90));
    check_round(round, code, &board);
    rounds += 1;
    driver.stop();
    assert!(marked(&probe::board_id(&data)).is_empty());
    let acks = driver.acks();
    probe::assert_acked_present(&data, &acks);
    probe::assert_integrity(&data);
    println!(
        "crashloop: {kills} kills / {kills} iterations ({recovered} restarts with recovery), {rounds} rounds finished like the reference, {} acknowledged changes checked, {:.1} s",
        acks.len(),
        started.elapsed().as_secs_f64()
    );
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

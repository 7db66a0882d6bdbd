//! Benchmark: one board tick (`handle(Tick)`: the full scheduling pass) on a 10,000-task
//! tree. Run: `cargo bench --bench board_tick` (prints median and p99 in microseconds).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Also compiled into tests/bench_smoke.rs, which uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use taskboard::board::{Board, Event, Limits};
use taskboard::command::Command;

/// A goal of `groups` groups × `per_group` agent tasks, alternating parallel and
/// sequential groups, with every other group depending on the previous one via `after`.
pub fn tree(groups: usize, per_group: usize) -> String {
    let mut s = String::from(
        "title = \"bench\"\nparallel = true\nmax_agents = 8\nspawns_per_minute = 1000000\n",
    );
    for g in 0..groups {
        s.push_str(&format!(
            "[[task]]\nkey = \"g{g}\"\ntitle = \"group {g}\"\nparallel = {}\n",
            g % 2 == 0
        ));
        if g % 2 == 1 {
            s.push_str(&format!("after = [\"g{}\"]\n", g - 1));
        }
        for t in 0..per_group {
            s.push_str(&format!("  [[task.task]]\n  title = \"task {g}.{t}\"\n  command = [\"true\"]\n  priority = {}\n", t % 3));
        }
    }
    s
}

/// Builds the board, lets a few tasks start and finish, then times `iters` ticks.
/// Returns (tasks, median µs, p99 µs).
pub fn measure(groups: usize, per_group: usize, iters: usize) -> (usize, f64, f64) {
    let goal = taskboard::goalfile::parse_str(
        &tree(groups, per_group),
        "bench.toml",
        Path::new("/tmp"),
        &BTreeMap::new(),
    )
    .expect("bench goal");
    let mut board = Board::new(
        Limits {
            max_agents: 8,
            spawns_per_minute: 1_000_000,
        },
        uuid::Uuid::nil(),
    );
    let mut now = 1_000_000;
    let out = board.handle(
        Event::Command {
            cmd: Command::AddGoal {
                goal: Box::new(goal),
            },
            who: "bench".into(),
        },
        now,
    );
    // Finish a few rounds of work so the tree has done, active and pending tasks.
    let mut fx = out.effects;
    for _ in 0..20 {
        let mut next = Vec::new();
        for e in fx {
            if let taskboard::board::Effect::Spawn(s) = e {
                now += 1;
                next.extend(
                    board
                        .handle(
                            Event::Spawned {
                                task: s.task,
                                attempt: s.attempt,
                                pid: 1,
                                workdir: None,
                            },
                            now,
                        )
                        .effects,
                );
                next.extend(
                    board
                        .handle(
                            Event::Exited {
                                task: s.task,
                                attempt: s.attempt,
                                code: 0,
                                signal: None,
                                tail: String::new(),
                            },
                            now,
                        )
                        .effects,
                );
            }
        }
        fx = next;
    }
    let tasks = board.tasks().count();
    let _ = board.take_changes();
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters {
        now += 10;
        let t = Instant::now();
        let out = board.handle(Event::Tick, now);
        samples.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(out);
        let _ = board.take_changes();
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let median = samples[samples.len() / 2];
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    (tasks, median, p99)
}

fn main() {
    let (tasks, median, p99) = measure(100, 100, 500);
    println!(
        "board tick on {tasks} tasks: median {median:.0} µs, p99 {p99:.0} µs (goal: under 1000 µs)"
    );
}

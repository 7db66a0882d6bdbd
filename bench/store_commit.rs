//! Benchmark B9: status-change events committed per second through the real board (pure
//! core + driver + group commit on the board's thread, synchronous=FULL), next to the
//! reference: a raw rusqlite writer thread with the same pragmas, the same rows and the same
//! group commit (`group_commit.rs`), driven by as many callers; in one run, interleaved.
//! A raw loop committing each change on its own is printed for information.
//! Run: `cargo bench --bench store_commit` (`-- --quick` for a short run).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Also compiled into tests/bench_smoke.rs, which uses only part of it.
#![allow(dead_code)]

#[path = "group_commit.rs"]
mod group_commit;

use std::time::{Duration, Instant};

use taskboard::command::{Command, SignalStatus};

/// Changes/s through the board: `clients` concurrent callers signal a gate that keeps
/// waiting (each call = one status change, committed before it is answered).
pub fn board_rate(clients: usize, secs: f64) -> f64 {
    board_rate_and_record(clients, secs).0
}

/// The rate, and the board's stored record of the gate (what the reference writes).
pub fn board_rate_and_record(clients: usize, secs: f64) -> (f64, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("data").join("taskboard.db");
    let data = taskboard::datadir::DataDir::new(dir.path().join("data"));
    let goal = taskboard::goalfile::parse_str(
        "title = \"b9\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"b9\"\nretries = 4000000000\n",
        "b9.toml",
        dir.path(),
        &Default::default(),
    )
    .expect("goal");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let config = taskboard::config::Config::default();
        let running =
            taskboard::runtime::start_board(&data, &config, Default::default()).expect("board");
        let board = running.handle.clone();
        board
            .command(
                Command::AddGoal {
                    goal: Box::new(goal),
                },
                "bench",
            )
            .await
            .expect("add");
        let end = Instant::now() + Duration::from_secs_f64(secs);
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let board = board.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < end {
                        let cmd = Command::Signal {
                            task: 2,
                            status: SignalStatus::Fail,
                            payload: serde_json::json!({"summary": "b9"}),
                        };
                        if board.command(cmd, "bench").await.is_ok() {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap_or(0);
        }
        running.shutdown().await;
        (total as f64 / secs, group_commit::task_json(&db))
    })
}

/// Changes/s of the reference: `clients` threads each queue a change and wait for its
/// commit by a rusqlite writer thread doing the board's group commit.
pub fn group_rate(clients: usize, secs: f64, task_json: &str) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = group_commit::Writer::start(dir.path(), task_json.to_string());
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let w = writer.clone_sender();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < end {
                    w.commit(r#"{"summary":"b9"}"#.to_string());
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    total as f64 / secs
}

/// Changes/s of a plain loop: one transaction per change (update the task row, add an
/// event row), WAL + synchronous=FULL, the same schema shape.
pub fn raw_rate(secs: f64) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = rusqlite::Connection::open(dir.path().join("raw.db")).expect("db");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("sync");
    conn.execute_batch(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, status TEXT, data TEXT);
         CREATE TABLE events (id INTEGER PRIMARY KEY, task INTEGER, at INTEGER, kind TEXT, payload TEXT);
         INSERT INTO tasks VALUES (2, 'active', '{}');",
    )
    .expect("schema");
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut n = 0u64;
    while Instant::now() < end {
        let tx = conn.unchecked_transaction().expect("tx");
        tx.execute(
            "UPDATE tasks SET status = 'active', data = ?1 WHERE id = 2",
            [format!("{{\"retry\":{n}}}")],
        )
        .expect("update");
        tx.execute(
            "INSERT INTO events (task, at, kind, payload) VALUES (2, ?1, 'signal', '{}')",
            [n as i64],
        )
        .expect("insert");
        tx.commit().expect("commit");
        n += 1;
    }
    n as f64 / secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (secs, reps) = if quick { (1.0, 1) } else { (3.0, 5) };
    let clients = std::env::args()
        .skip_while(|a| a != "--clients")
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(16);
    let (mut ours, mut group, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    let mut record = String::new();
    for rep in 0..reps {
        // Alternate who goes first.
        if rep % 2 == 1 {
            group.push(group_rate(clients, secs, &record));
        }
        let (o, r) = board_rate_and_record(clients, secs);
        ours.push(o);
        record = r;
        if rep % 2 == 0 {
            group.push(group_rate(clients, secs, &record));
        }
        raw.push(raw_rate(secs));
    }
    let (o, g, r) = (
        median(ours.clone()),
        median(group.clone()),
        median(raw.clone()),
    );
    let runs = |v: &[f64]| v.iter().map(|x| *x as u64).collect::<Vec<_>>();
    println!("B9 store: status changes committed per second ({reps}x{secs}s interleaved, {clients} callers, task record {} bytes)", record.len());
    println!(
        "  taskboard board ({clients} callers, group commit){o:>9.0}/s  runs {:?}",
        runs(&ours)
    );
    println!(
        "  raw rusqlite, group commit ({clients} callers) {g:>9.0}/s  runs {:?}",
        runs(&group)
    );
    println!(
        "  raw rusqlite, one commit per change (1 caller) {r:>9.0}/s  runs {:?}",
        runs(&raw)
    );
    println!(
        "  ratio taskboard / group-commit reference: {:.2} (goal >= 0.80)",
        o / g
    );
    println!(
        "  (information) ratio taskboard / one-commit-per-change loop: {:.2}",
        o / r
    );
}

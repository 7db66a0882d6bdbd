//! The references' store for B9 and B10-durable: a plain rusqlite writer thread with the
//! board's pragmas (WAL, synchronous=FULL, foreign keys), the board's two tables and the
//! board's group commit: it takes every change queued while it was committing, writes the
//! task's row once (the board writes a task once per batch, in its last state) and one
//! event row per change, commits once, then answers each caller.
// Compiled into several benches and tests/bench_smoke.rs, each using part of it.
#![allow(dead_code)]

use std::path::Path;
use std::sync::mpsc;

/// One queued change: its event payload and how to answer once it is committed.
pub type Change = (String, Box<dyn FnOnce() + Send>);

pub struct Writer {
    tx: mpsc::Sender<Change>,
}

impl Writer {
    /// A writer on a new database in `dir` whose task row holds `task_json` (the board's
    /// own record for the same task, so both write the same bytes).
    pub fn start(dir: &Path, task_json: String) -> Writer {
        let conn = rusqlite::Connection::open(dir.join("reference.db")).expect("db");
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("wal");
        conn.pragma_update(None, "synchronous", "FULL")
            .expect("sync");
        conn.pragma_update(None, "foreign_keys", "ON").expect("fk");
        conn.execute_batch(
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES tasks(id) ON DELETE CASCADE,
                goal INTEGER NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, title TEXT NOT NULL,
                data TEXT NOT NULL, updated_at INTEGER NOT NULL);
             CREATE INDEX tasks_goal ON tasks(goal);
             CREATE TABLE events (id INTEGER PRIMARY KEY, task INTEGER, at INTEGER NOT NULL,
                who TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL);
             CREATE INDEX events_task ON events(task);
             INSERT INTO tasks VALUES (1, NULL, 1, 'group', 'active', 'bench', '{}', 0);
             INSERT INTO tasks VALUES (2, 1, 1, 'signal', 'active', 'gate', '{}', 0);",
        )
        .expect("schema");
        let (tx, rx) = mpsc::channel::<Change>();
        std::thread::Builder::new()
            .name("reference-writer".into())
            .spawn(move || run(conn, rx, task_json))
            .expect("writer thread");
        Writer { tx }
    }

    /// Queues a change; `done` runs once it is committed.
    pub fn send(&self, payload: String, done: Box<dyn FnOnce() + Send>) {
        let _ = self.tx.send((payload, done));
    }

    /// Queues a change and waits until it is committed.
    pub fn commit(&self, payload: String) {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(
            payload,
            Box::new(move || {
                let _ = tx.send(());
            }),
        );
        let _ = rx.recv();
    }

    pub fn clone_sender(&self) -> Writer {
        Writer {
            tx: self.tx.clone(),
        }
    }
}

fn run(mut conn: rusqlite::Connection, rx: mpsc::Receiver<Change>, task_json: String) {
    let mut n: i64 = 0;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let tx = conn.transaction().expect("tx");
        {
            let mut up = tx
                .prepare_cached(
                    "INSERT INTO tasks (id, parent, goal, kind, status, title, data, updated_at) VALUES (2, 1, 1, 'signal', 'active', 'gate', ?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET status = excluded.status, title = excluded.title, data = excluded.data, updated_at = excluded.updated_at",
                )
                .expect("prepare");
            up.execute(rusqlite::params![task_json, n]).expect("task");
            let mut ev = tx
                .prepare_cached(
                    "INSERT INTO events (task, at, who, kind, payload) VALUES (2, ?1, 'http:bench', 'signal', ?2)",
                )
                .expect("prepare");
            for (payload, _) in &batch {
                n += 1;
                ev.execute(rusqlite::params![n, payload]).expect("event");
            }
        }
        tx.commit().expect("commit");
        for (_, done) in batch {
            done();
        }
    }
}

/// The board's record of task 2 in a taskboard data dir (what the reference writes).
pub fn task_json(db: &Path) -> String {
    rusqlite::Connection::open(db)
        .and_then(|c| c.query_row("SELECT data FROM tasks WHERE id = 2", [], |r| r.get(0)))
        .unwrap_or_else(|_| "{}".to_string())
}

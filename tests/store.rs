//! The SQLite store on a real file: pragmas, migrations, round trips, refusing newer or
//! damaged databases without touching them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::*;
use taskboard::board::AuditEvent;
use taskboard::model::{Kind, Status, Task, TaskSpec};
use taskboard::store::{Batch, Store, StoreError};

fn task(id: u64, parent: Option<u64>) -> Task {
    let spec = TaskSpec {
        title: format!("task {id}"),
        ..TaskSpec::default()
    };
    Task::new(
        id,
        parent,
        parent.map(|_| 1).unwrap_or(id),
        if parent.is_none() {
            Kind::Group
        } else {
            Kind::Agent
        },
        spec,
        1000,
    )
}

fn db(dir: &Path) -> std::path::PathBuf {
    dir.join("taskboard.db")
}

#[test]
fn fresh_database_has_wal_full_sync_foreign_keys_and_current_schema() {
    let d = tempfile::tempdir().unwrap();
    let _store = Store::open(&db(d.path())).unwrap();
    let conn = rusqlite::Connection::open(db(d.path())).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    // synchronous and foreign_keys are per connection: check through a committed FK violation.
    let mut store = Store::open(&db(d.path())).unwrap();
    let orphan = Batch {
        tasks: vec![task(5, Some(99))],
        ..Batch::default()
    };
    assert!(store.commit(&orphan).is_err(), "foreign keys are enforced");
}

#[test]
fn batches_round_trip_and_fail_whole() {
    let d = tempfile::tempdir().unwrap();
    let mut store = Store::open(&db(d.path())).unwrap();
    let mut t2 = task(2, Some(1));
    t2.status = Status::Done;
    t2.reason = "fine".into();
    let audit = AuditEvent {
        task: Some(2),
        at: 5,
        who: "cli".into(),
        kind: "status".into(),
        payload: serde_json::json!({"x": 1}),
    };
    store
        .commit(&Batch {
            tasks: vec![task(1, None), t2],
            audit: vec![audit.clone()],
            ..Batch::default()
        })
        .unwrap();
    let loaded = store.load_tasks().unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[1].status, Status::Done);
    assert_eq!(loaded[1].reason, "fine");
    assert_eq!(store.audit(2).unwrap(), vec![audit]);
    // A batch with one bad row changes nothing.
    let mut t3 = task(3, Some(1));
    t3.status = Status::Failed;
    let bad = Batch {
        tasks: vec![t3, task(4, Some(77))],
        ..Batch::default()
    };
    assert!(store.commit(&bad).is_err());
    assert_eq!(
        store.load_tasks().unwrap().len(),
        2,
        "nothing of a failed batch is kept"
    );
    // Deleting a parent removes its children (cascade).
    store
        .commit(&Batch {
            deleted: vec![1],
            ..Batch::default()
        })
        .unwrap();
    assert!(store.load_tasks().unwrap().is_empty());
}

#[test]
fn newer_database_is_refused_and_left_alone() {
    let d = tempfile::tempdir().unwrap();
    drop(Store::open(&db(d.path())).unwrap());
    let conn = rusqlite::Connection::open(db(d.path())).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let before = std::fs::read(db(d.path())).unwrap();
    let err = Store::open(&db(d.path())).err().expect("refused");
    assert!(
        matches!(
            err,
            StoreError::Newer {
                found: 99,
                known: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("newer taskboard"), "{err}");
    assert_eq!(std::fs::read(db(d.path())).unwrap(), before);
}

#[test]
fn garbage_and_truncated_databases_get_a_clear_error_and_no_overwrite() {
    let d = tempfile::tempdir().unwrap();
    let path = db(d.path());
    std::fs::write(
        &path,
        b"this is not a database at all, just some bytes that go on and on".repeat(100),
    )
    .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("move it away"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // A real database cut in half.
    let d2 = tempfile::tempdir().unwrap();
    let path2 = db(d2.path());
    {
        let mut s = Store::open(&path2).unwrap();
        let tasks: Vec<Task> = std::iter::once(task(1, None))
            .chain((2..400).map(|i| task(i, Some(1))))
            .collect();
        s.commit(&Batch {
            tasks,
            ..Batch::default()
        })
        .unwrap();
    }
    let conn = rusqlite::Connection::open(&path2).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(conn);
    let full = std::fs::read(&path2).unwrap();
    std::fs::write(&path2, &full[..full.len() / 2]).unwrap();
    let _ = std::fs::remove_file(d2.path().join("taskboard.db-wal"));
    let cut = std::fs::read(&path2).unwrap();
    let err = Store::open(&path2).err().expect("refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(std::fs::read(&path2).unwrap(), cut);
}

#[test]
fn cli_refuses_a_corrupt_database_with_what_to_do() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.data()).unwrap();
    std::fs::write(
        s.data().join("taskboard.db"),
        b"garbage garbage garbage".repeat(200),
    )
    .unwrap();
    let f = s.file(
        "g.toml",
        "title = \"g\"\n[[task]]\ntitle = \"t\"\ncommand = [\"true\"]\nworktree = false\n",
    );
    let out = s.run(&["run", f.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is damaged") && err.contains("mv "), "{err}");
    let out = s.run(&["status"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_reader_that_opens_the_file_before_its_tables_exist_waits_for_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db(dir.path());
    // The file exists but has no schema yet (a board is starting up).
    drop(rusqlite::Connection::open(&path).expect("create"));
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            // The premise: the tables come after the reader started waiting for them (no
            // event to wait on: the reader is blocked inside open_read_only).
            std::thread::sleep(std::time::Duration::from_millis(300));
            Store::open(&path).expect("the board creates its tables")
        })
    };
    let reader = Store::open_read_only(&path).expect("the reader waits, then reads");
    assert!(reader.load_tasks().expect("tables exist now").is_empty());
    drop(writer.join().expect("writer"));
}

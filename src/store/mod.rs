//! The SQLite store: one writer connection on its own thread, forward-only migrations, and
//! a clear error (never an overwrite) for a database that is newer or damaged.

mod schema;
mod thread;

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::model::AuditEvent;
use crate::model::{Task, TaskId};
pub use thread::{Committer, ReadJob, StoreHandle};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {path} was written by a newer taskboard (schema {found}; this build knows up to {known}). Upgrade taskboard, or use another --data-dir.", path = .path.display())]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the database {path} is damaged ({detail}). taskboard left it as it is: move it away (mv {path} {path}.bad) to start fresh, or restore a backup.", path = .path.display())]
    Corrupt { path: PathBuf, detail: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored task #{id} cannot be read: {detail}")]
    BadRow { id: TaskId, detail: String },
    #[error("the database {path} has a damaged row: task #{id} cannot be read ({detail}). taskboard left it as it is: move it away (mv {path} {path}.bad) to start fresh, or restore a backup.", path = .path.display())]
    DamagedRow {
        path: PathBuf,
        id: TaskId,
        detail: String,
    },
}

impl StoreError {
    /// The disk is full, read-only or failing: a later try may succeed once it is fixed.
    pub fn is_disk_trouble(&self) -> bool {
        use rusqlite::ErrorCode::*;
        matches!(
            self,
            StoreError::Sqlite(e) if matches!(
                e.sqlite_error_code(),
                Some(DiskFull | ReadOnly | SystemIoFailure | CannotOpen | DatabaseBusy | DatabaseLocked)
            )
        )
    }
}

/// Everything one drain of the board changed: committed as one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub tasks: Vec<Task>,
    pub deleted: Vec<TaskId>,
    pub audit: Vec<AuditEvent>,
    pub meta: Vec<(String, String)>,
    pub idempotency: Vec<IdempotentAnswer>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
            && self.deleted.is_empty()
            && self.audit.is_empty()
            && self.meta.is_empty()
            && self.idempotency.is_empty()
    }
}

/// A write's first answer, kept so that a repeat with the same key returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct IdempotentAnswer {
    pub scope: String,
    pub key: String,
    pub status: u16,
    pub body: String,
    pub at: i64,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database for writing and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.check_readable()?;
        store.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        store
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| store.classify(e))?;
        store.conn.pragma_update(None, "synchronous", "FULL")?;
        store.conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&store.conn, &store.path)?;
        Ok(store)
    }

    /// Opens an existing database read-only (for `status` while a board runs).
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.check_readable()?;
        store.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let read_version = || -> Result<i64, StoreError> {
            Ok(store
                .conn
                .pragma_query_value(None, "user_version", |r| r.get(0))?)
        };
        let mut version = read_version()?;
        // A board that just created the file commits its tables within moments.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while version == 0 && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
            version = read_version()?;
        }
        if version > schema::CURRENT {
            return Err(StoreError::Newer {
                path: path.to_path_buf(),
                found: version,
                known: schema::CURRENT,
            });
        }
        Ok(store)
    }

    fn check_readable(&self) -> Result<(), StoreError> {
        let check: Result<String, _> = self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0));
        match check {
            Ok(s) if s == "ok" => Ok(()),
            Ok(s) => Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: s,
            }),
            Err(e) => Err(self.classify(e)),
        }
    }

    fn classify(&self, e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode::*;
        match e.sqlite_error_code() {
            Some(NotADatabase | DatabaseCorrupt) => StoreError::Corrupt {
                path: self.path.clone(),
                detail: e.to_string(),
            },
            _ => StoreError::Sqlite(e),
        }
    }

    pub fn load_tasks(&self) -> Result<Vec<Task>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, data FROM tasks ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, data) = row.map_err(|e| self.classify(e))?;
            let task: Task = serde_json::from_str(&data).map_err(|e| StoreError::DamagedRow {
                path: self.path.clone(),
                id: id as TaskId,
                detail: e.to_string(),
            })?;
            out.push(task);
        }
        Ok(out)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn audit(&self, task: TaskId) -> Result<Vec<AuditEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, who, kind, payload FROM events WHERE task = ?1 ORDER BY id")?;
        let rows = stmt.query_map([task as i64], |r| {
            Ok(AuditEvent {
                task: Some(task),
                at: r.get(0)?,
                who: r.get(1)?,
                kind: r.get(2)?,
                payload: serde_json::from_str(&r.get::<_, String>(3)?)
                    .unwrap_or(serde_json::Value::Null),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn idempotent(
        &self,
        scope: &str,
        key: &str,
        since: i64,
    ) -> Result<Option<(u16, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT status, body FROM idempotency WHERE scope = ?1 AND key = ?2 AND at >= ?3",
                params![scope, key, since],
                |r| Ok((r.get::<_, u16>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?)
    }

    /// Commits a batch in one transaction; nothing of it is kept if any part fails.
    pub fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.commit_many(std::slice::from_ref(batch))
    }

    /// Commits several batches, in order, as one transaction (group commit). A task written
    /// by several batches is written once, in its last state; ids are never reused, so a
    /// deleted task stays deleted.
    pub fn commit_many(&mut self, batches: &[Batch]) -> Result<(), StoreError> {
        let deleted: std::collections::HashSet<TaskId> = batches
            .iter()
            .flat_map(|b| b.deleted.iter().copied())
            .collect();
        let mut last: std::collections::BTreeMap<TaskId, &Task> = std::collections::BTreeMap::new();
        for t in batches.iter().flat_map(|b| b.tasks.iter()) {
            if !deleted.contains(&t.id) {
                last.insert(t.id, t);
            }
        }
        let now = crate::model::now_millis();
        let tx = self.conn.transaction()?;
        {
            // Parents have smaller ids than their children: id order satisfies the foreign key.
            let mut up = tx.prepare_cached(
                "INSERT INTO tasks (id, parent, goal, kind, status, title, data, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(id) DO UPDATE SET status = excluded.status, title = excluded.title, data = excluded.data, updated_at = excluded.updated_at",
            )?;
            for t in last.values() {
                let data = serde_json::to_string(t).map_err(|e| StoreError::BadRow {
                    id: t.id,
                    detail: e.to_string(),
                })?;
                up.execute(params![
                    t.id as i64,
                    t.parent.map(|p| p as i64),
                    t.goal as i64,
                    t.kind.as_str(),
                    t.status.as_str(),
                    t.spec.title,
                    data,
                    now
                ])?;
            }
            let mut del = tx.prepare_cached("DELETE FROM tasks WHERE id = ?1")?;
            let mut ev = tx.prepare_cached(
                "INSERT INTO events (task, at, who, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut meta = tx.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")?;
            let mut idem = tx.prepare_cached("INSERT OR IGNORE INTO idempotency (scope, key, status, body, at) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for batch in batches {
                for id in batch.deleted.iter().rev() {
                    del.execute([*id as i64])?;
                }
                for e in &batch.audit {
                    ev.execute(params![
                        e.task.map(|t| t as i64),
                        e.at,
                        e.who,
                        e.kind,
                        e.payload.to_string()
                    ])?;
                }
                for (k, v) in &batch.meta {
                    meta.execute(params![k, v])?;
                }
                for a in &batch.idempotency {
                    idem.execute(params![a.scope, a.key, a.status, a.body, a.at])?;
                }
            }
        }
        crate::fault::point(crate::fault::STORE_COMMIT);
        tx.commit()?;
        Ok(())
    }

    /// Idempotency answers newer than `since`, for the board's in-memory cache.
    pub fn load_idempotency(&self, since: i64) -> Result<Vec<IdempotentAnswer>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT scope, key, status, body, at FROM idempotency WHERE at >= ?1")?;
        let rows = stmt.query_map([since], |r| {
            Ok(IdempotentAnswer {
                scope: r.get(0)?,
                key: r.get(1)?,
                status: r.get(2)?,
                body: r.get(3)?,
                at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Drops idempotency answers older than `before`.
    pub fn prune_idempotency(&self, before: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM idempotency WHERE at < ?1", [before])?;
        Ok(())
    }
}

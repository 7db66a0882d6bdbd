//! Storage faults (ARCHITECTURE §5): the data dir's disk fills up (a tiny tmpfs) or turns
//! read-only (ext4 on a loop device, forced read-only the way the kernel does after an I/O
//! error) while the board runs; and damaged databases at start. The board must say so, never
//! answer 2xx for a change it could not store, keep its store in step with what it shows once
//! the disk is back, and never overwrite a damaged database.
//!
//! These tests need root (mount, loop devices): when a mount is impossible they fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

const LONG: Duration = Duration::from_secs(30);

/// A filesystem mounted on a test's data dir; unmounted when dropped.
struct Mount {
    dir: PathBuf,
}

fn sh(args: &[&str]) -> (bool, String) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", args[0]));
    (out.status.success(), text(&out))
}

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).expect("mkdir");
        let d = dir.to_str().expect("utf8");
        let (ok, out) = sh(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            // 0700: a tmpfs root is 1777 otherwise, a data dir every user may write, which
            // every word refuses.
            &format!("size={size},mode=0700"),
            "tmpfs",
            d,
        ]);
        assert!(
            ok,
            "cannot mount a tmpfs on {d} (these tests need root): {out}"
        );
        Mount { dir: dir.into() }
    }

    /// ext4 in `image`, mounted so that an error turns it read-only (`errors=remount-ro`).
    fn ext4(dir: &Path, image: &Path) -> Mount {
        std::fs::create_dir_all(dir).expect("mkdir");
        let img = image.to_str().expect("utf8");
        if !image.exists() {
            let f = std::fs::File::create(image).expect("image");
            f.set_len(32 << 20).expect("size the image");
            let (ok, out) = sh(&["mkfs.ext4", "-q", "-F", img]);
            assert!(ok, "mkfs.ext4 failed: {out}");
        }
        let d = dir.to_str().expect("utf8");
        let (ok, out) = sh(&["mount", "-o", "loop,errors=remount-ro", img, d]);
        assert!(
            ok,
            "cannot loop-mount an ext4 image on {d} (these tests need root): {out}"
        );
        Mount { dir: dir.into() }
    }

    /// What ext4 does after an I/O error: the filesystem turns read-only under every open
    /// file (the kernel's `trigger_fs_error` test hook).
    fn force_read_only(&self) {
        let (ok, src) = sh(&[
            "findmnt",
            "-n",
            "-o",
            "SOURCE",
            self.dir.to_str().expect("utf8"),
        ]);
        assert!(ok, "findmnt: {src}");
        let dev = src.trim().rsplit('/').next().expect("device").to_string();
        std::fs::write(
            format!("/sys/fs/ext4/{dev}/trigger_fs_error"),
            "taskboard test\n",
        )
        .expect("trigger an ext4 error");
        let probe = std::fs::write(self.dir.join("probe"), "x");
        assert!(probe.is_err(), "the filesystem is still writable");
    }

    /// Writes a file until the disk is full; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let p = self.dir.join("filler");
        let mut f = std::fs::File::create(&p).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let mut byte = [0u8; 1];
        while f.write_all(&byte[..]).is_ok() {
            byte[0] = 1;
        }
        let _ = f.sync_all();
        p
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let d = self.dir.to_str().unwrap_or_default();
        if !sh(&["umount", d]).0 {
            let _ = sh(&["umount", "-l", d]);
        }
    }
}

/// A goal of two waiting gates and a running agent: `noise` takes fail signals (it has
/// retries to spare), `final` takes one pass.
const GOAL: &str = "title = \"store\"\nparallel = true\n[[task]]\ntitle = \"noise\"\nkind = \"signal\"\ngate = \"noise\"\nretries = 1000\n[[task]]\ntitle = \"final\"\nkind = \"signal\"\ngate = \"final\"\n[[task]]\ntitle = \"agent\"\ncommand = [\"sleep\", \"600\"]\nworktree = false\n";

fn id(live: &Live, title: &str) -> u64 {
    let (_, v) = live.req("GET", "/api/goals", None);
    by_title(&flatten(&v), title)["id"].as_u64().expect("id")
}

fn signal(live: &Live, task: u64, status: &str) -> (u16, serde_json::Value) {
    live.req(
        "POST",
        &format!("/api/tasks/{task}/signal"),
        Some(&format!(
            "{{\"status\":\"{status}\",\"payload\":{{\"summary\":\"s\"}}}}"
        )),
    )
}

/// Statuses and retries used of the gates, as the running board shows them.
fn gates(live: &Live) -> Vec<(String, String, u64)> {
    let (code, v) = live.req("GET", "/api/goals", None);
    assert_eq!(code, 200, "{v}");
    flatten(&v)
        .iter()
        .filter(|t| t["kind"] == "signal")
        .map(|t| {
            (
                t["title"].as_str().unwrap_or("").to_string(),
                t["status"].as_str().unwrap_or("").to_string(),
                t["retries_used"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn audit_count(data: &Path, task: u64, kind: &str) -> i64 {
    rusqlite::Connection::open(data.join("taskboard.db"))
        .expect("db")
        .query_row(
            "SELECT COUNT(*) FROM events WHERE task = ?1 AND kind = ?2",
            rusqlite::params![task as i64, kind],
            |r| r.get(0),
        )
        .expect("count")
}

fn start(s: &Scratch, goal: bool) -> Live {
    let f = s.file("store.toml", GOAL);
    let live = Live::start(s, goal.then_some(f.as_path()), &[]);
    assert!(wait_for(LONG, || gates(&live)
        .iter()
        .any(|g| g.0 == "noise" && g.1 == "active")));
    live
}

#[test]
fn a_full_disk_gets_503_and_the_store_catches_up_when_space_returns() {
    let s = Scratch::new();
    let m = Mount::tmpfs(&s.data(), "8m");
    let mut live = start(&s, true);
    let (noise, fin) = (id(&live, "noise"), id(&live, "final"));
    for _ in 0..3 {
        assert_eq!(signal(&live, noise, "fail").0, 200);
    }
    let filler = m.fill();
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (code, v) = signal(&live, noise, "fail");
        if code == 503 {
            assert_eq!(v["error"]["code"], "storage", "{v}");
            let msg = v["error"]["message"].as_str().unwrap_or("");
            assert!(
                msg.contains("could not store") && msg.contains("full"),
                "{msg}"
            );
        }
        codes.push(code);
    }
    let (final_code, _) = signal(&live, fin, "pass");
    assert!(
        codes.iter().all(|c| *c == 503) && final_code == 503,
        "{codes:?} {final_code}"
    );
    assert!(
        wait_for(Duration::from_secs(5), || live
            .printed()
            .contains("STORAGE ERROR")),
        "headless output says nothing: {}",
        live.printed()
    );
    // Reads still work while writes fail.
    let (code, _) = http(&live.addr(), "GET", "/api/health", None, &[]);
    assert_eq!(code, 200);
    std::fs::remove_file(filler).expect("free the disk");
    assert_eq!(signal(&live, noise, "fail").0, 200, "writes work again");
    let shown = gates(&live);
    live.kill9();
    let live = start(&s, false);
    assert_eq!(
        gates(&live),
        shown,
        "after a restart the store must hold what the board showed"
    );
    let used = shown
        .iter()
        .find(|g| g.0 == "noise")
        .map(|g| g.2)
        .unwrap_or(0);
    assert_eq!(
        audit_count(&s.data(), noise, "signal") as u64,
        used,
        "every applied signal is audited"
    );
    drop(live);
    drop(m);
}

#[test]
fn a_data_dir_that_turns_read_only_gets_503_and_keeps_only_what_was_acknowledged() {
    let s = Scratch::new();
    let image = s.path().join("disk.img");
    let m = Mount::ext4(&s.data(), &image);
    let mut live = start(&s, true);
    let (noise, fin) = (id(&live, "noise"), id(&live, "final"));
    for _ in 0..2 {
        assert_eq!(signal(&live, noise, "fail").0, 200);
    }
    m.force_read_only();
    let started = std::time::Instant::now();
    let (code, v) = signal(&live, fin, "pass");
    assert_eq!(code, 503, "{v}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a failing write must not hang"
    );
    let msg = v["error"]["message"].as_str().unwrap_or("").to_lowercase();
    assert!(
        msg.contains("could not store") && (msg.contains("read") || msg.contains("i/o")),
        "{msg}"
    );
    for _ in 0..3 {
        assert_eq!(signal(&live, noise, "fail").0, 503);
    }
    assert!(wait_for(Duration::from_secs(5), || live
        .printed()
        .contains("STORAGE ERROR")));
    let (code, _) = http(&live.addr(), "GET", "/api/health", None, &[]);
    assert_eq!(code, 200, "the board is still up");
    live.kill9();
    drop(m);
    // The disk comes back (after the admin fixed it): only the acknowledged changes are there.
    let m = Mount::ext4(&s.data(), &image);
    let live = start(&s, false);
    let after = gates(&live);
    assert!(
        after.contains(&("noise".into(), "active".into(), 2)),
        "{after:?}"
    );
    assert!(
        after.contains(&("final".into(), "active".into(), 0)),
        "{after:?}"
    );
    assert_eq!(audit_count(&s.data(), noise, "signal"), 2);
    assert_eq!(audit_count(&s.data(), fin, "signal"), 0);
    drop(live);
    drop(m);
}

#[test]
fn a_full_or_read_only_data_dir_at_start_is_a_clear_error() {
    let s = Scratch::new();
    let m = Mount::tmpfs(&s.data(), "1m");
    m.fill();
    let f = s.file("store.toml", GOAL);
    let out = s.run(&["run", f.to_str().expect("utf8"), "--headless"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("No space left") || err.contains("full"),
        "{err}"
    );
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one sentence, no backtrace: {err}"
    );
    drop(m);

    let s = Scratch::new();
    let m = Mount::ext4(&s.data(), &s.path().join("disk.img"));
    m.force_read_only();
    let f = s.file("store.toml", GOAL);
    let out = s.run(&["run", f.to_str().expect("utf8"), "--headless"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("Read-only file system"), "{err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "one sentence, no backtrace: {err}"
    );
    drop(m);
}

/// A database with some history, closed cleanly (WAL checkpointed).
fn history(s: &Scratch) {
    let f = s.file(
        "h.toml",
        "title = \"h\"\n[[task]]\ntitle = \"t\"\ncommand = [\"true\"]\nworktree = false\n",
    );
    for _ in 0..30 {
        let out = s.run(&["add", f.to_str().expect("utf8")]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let c = rusqlite::Connection::open(s.data().join("taskboard.db")).expect("db");
    c.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .expect("checkpoint");
}

fn assert_refused_untouched(s: &Scratch, says: &[&str]) {
    let db = s.data().join("taskboard.db");
    let before = std::fs::read(&db).expect("db");
    let f = s.file("n.toml", GOAL);
    for args in [
        vec!["run", f.to_str().expect("utf8"), "--headless"],
        vec!["status"],
    ] {
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        for w in says {
            assert!(err.contains(w), "{args:?}: {err}");
        }
        assert!(
            err.contains(&db.display().to_string()),
            "names the file: {err}"
        );
    }
    let after = std::fs::read(&db).expect("db");
    assert!(
        after == before,
        "the database was changed ({} → {} bytes)",
        before.len(),
        after.len()
    );
}

#[test]
fn a_damaged_btree_page_is_refused_and_left_alone() {
    let s = Scratch::new();
    history(&s);
    let db = s.data().join("taskboard.db");
    let mut bytes = std::fs::read(&db).expect("db");
    // Scribble over the second page (the first table's b-tree), past the file header.
    for b in &mut bytes[4096..4096 + 64] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).expect("write");
    assert_refused_untouched(&s, &["damaged", "mv "]);
}

#[test]
fn a_damaged_task_row_is_refused_with_what_to_do() {
    let s = Scratch::new();
    history(&s);
    let c = rusqlite::Connection::open(s.data().join("taskboard.db")).expect("db");
    c.execute(
        "UPDATE tasks SET data = '{\"id\": 3, \"broken' WHERE id = 3",
        [],
    )
    .expect("damage a row");
    c.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .expect("checkpoint");
    drop(c);
    assert_refused_untouched(&s, &["#3", "mv "]);
}

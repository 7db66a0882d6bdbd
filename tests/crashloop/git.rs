//! The crash loop's look at git work after a restart (the board stopped itself at the
//! `reconciled` fault point: recovery and the clean-up are done, nothing dispatched yet):
//! `git worktree list` matches the board, no lock file is left, and every review diff the
//! store records is whole on disk.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::Digest;

/// `(path, flags)` of every worktree but the main one; flags are `locked`/`prunable` lines.
fn listed(repo: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let out = Command::new("git")
        .args(["worktree", "list", "--porcelain"])
        .current_dir(repo)
        .output()
        .expect("git worktree list");
    assert!(out.status.success(), "git worktree list failed");
    String::from_utf8_lossy(&out.stdout)
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .skip(1)
        .map(|b| {
            let path = b
                .lines()
                .find_map(|l| l.strip_prefix("worktree "))
                .map(PathBuf::from)
                .unwrap_or_default();
            let flags = b
                .lines()
                .filter(|l| l.starts_with("locked") || l.starts_with("prunable"))
                .map(str::to_string)
                .collect();
            (path, flags)
        })
        .collect()
}

fn canon(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A lock file, its age and the processes that have it open (for a failure message).
fn who_has(lock: &Path) -> String {
    let age = std::fs::metadata(lock)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| m.elapsed().ok())
        .map(|d| format!("{} ms old", d.as_millis()))
        .unwrap_or_default();
    let mut open = Vec::new();
    for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        for fd in std::fs::read_dir(p.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if std::fs::read_link(fd.path()).is_ok_and(|t| t == lock) {
                let cmd = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
                open.push(String::from_utf8_lossy(&cmd).replace('\0', " "));
            }
        }
    }
    format!("{} ({age}; open in {open:?})", lock.display())
}

/// Every `*.lock` file under `dir`.
fn locks(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "lock") {
                out.push(p);
            }
        }
    }
    out
}

/// What the store says: every task `(id, goal)` and the data of each.
fn stored(data: &Path) -> Vec<(u64, u64, Value)> {
    let c = super::probe::open(data);
    let mut stmt = c
        .prepare("SELECT id, goal, data FROM tasks")
        .expect("read tasks");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, String>(2)?,
            ))
        })
        .expect("query");
    rows.map(|r| r.expect("row"))
        .map(|(id, goal, d)| (id, goal, serde_json::from_str(&d).unwrap_or(Value::Null)))
        .collect()
}

/// The repository matches the board after a restart; panics with what does not.
pub fn assert_consistent(data: &Path, repo: &Path, when: &str) {
    let wt_dir = canon(&data.join("worktrees"));
    let tasks = stored(data);
    let listed = listed(repo);
    for (p, flags) in &listed {
        assert!(
            canon(p).starts_with(&wt_dir),
            "{when}: a worktree outside the data dir: {}",
            p.display()
        );
        assert!(
            flags.is_empty(),
            "{when}: {} is {flags:?} after the clean-up",
            p.display()
        );
    }
    let registered: BTreeSet<PathBuf> = listed.iter().map(|(p, _)| canon(p)).collect();
    let on_disk: BTreeSet<PathBuf> = std::fs::read_dir(&wt_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| canon(&e.path()))
        .collect();
    assert_eq!(
        registered, on_disk,
        "{when}: `git worktree list` and <data>/worktrees differ"
    );
    let names: BTreeSet<(u64, u64)> = tasks.iter().map(|(id, g, _)| (*g, *id)).collect();
    for p in &on_disk {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        let pair = name
            .split_once('-')
            .and_then(|(g, t)| Some((g.parse().ok()?, t.parse().ok()?)));
        assert!(
            pair.is_some_and(|pair| names.contains(&pair)),
            "{when}: worktree {name} belongs to no task on the board"
        );
    }
    for (id, _, t) in &tasks {
        if let Some(path) = t["workdir"]["path"].as_str() {
            assert!(
                registered.contains(&canon(Path::new(path))),
                "{when}: #{id} records the worktree {path}, which is gone"
            );
        }
    }
    let left = locks(&repo.join(".git"));
    assert!(
        left.is_empty(),
        "{when}: lock files left: {:?}",
        left.iter().map(|l| who_has(l)).collect::<Vec<_>>()
    );
    let diffs = data.join("diffs");
    for e in std::fs::read_dir(&diffs).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".tmp"),
            "{when}: a half-saved patch: {name}"
        );
    }
    for (id, _, t) in &tasks {
        let Some(hash) = t["diff_hash"].as_str() else {
            continue;
        };
        let file = diffs.join(format!("{id}-{}.patch", &hash[..16]));
        let patch = std::fs::read(&file)
            .unwrap_or_else(|e| panic!("{when}: #{id} records diff {hash}: {e}"));
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&patch)),
            hash,
            "{when}: #{id}'s patch is not whole"
        );
    }
}

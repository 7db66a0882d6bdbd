//! Landing and conflict checks on real git repositories in temp dirs (the git adapter, no
//! board): every strategy on a clean checkout, and every path of landing that could touch
//! the user's checkout, each showing that no uncommitted byte is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use taskboard::git::checkout::Checkout;
use taskboard::git::conflicts::conflicting_paths;
use taskboard::git::land::{land, LandBranch, LandError, LandRequest, Landed};
use taskboard::git::watch::{WatchGoal, Watcher};
use taskboard::model::{Conflict, LandStrategy};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs (it must be installed for these tests)");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repo on `main` with README.md and notes.txt, in `<tmp>/repo`.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = tmp.path().join("repo");
    std::fs::create_dir_all(&r).expect("mkdir");
    git(&r, &["init", "-q", "-b", "main"]);
    std::fs::write(r.join("README.md"), "line one\nline two\nline three\n").expect("write");
    std::fs::write(r.join("notes.txt"), "notes\n").expect("write");
    std::fs::write(r.join(".gitignore"), "*.log\n").expect("write");
    git(&r, &["add", "."]);
    git(&r, &["commit", "-qm", "init"]);
    (tmp, r)
}

/// Makes `branch` from `base` with `files` written and committed, in a worktree of its own
/// (as an agent would), so the main checkout is never used.
fn branch(r: &Path, branch: &str, base: &str, files: &[(&str, &str)]) {
    let wt = r
        .parent()
        .expect("parent")
        .join(format!("wt-{}", branch.replace('/', "-")));
    if !wt.exists() {
        git(
            r,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                branch,
                wt.to_str().unwrap(),
                base,
            ],
        );
    }
    for (f, text) in files {
        let p = wt.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        git(&wt, &["add", "-f", f]);
    }
    git(&wt, &["commit", "-qm", &format!("work on {branch}")]);
}

fn req(r: &Path, strategy: LandStrategy, branches: &[&str]) -> LandRequest {
    LandRequest {
        repo: r.to_path_buf(),
        into: Some("main".into()),
        strategy,
        branches: branches
            .iter()
            .enumerate()
            .map(|(i, b)| LandBranch {
                task: 10 + i as u64,
                title: format!("task {b}"),
                branch: b.to_string(),
            })
            .collect(),
        task: 99,
        title: "Land it".into(),
        pr_branch: None,
    }
}

/// Every file of the checkout (not .git) with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

fn tip(r: &Path, rev: &str) -> String {
    git(r, &["rev-parse", rev])
}

fn blocked(result: Result<Landed, LandError>) -> String {
    match result {
        Ok(l) => panic!("landing should have stopped, but landed {l:?}"),
        Err(e) => e.to_string(),
    }
}

mod strategies;
mod targets;
mod uncommitted;

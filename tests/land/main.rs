//! Landing and conflict warnings through the real binary, on real git repositories in temp
//! dirs (a bare repository as the remote; a stand-in `gh` on PATH): conflicts between live
//! agents flagged within seconds, each strategy, dirty checkouts, a conflict resolved and
//! retried, pull requests feeding a signal gate, `taskboard land` and its route, the demo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const LONG: Duration = Duration::from_secs(60);

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=u", "-c", "user.email=u@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs (it must be installed for these tests)");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `<scratch>/repo` on main with a three-line README.md and notes.txt.
fn repo(s: &Scratch) -> PathBuf {
    let r = s.path().join("repo");
    std::fs::create_dir_all(&r).unwrap();
    git(&r, &["init", "-q", "-b", "main"]);
    std::fs::write(r.join("README.md"), "line one\nline two\nline three\n").unwrap();
    std::fs::write(r.join("notes.txt"), "notes\n").unwrap();
    git(&r, &["add", "."]);
    git(&r, &["commit", "-qm", "init"]);
    r
}

/// An agent (a command in its worktree) that runs `script`, with `$ROOT` the scratch dir and
/// `commit MSG` committing everything.
fn agent(title: &str, script: &str) -> String {
    let full = format!(
        "ROOT=\"$TASKBOARD_HOME/..\"; commit() {{ git add -A && git -c user.name=a -c user.email=a@x.invalid commit -qm \"$1\"; }}; wait_for() {{ while [ ! -e \"$ROOT/$1\" ]; do sleep 0.05; done; }}; {script}"
    );
    format!(
        "[[task]]\ntitle = \"{title}\"\ncommand = [\"sh\", \"-c\", {}]\n",
        toml_str(&full)
    )
}

fn task<'a>(status: &'a Value, title: &str) -> &'a Value {
    let all = flatten(status);
    let t = all
        .iter()
        .position(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no task {title}"));
    // `flatten` returns owned values; find the same task in the tree by id.
    let id = all[t]["id"].clone();
    find(status, &id).expect("task in the tree")
}

fn find<'a>(v: &'a Value, id: &Value) -> Option<&'a Value> {
    if v.get("id") == Some(id) && v.get("title").is_some() {
        return Some(v);
    }
    let kids = v
        .get("goals")
        .or_else(|| v.get("children"))
        .and_then(Value::as_array)?;
    kids.iter().find_map(|k| find(k, id))
}

/// `(other task id or null, files)` of a task's conflicts in `status --json`.
fn conflicts(status: &Value, title: &str) -> Vec<(Value, Vec<String>)> {
    task(status, title)["conflicts"]
        .as_array()
        .unwrap_or_else(|| panic!("{title} has no conflicts field"))
        .iter()
        .map(|c| {
            let files = c["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            (c["task"].clone(), files)
        })
        .collect()
}

mod defaults_and_tui;
mod landing;
mod pull_requests;

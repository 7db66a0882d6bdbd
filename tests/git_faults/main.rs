//! Kills inside git and storage work, at the fault points of `src/fault.rs`
//! (`TASKBOARD_FAULT=POINT:pause` makes the real binary stop itself there; the test then
//! `kill -9`s it): while a worktree is made, while a deleted goal's worktrees are removed,
//! while a review diff is saved, while a land task lands (after its merge commit is made and,
//! when the target is checked out, written there, before the target's ref moves). After each
//! restart the repository matches the board (`git worktree list`), no lock file is left, and
//! the task goes on; a landing lands once, and the user's own uncommitted work is untouched.
//! Also: a full disk while a worktree is made blocks the task and leaves nothing half-made;
//! lock files and leftovers in the board's own namespace are cleaned at start, others' are
//! not.
//! Needs root for the tmpfs mount (a failed mount fails the test). Run with --test-threads=1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use common::*;

const LONG: Duration = Duration::from_secs(30);

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `(path, locked, prunable)` of every worktree but the main one, from `git worktree list`.
fn listed(repo: &Path) -> Vec<(PathBuf, bool, bool)> {
    let text = git(repo, &["worktree", "list", "--porcelain"]);
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .skip(1)
        .map(|b| {
            let path = b
                .lines()
                .find_map(|l| l.strip_prefix("worktree "))
                .map(PathBuf::from)
                .unwrap_or_default();
            let has = |k: &str| b.lines().any(|l| l == k || l.starts_with(&format!("{k} ")));
            (path, has("locked"), has("prunable"))
        })
        .collect()
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

fn dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// Whether the process is stopped (state `T`), as a fault point leaves it.
fn stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|r| r.trim_start().starts_with('T'))
        })
        .unwrap_or(false)
}

fn wait_stopped(pid: u32, what: &str) {
    assert!(
        wait_for(LONG, || stopped(pid)),
        "the board never stopped at {what}"
    );
}

fn kill9(pid: u32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// `run ARGS…` in the background with `TASKBOARD_FAULT=fault`.
fn spawn_with_fault(s: &Scratch, args: &[&str], fault: &str) -> Child {
    s.cmd(args)
        .env("TASKBOARD_FAULT", fault)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn taskboard")
}

/// A repo at `<scratch>/repo` and a goal of one agent task that commits a file in its own
/// worktree (`review` adds a review of its diff).
fn setup(s: &Scratch, review: bool) -> (PathBuf, PathBuf) {
    let repo = s.path().join("repo");
    git_repo(&repo);
    let cmd = "echo work > work.txt && git add work.txt && git -c user.name=t -c user.email=t@example.invalid commit -qm work";
    let goal = format!(
        "title = \"g\"\nrepo = \"repo\"\n[[task]]\ntitle = \"work\"\ncommand = [\"sh\", \"-c\", {}]\nreview = {review}\n",
        toml_str(cmd)
    );
    (repo, s.file("g.toml", &goal))
}

/// The repository matches the board: the one worktree listed is the task's, complete
/// (not locked, not prunable), the only directory under `<data>/worktrees`, holding the
/// task's work; and no lock file is left anywhere in `.git`.
fn assert_consistent(s: &Scratch, repo: &Path) {
    let t = flatten(&s.status());
    let task = by_title(&t, "work");
    let wt = PathBuf::from(task["worktree"].as_str().expect("the task's worktree"));
    let wt = std::fs::canonicalize(&wt).expect("the worktree exists");
    let listed = listed(repo);
    let canon: Vec<(PathBuf, bool, bool)> = listed
        .iter()
        .map(|(p, l, pr)| (std::fs::canonicalize(p).unwrap_or(p.clone()), *l, *pr))
        .collect();
    assert_eq!(canon, vec![(wt.clone(), false, false)], "git worktree list");
    let on_disk: Vec<PathBuf> = dirs(&s.data().join("worktrees"))
        .iter()
        .map(|p| std::fs::canonicalize(p).expect("canon"))
        .collect();
    assert_eq!(on_disk, vec![wt.clone()], "<data>/worktrees");
    assert_eq!(
        std::fs::read_to_string(wt.join("work.txt")).unwrap_or_default(),
        "work\n"
    );
    assert_eq!(
        locks(&repo.join(".git")),
        Vec::<PathBuf>::new(),
        "lock files"
    );
    assert!(git(
        repo,
        &[
            "log",
            "--oneline",
            task["branch"].as_str().unwrap_or("HEAD")
        ]
    )
    .contains("work"));
}

#[test]
fn kills_inside_worktree_creation_leave_a_repository_that_restarts_clean() {
    for point in ["worktree_branch", "worktree_add", "worktree_ready"] {
        let s = Scratch::new();
        let (repo, goal) = setup(&s, false);
        let mut board = spawn_with_fault(
            &s,
            &["run", goal.to_str().unwrap(), "--headless"],
            &format!("{point}:pause"),
        );
        wait_stopped(board.id(), point);
        // Where it stopped is what the point says.
        let branches = git(&repo, &["branch", "--list", "taskboard/*"]);
        assert_eq!(
            branches.lines().count(),
            1,
            "{point}: the task's branch: {branches}"
        );
        let wts = listed(&repo);
        match point {
            "worktree_branch" => assert!(wts.is_empty(), "{point}: {wts:?}"),
            "worktree_add" => assert!(
                wts.len() == 1 && wts[0].1,
                "{point}: registered and locked while it is made: {wts:?}"
            ),
            _ => assert!(wts.len() == 1 && !wts[0].1, "{point}: {wts:?}"),
        }
        kill9(board.id());
        let _ = board.wait();
        let out = s.run(&["run", "--headless", "--timeout", "60s"]);
        assert_eq!(out.status.code(), Some(0), "{point}: {}", text(&out));
        let t = flatten(&s.status());
        assert_eq!(by_title(&t, "work")["status"], "done", "{point}");
        assert_consistent(&s, &repo);
        // The half-made worktree was made again from scratch, not reused.
        if point == "worktree_add" {
            let log = std::fs::read_to_string(s.data().join("taskboard.log")).unwrap_or_default();
            assert!(log.contains("half-made"), "{point}: {log}");
        }
    }
}

#[test]
fn a_kill_while_a_deleted_goals_worktrees_are_removed_is_finished_at_the_next_start() {
    let s = Scratch::new();
    let (repo, goal) = setup(&s, false);
    let out = s.run(&["run", goal.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(listed(&repo).len(), 1);
    let goal_id = id_of(&s, "g").to_string();
    // Something to keep the next board up (`run` with nothing to do exits at once).
    let keep = s.file(
        "keep.toml",
        "title = \"keep\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"k\"\n",
    );
    assert_eq!(
        s.run(&["add", keep.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let mut board = spawn_with_fault(
        &s,
        &["run", "--headless", "--timeout", "60s"],
        "worktree_remove:pause",
    );
    assert!(
        wait_for(LONG, || s.data().join("endpoint").exists()),
        "the board never listened"
    );
    let out = s.run(&["delete", &goal_id]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the deletion is acknowledged: {}",
        text(&out)
    );
    wait_stopped(board.id(), "worktree_remove");
    // Stopped between the two steps: unregistered, the directory still there.
    assert!(listed(&repo).is_empty(), "{:?}", listed(&repo));
    assert_eq!(dirs(&s.data().join("worktrees")).len(), 1);
    kill9(board.id());
    let _ = board.wait();
    let out = s.run(&["run", "--headless", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(124), "{}", text(&out));
    assert!(listed(&repo).is_empty());
    assert_eq!(dirs(&s.data().join("worktrees")), Vec::<PathBuf>::new());
    assert_eq!(locks(&repo.join(".git")), Vec::<PathBuf>::new());
    // Branches stay (ARCHITECTURE §4).
    assert_eq!(
        git(&repo, &["branch", "--list", "taskboard/*"])
            .lines()
            .count(),
        1
    );
    assert!(flatten(&s.status()).iter().all(|t| t["title"] != "work"));
}

#[test]
fn a_kill_while_a_review_diff_is_saved_leaves_no_cut_patch_and_the_diff_is_made_again() {
    let s = Scratch::new();
    let (_repo, goal) = setup(&s, true);
    let mut board = spawn_with_fault(
        &s,
        &["run", goal.to_str().unwrap(), "--headless"],
        "diff_save:pause",
    );
    wait_stopped(board.id(), "diff_save");
    let diffs = s.data().join("diffs");
    let names = |d: &Path| -> Vec<String> {
        dirs(d)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    let before = names(&diffs);
    assert!(
        before.len() == 1 && before[0].ends_with(".patch.tmp"),
        "stopped with the patch in its temp file: {before:?}"
    );
    kill9(board.id());
    let _ = board.wait();
    let live = Live::start(&s, None, &[]);
    assert!(
        wait_for(LONG, || by_title(&flatten(&s.status()), "work")
            ["diff_hash"]
            .is_string()),
        "the review's diff was never made again: {}",
        live.printed()
    );
    let t = flatten(&s.status());
    let task = by_title(&t, "work");
    assert_eq!(task["status"], "pending_review");
    let hash = task["diff_hash"].as_str().unwrap().to_string();
    let file = diffs.join(format!("{}-{}.patch", task["id"], &hash[..16]));
    assert_eq!(
        names(&diffs),
        vec![file.file_name().unwrap().to_string_lossy().into_owned()]
    );
    let patch = std::fs::read(&file).expect("the patch");
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&patch)),
        hash,
        "the patch is whole"
    );
    assert!(String::from_utf8_lossy(&patch).contains("+work"));
}

#[test]
fn stale_locks_and_leftovers_of_the_board_are_cleaned_at_start_and_nobody_elses() {
    let s = Scratch::new();
    let (repo, goal) = setup(&s, false);
    let out = s.run(&["run", goal.to_str().unwrap(), "--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let board = std::fs::read_to_string(s.data().join("board-id")).unwrap();
    let board = board.trim();
    let dot = repo.join(".git");
    let name = dirs(&s.data().join("worktrees"))[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let ours = [
        dot.join(format!("refs/heads/taskboard/{board}/9-x.lock")),
        dot.join(format!("logs/refs/heads/taskboard/{board}/9-x.lock")),
        dot.join(format!("worktrees/{name}/index.lock")),
        dot.join(format!("worktrees/{name}/HEAD.lock")),
    ];
    let theirs = [dot.join("index.lock"), dot.join("refs/heads/main.lock")];
    for f in ours.iter().chain(&theirs) {
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, "").unwrap();
    }
    // A worktree of a task that is gone, registered; a registration whose directory is gone;
    // a patch whose saving was cut short.
    let gone = s.data().join("worktrees/77-78");
    git(
        &repo,
        &["worktree", "add", "-q", "--detach", gone.to_str().unwrap()],
    );
    let lost = s.data().join("worktrees/79-80");
    git(
        &repo,
        &["worktree", "add", "-q", "--detach", lost.to_str().unwrap()],
    );
    std::fs::remove_dir_all(&lost).unwrap();
    std::fs::create_dir_all(s.data().join("diffs")).unwrap();
    std::fs::write(s.data().join("diffs/5-0123456789abcdef.patch.tmp"), "half").unwrap();
    let out = s.run(&["run", "--headless", "--timeout", "1s"]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(124)),
        "{}",
        text(&out)
    );
    for f in &ours {
        assert!(!f.exists(), "left behind: {}", f.display());
    }
    for f in &theirs {
        assert!(
            f.exists(),
            "someone else's lock was removed: {}",
            f.display()
        );
    }
    for f in &theirs {
        std::fs::remove_file(f).unwrap();
    }
    assert!(!gone.exists() && !lost.exists());
    assert!(!dot.join("worktrees/77-78").exists() && !dot.join("worktrees/79-80").exists());
    assert!(!s.data().join("diffs/5-0123456789abcdef.patch.tmp").exists());
    assert_consistent(&s, &repo);
}

/// A tmpfs on `dir`, unmounted when dropped.
#[test]
fn a_fault_spec_that_names_no_point_is_refused() {
    let s = Scratch::new();
    for bad in ["worktre_add:pause", "worktree_add:exit", "worktree_add"] {
        let out = s
            .cmd(&["status"])
            .env("TASKBOARD_FAULT", bad)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", text(&out));
        assert!(
            text(&out).contains("TASKBOARD_FAULT"),
            "{bad}: {}",
            text(&out)
        );
    }
}

mod full_disk;
mod landing;

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
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).expect("mkdir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs on {} (this test needs root): {}",
            dir.display(),
            text(&out)
        );
        Mount(dir.into())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

#[test]
fn a_full_disk_while_a_worktree_is_made_blocks_the_task_and_leaves_nothing_half_made() {
    let s = Scratch::new();
    let (repo, goal) = setup(&s, false);
    // A file the worktree's checkout cannot fit.
    let big: Vec<u8> = (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(repo.join("big.bin"), big).unwrap();
    git(&repo, &["add", "big.bin"]);
    git(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            "big",
        ],
    );
    let data = s.data();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let mount = Mount::tmpfs(&data.join("worktrees"), "1m");
    let out = s.run(&["up"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    struct Down<'a>(&'a Scratch);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self.0.run(&["down", "--force"]);
        }
    }
    let _down = Down(&s);
    assert_eq!(
        s.run(&["add", goal.to_str().unwrap()]).status.code(),
        Some(0)
    );
    assert!(
        wait_status(&s, "work", "blocked", LONG),
        "{}",
        s.read("data/taskboard.log")
    );
    let t = flatten(&s.status());
    let reason = by_title(&t, "work")["reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        reason.contains("No space left on device") || reason.contains("no space"),
        "the reason says why: {reason}"
    );
    // Nothing half-made: no directory, no registration, no branch, no lock.
    assert_eq!(dirs(&data.join("worktrees")), Vec::<PathBuf>::new());
    assert_eq!(dirs(&repo.join(".git/worktrees")), Vec::<PathBuf>::new());
    assert_eq!(git(&repo, &["branch", "--list", "taskboard/*"]), "");
    assert_eq!(locks(&repo.join(".git")), Vec::<PathBuf>::new());
    assert!(listed(&repo).is_empty());
    // Room again: a retry makes it whole.
    drop(mount);
    let id = id_of(&s, "work").to_string();
    let out = s.run(&["retry", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(wait_status(&s, "work", "done", LONG));
    assert_consistent(&s, &repo);
}

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

/// A repo on `main` with README.md and notes.txt, a `release` branch at the same commit, and
/// a goal: an agent task that changes README.md and adds work.txt in its worktree, then a land
/// task (merge) into `into` (`None`: the branch checked out, main).
fn land_setup(s: &Scratch, into: Option<&str>) -> (PathBuf, PathBuf) {
    let repo = s.path().join("repo");
    git_repo(&repo);
    std::fs::write(repo.join("notes.txt"), "notes\n").expect("write");
    git(&repo, &["add", "notes.txt"]);
    git(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            "notes",
        ],
    );
    git(&repo, &["branch", "release"]);
    let cmd = "printf 'landed\\n' > README.md && echo work > work.txt && git add -A && git -c user.name=t -c user.email=t@example.invalid commit -qm work";
    let into = into
        .map(|b| format!("into = \"{b}\"\n"))
        .unwrap_or_default();
    let goal = format!(
        "title = \"g\"\nrepo = \"repo\"\n[[task]]\ntitle = \"work\"\ncommand = [\"sh\", \"-c\", {}]\n[[task]]\ntitle = \"Ship\"\nkind = \"land\"\nstrategy = \"merge\"\n{into}",
        toml_str(cmd)
    );
    (repo, s.file("g.toml", &goal))
}

/// Every file of the checkout (`.git` aside), with its bytes.
fn checkout_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_kill_mid_land_leaves_the_repository_consistent_and_the_users_work_untouched() {
    // Into a branch the user has not checked out: the kill comes after the merge commit is
    // made and before the ref moves. The checkout is never touched, before or after.
    let s = Scratch::new();
    let (repo, goal) = land_setup(&s, Some("release"));
    std::fs::write(repo.join("notes.txt"), b"my edit, not committed\n").expect("write");
    std::fs::write(repo.join("mine.txt"), b"untracked\n").expect("write");
    let (release, files, status) = (
        git(&repo, &["rev-parse", "release"]),
        checkout_files(&repo),
        git(&repo, &["status", "--porcelain"]),
    );
    let mut board = spawn_with_fault(
        &s,
        &["run", goal.to_str().unwrap(), "--headless"],
        "land:pause",
    );
    wait_stopped(board.id(), "land");
    assert_eq!(
        git(&repo, &["rev-parse", "release"]),
        release,
        "not moved yet"
    );
    kill9(board.id());
    let _ = board.wait();
    let out = s.run(&["run", "--headless", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = flatten(&s.status());
    let ship = by_title(&t, "Ship");
    assert_eq!(ship["status"], "done", "{ship}");
    let tip = git(&repo, &["rev-parse", "release"]);
    assert_eq!(ship["result"]["commit"], tip.trim(), "{ship}");
    assert_eq!(ship["result"]["checkout"], "ref_only", "{ship}");
    assert_eq!(git(&repo, &["show", "release:work.txt"]), "work\n");
    assert_eq!(
        git(&repo, &["rev-parse", "release^1"]),
        release,
        "one merge on release"
    );
    assert_eq!(checkout_files(&repo), files, "the checkout, byte for byte");
    assert_eq!(git(&repo, &["status", "--porcelain"]), status);
    assert_consistent(&s, &repo);

    // Into the branch checked out, with the user's uncommitted work beside it: the kill
    // comes after the landed files are written to the checkout and before the ref moves,
    // the worst moment. The next start lands again, takes what is already written as landed
    // and moves the ref: main has the work, the checkout is clean but for the user's own
    // changes, which are untouched.
    let s = Scratch::new();
    let (repo, goal) = land_setup(&s, None);
    let mine = b"my edit, not committed\n\x00\xff";
    std::fs::write(repo.join("notes.txt"), mine).expect("write");
    std::fs::write(repo.join("mine.txt"), b"untracked\n").expect("write");
    let main = git(&repo, &["rev-parse", "main"]);
    let mut board = spawn_with_fault(
        &s,
        &["run", goal.to_str().unwrap(), "--headless"],
        "land:pause",
    );
    wait_stopped(board.id(), "land");
    assert_eq!(git(&repo, &["rev-parse", "main"]), main, "not moved yet");
    assert_eq!(
        std::fs::read_to_string(repo.join("README.md")).expect("read"),
        "landed\n",
        "stopped with the landed files written"
    );
    kill9(board.id());
    let _ = board.wait();
    let out = s.run(&["run", "--headless", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = flatten(&s.status());
    let ship = by_title(&t, "Ship");
    assert_eq!(ship["status"], "done", "{ship}");
    let tip = git(&repo, &["rev-parse", "main"]);
    assert_eq!(ship["result"]["commit"], tip.trim(), "{ship}");
    assert_eq!(ship["result"]["checkout"], "updated_dirty", "{ship}");
    assert_eq!(
        git(&repo, &["rev-parse", "main^1"]),
        main,
        "one merge on main"
    );
    assert_eq!(git(&repo, &["show", "main:work.txt"]), "work\n");
    assert_eq!(
        git(&repo, &["status", "--porcelain"]),
        " M notes.txt\n?? mine.txt\n",
        "only the user's own changes are left"
    );
    assert_eq!(std::fs::read(repo.join("notes.txt")).expect("read"), mine);
    assert_eq!(
        std::fs::read(repo.join("mine.txt")).expect("read"),
        b"untracked\n"
    );
    assert_eq!(
        std::fs::read(repo.join("work.txt")).expect("read"),
        b"work\n"
    );
    assert_consistent(&s, &repo);
}

/// Starts `run GOAL --headless`, waits until the agent of its task runs (it touches
/// `<scratch>/started`), then `kill -9`s the board: the agent, which ignores the hang-up
/// (as git's detached auto maintenance does, being in a session of its own), is left
/// behind.
fn orphan_an_agent(s: &Scratch, goal: &Path) {
    let started = s.path().join("started");
    let _ = std::fs::remove_file(&started);
    let mut board = spawn_with_fault(s, &["run", goal.to_str().unwrap(), "--headless"], "");
    assert!(
        wait_for(LONG, || started.exists()),
        "the agent never started"
    );
    kill9(board.id());
    let _ = board.wait();
}

#[test]
fn repository_locks_abandoned_by_a_killed_git_are_removed_at_start_and_a_held_one_kept() {
    let s = Scratch::new();
    let repo = s.path().join("repo");
    git_repo(&repo);
    let goal = s.file(
        "g.toml",
        &format!(
            "title = \"g\"\nrepo = \"repo\"\n[[task]]\ntitle = \"work\"\ncommand = [\"sh\", \"-c\", {}]\n",
            toml_str("trap '' HUP; touch \"$TASKBOARD_HOME/../started\"; exec sleep 30")
        ),
    );
    let lock = repo.join(".git/packed-refs.lock");
    // Held open by a live process (a git at work): kept.
    orphan_an_agent(&s, &goal);
    let mut holder = Command::new("sh")
        .args(["-c", "exec 3>>packed-refs.lock; exec sleep 30"])
        .current_dir(repo.join(".git"))
        .spawn()
        .expect("holder");
    assert!(wait_for(LONG, || lock.exists()));
    std::thread::sleep(Duration::from_millis(50));
    let out = s.run(&["run", "--headless", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(124), "{}", text(&out));
    assert!(lock.exists(), "a lock held open was removed");
    kill9(holder.id());
    let _ = holder.wait();
    // Left by a git killed mid-write (nobody has it open): removed.
    orphan_an_agent(&s, &goal);
    std::fs::write(&lock, "").expect("as a git killed mid-write leaves it");
    let maintenance = repo.join(".git/objects/maintenance.lock");
    std::fs::write(&maintenance, "").expect("as a killed auto maintenance leaves it");
    let out = s.run(&["run", "--headless", "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(124), "{}", text(&out));
    assert!(
        !lock.exists(),
        "the abandoned packed-refs.lock is still there: {}",
        std::fs::read_to_string(s.data().join("taskboard.log")).unwrap_or_default()
    );
    assert!(!maintenance.exists());
    let log = std::fs::read_to_string(s.data().join("taskboard.log")).unwrap_or_default();
    assert!(
        log.contains("packed-refs.lock") && log.contains("maintenance.lock"),
        "{log}"
    );
}

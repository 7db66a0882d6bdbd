//! Kills mid-land, and repository lock files abandoned by a killed git.

use super::*;

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
    // Held: a live process has it open (what the board looks for), not just "it exists".
    let held = || {
        std::fs::read_dir(format!("/proc/{}/fd", holder.id()))
            .map(|fds| {
                fds.flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == lock))
            })
            .unwrap_or(false)
    };
    assert!(
        wait_for(LONG, held),
        "the holder never opened {}",
        lock.display()
    );
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

//! Landing and conflict checks on real git repositories in temp dirs (the git adapter, no
//! board): every strategy on a clean checkout, and every path of landing that could touch
//! the user's checkout, each showing that no uncommitted byte is lost.

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

#[test]
fn merge_lands_parallel_branches_and_brings_a_clean_checkout_along() {
    let (_t, r) = repo();
    branch(&r, "a", "main", &[("a.txt", "from a\n")]);
    branch(&r, "b", "main", &[("b.txt", "from b\n")]);
    let before = tip(&r, "main");
    let landed = land(&req(&r, LandStrategy::Merge, &["a", "b"])).expect("lands");
    assert_eq!(landed.merged, vec!["a", "b"]);
    assert_eq!(landed.before, before);
    assert_eq!(landed.commit, tip(&r, "main"), "main is at the result");
    assert!(matches!(
        landed.checkout,
        Checkout::Updated { dirty: false, .. }
    ));
    // One merge commit per branch, each with two parents.
    let merges = git(
        &r,
        &["log", "--merges", "--format=%s", &format!("{before}..main")],
    );
    assert_eq!(merges.lines().count(), 2, "{merges}");
    assert!(merges.contains("Merge a into main") && merges.contains("Merge b into main"));
    // The checkout was brought along: files there, nothing left to commit.
    assert_eq!(
        std::fs::read_to_string(r.join("a.txt")).unwrap(),
        "from a\n"
    );
    assert_eq!(
        std::fs::read_to_string(r.join("b.txt")).unwrap(),
        "from b\n"
    );
    assert_eq!(git(&r, &["status", "--porcelain"]), "");
}

#[test]
fn ff_follows_a_stacked_chain_once_and_refuses_diverged_branches() {
    let (_t, r) = repo();
    branch(&r, "a", "main", &[("a.txt", "a\n")]);
    branch(&r, "b", "a", &[("b.txt", "b\n")]);
    let landed = land(&req(&r, LandStrategy::Ff, &["a", "b"])).expect("lands");
    assert_eq!(
        tip(&r, "main"),
        tip(&r, "b"),
        "main fast-forwarded to the chain's end"
    );
    assert_eq!(landed.merged, vec!["b"]);
    assert_eq!(
        landed.skipped,
        vec!["a (in b)"],
        "the stacked branch lands once"
    );
    assert_eq!(
        git(&r, &["log", "--merges", "--format=%s"]),
        "",
        "no merge commit"
    );
    assert!(r.join("b.txt").exists() && r.join("a.txt").exists());
    // Landing again finds everything there already.
    let again = land(&req(&r, LandStrategy::Ff, &["a", "b"])).expect("no-op");
    assert_eq!(again.commit, tip(&r, "main"));
    assert_eq!(again.checkout, Checkout::Untouched);
    // Two branches that diverged cannot be fast-forwarded: nothing moves.
    branch(&r, "c", "main", &[("c.txt", "c\n")]);
    branch(&r, "d", "main", &[("d.txt", "d\n")]);
    let main = tip(&r, "main");
    let why = blocked(land(&req(&r, LandStrategy::Ff, &["c", "d"])));
    assert!(
        why.contains("cannot fast-forward main to d") && why.contains("merge"),
        "{why}"
    );
    assert_eq!(tip(&r, "main"), main);
    assert!(!r.join("c.txt").exists(), "nothing was checked out");
}

#[test]
fn squash_makes_one_commit_with_all_the_work() {
    let (_t, r) = repo();
    branch(&r, "a", "main", &[("a.txt", "a\n")]);
    branch(&r, "b", "main", &[("b.txt", "b\n")]);
    let before = tip(&r, "main");
    let landed = land(&req(&r, LandStrategy::Squash, &["a", "b"])).expect("lands");
    let log = git(&r, &["log", "--format=%P %s", &format!("{before}..main")]);
    assert_eq!(log.lines().count(), 1, "one commit: {log}");
    assert!(
        log.starts_with(&before),
        "its only parent is the old main: {log}"
    );
    assert!(log.contains("Land it"), "{log}");
    assert_eq!(landed.commit, tip(&r, "main"));
    let tree = git(&r, &["ls-tree", "--name-only", "main"]);
    assert!(tree.contains("a.txt") && tree.contains("b.txt"), "{tree}");
    assert_eq!(git(&r, &["status", "--porcelain"]), "");
}

#[test]
fn a_conflict_stops_landing_naming_the_files_and_the_branch_and_changes_nothing() {
    let (_t, r) = repo();
    branch(
        &r,
        "a",
        "main",
        &[("README.md", "line one\nA says two\nline three\n")],
    );
    branch(
        &r,
        "b",
        "main",
        &[("README.md", "line one\nB says two\nline three\n")],
    );
    let main = tip(&r, "main");
    let why = blocked(land(&req(&r, LandStrategy::Merge, &["a", "b"])));
    assert!(
        why.contains("merging b (#11) into main conflicts in README.md"),
        "{why}"
    );
    assert!(why.contains("retry (R)"), "{why}");
    assert_eq!(tip(&r, "main"), main, "main did not move");
    assert_eq!(
        git(&r, &["status", "--porcelain"]),
        "",
        "the checkout is untouched"
    );
    // The same check the watcher makes, in memory.
    let repo = git2::Repository::open(&r).unwrap();
    let oid = |b: &str| repo.revparse_single(b).unwrap().id();
    assert_eq!(
        conflicting_paths(&repo, oid("a"), oid("b")).unwrap(),
        vec!["README.md"]
    );
    branch(&r, "c", "main", &[("other.txt", "c\n")]);
    assert!(conflicting_paths(&repo, oid("a"), oid("c"))
        .unwrap()
        .is_empty());
}

#[test]
fn a_dirty_checkout_is_brought_along_only_where_the_user_has_nothing() {
    let (_t, r) = repo();
    branch(
        &r,
        "a",
        "main",
        &[("a.txt", "a\n"), ("docs/guide.md", "guide\n")],
    );
    // The user's work in progress: a modified file, a staged new file, an untracked file,
    // an ignored file, none of them touched by the landed work.
    std::fs::write(r.join("notes.txt"), "my unsaved notes\n").unwrap();
    std::fs::write(r.join("staged.txt"), "staged by me\n").unwrap();
    git(&r, &["add", "staged.txt"]);
    std::fs::write(r.join("scratch.txt"), "untracked\n").unwrap();
    std::fs::write(r.join("build.log"), "ignored\n").unwrap();
    let mine = files(&r);
    let status = git(&r, &["status", "--porcelain", "--ignored"]);
    let landed = land(&req(&r, LandStrategy::Merge, &["a"])).expect("lands");
    assert!(
        matches!(landed.checkout, Checkout::Updated { dirty: true, .. }),
        "{:?}",
        landed.checkout
    );
    assert_eq!(tip(&r, "main"), landed.commit);
    let after = files(&r);
    for (path, bytes) in &mine {
        assert_eq!(after.get(path), Some(bytes), "{path} changed");
    }
    assert_eq!(after.get("a.txt").map(Vec::as_slice), Some(&b"a\n"[..]));
    assert_eq!(
        after.get("docs/guide.md").map(Vec::as_slice),
        Some(&b"guide\n"[..])
    );
    // Same uncommitted state as before: still modified, still staged, still untracked.
    assert_eq!(git(&r, &["status", "--porcelain", "--ignored"]), status);
    assert_eq!(git(&r, &["diff", "--cached", "--name-only"]), "staged.txt");
}

/// One way the user's uncommitted work stands where the landed work goes.
struct InTheWay {
    name: &'static str,
    /// The landed branch's files.
    lands: &'static [(&'static str, &'static str)],
    /// What the user does in the checkout (shell), before landing.
    user: &'static str,
    /// What the reason must say.
    says: &'static str,
}

const IN_THE_WAY: &[InTheWay] = &[
    InTheWay {
        name: "a modified file the work also changes",
        lands: &[("README.md", "line one\nchanged by the agent\nline three\n")],
        user: "printf 'line one\\nmy edit\\nline three\\n' > README.md",
        says: "README.md (modified)",
    },
    InTheWay {
        name: "a staged change to a file the work changes",
        lands: &[("README.md", "agent\n")],
        user: "printf 'staged edit\\n' > README.md && git add README.md",
        says: "README.md (staged)",
    },
    InTheWay {
        name: "a deleted file the work changes",
        lands: &[("notes.txt", "agent notes\n")],
        user: "rm notes.txt",
        says: "notes.txt (deleted)",
    },
    InTheWay {
        name: "an untracked file where the work adds one",
        lands: &[("new.txt", "from the agent\n")],
        user: "printf 'mine, not committed\\n' > new.txt",
        says: "new.txt (untracked)",
    },
    InTheWay {
        name: "an ignored file where the work adds one",
        lands: &[("build.log", "agent log\n")],
        user: "printf 'my local log\\n' > build.log",
        says: "build.log (ignored)",
    },
    InTheWay {
        name: "an untracked file where the work adds a directory",
        lands: &[("docs/guide.md", "guide\n")],
        user: "printf 'a file named docs\\n' > docs",
        says: "docs (untracked)",
    },
    InTheWay {
        name: "an untracked directory where the work adds a file of that name",
        lands: &[("cache", "a file\n")],
        user: "mkdir cache && printf 'x\\n' > cache/data",
        says: "cache/data (untracked)",
    },
];

#[test]
fn every_overlap_with_uncommitted_work_blocks_and_loses_nothing() {
    let mut failures = Vec::new();
    let strategies = [LandStrategy::Merge, LandStrategy::Squash, LandStrategy::Ff];
    for (case, strategy) in IN_THE_WAY
        .iter()
        .flat_map(|c| strategies.iter().map(move |s| (c, *s)))
    {
        let (_t, r) = repo();
        branch(&r, "work", "main", case.lands);
        let sh = Command::new("sh")
            .args(["-c", case.user])
            .current_dir(&r)
            .status()
            .expect("sh");
        assert!(sh.success(), "{}: setup failed", case.name);
        let (main, mine, status) = (
            tip(&r, "main"),
            files(&r),
            git(&r, &["status", "--porcelain", "--ignored"]),
        );
        let name = format!("{} ({strategy:?})", case.name);
        let why = match land(&req(&r, strategy, &["work"])) {
            Ok(l) => {
                failures.push(format!("{name}: landed ({:?})", l.checkout));
                continue;
            }
            Err(e) => e.to_string(),
        };
        if !why.contains(case.says) || !why.contains("nothing was changed") {
            failures.push(format!("{name}: reason {why:?} lacks {:?}", case.says));
        }
        if tip(&r, "main") != main {
            failures.push(format!("{name}: main moved"));
        }
        if files(&r) != mine {
            failures.push(format!("{name}: the checkout's files changed"));
        }
        if git(&r, &["status", "--porcelain", "--ignored"]) != status {
            failures.push(format!("{name}: the checkout's status changed"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An operation the user is in the middle of, on `main`, in the main checkout.
struct Busy {
    name: &'static str,
    /// Shell run in the checkout (on main); its last command is expected to stop halfway.
    user: &'static str,
    says: &'static str,
}

const BUSY: &[Busy] = &[
    Busy {
        name: "a merge stopped on a conflict in a file the work does not touch",
        user: "git checkout -q -b side && echo side > notes.txt && git commit -qam side \
               && git checkout -q main && echo mine > notes.txt && git commit -qam mine \
               && git merge side",
        says: "has a merge in progress on main",
    },
    Busy {
        name: "a merge with its conflict resolved and staged, not yet committed",
        user: "git checkout -q -b side && echo side > notes.txt && git commit -qam side \
               && git checkout -q main && echo mine > notes.txt && git commit -qam mine \
               && { git merge side; echo both > notes.txt && git add notes.txt; false; }",
        says: "has a merge in progress on main",
    },
    Busy {
        name: "a rebase of main stopped on a conflict (HEAD detached meanwhile)",
        user: "git checkout -q -b side && echo side > notes.txt && git commit -qam side \
               && git checkout -q main && echo mine > notes.txt && git commit -qam mine \
               && git rebase side",
        says: "has a rebase in progress on main",
    },
    Busy {
        name: "a cherry-pick stopped on a conflict",
        user: "git checkout -q -b side && echo side > notes.txt && git commit -qam side \
               && git checkout -q main && echo mine > notes.txt && git commit -qam mine \
               && git cherry-pick side",
        says: "has a cherry-pick in progress on main",
    },
];

#[test]
fn a_checkout_in_the_middle_of_an_operation_is_not_touched_and_its_branch_stays() {
    let mut failures = Vec::new();
    for case in BUSY {
        let (_t, r) = repo();
        // The work touches a file the user's operation does not.
        branch(&r, "work", "main", &[("a.txt", "from the agent\n")]);
        let out = Command::new("sh")
            .args(["-c", case.user])
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .env("GIT_EDITOR", "true")
            .current_dir(&r)
            .output()
            .expect("sh");
        assert!(
            !out.status.success(),
            "{}: the operation should stop halfway: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let git_dir = r.join(".git");
        let state = |d: &Path| {
            ["MERGE_HEAD", "CHERRY_PICK_HEAD", "rebase-merge", "index"]
                .map(|f| std::fs::read(d.join(f)).ok())
        };
        let (main, mine, status, before) = (
            tip(&r, "main"),
            files(&r),
            git(&r, &["status", "--porcelain", "--ignored"]),
            state(&git_dir),
        );
        for strategy in [LandStrategy::Merge, LandStrategy::Squash] {
            let name = format!("{} ({strategy:?})", case.name);
            match land(&req(&r, strategy, &["work"])) {
                Ok(l) => failures.push(format!("{name}: landed ({:?})", l.checkout)),
                Err(e) => {
                    let why = e.to_string();
                    if !why.contains(case.says) || !why.contains("nothing was changed") {
                        failures.push(format!("{name}: reason {why:?} lacks {:?}", case.says));
                    }
                }
            }
            if tip(&r, "main") != main {
                failures.push(format!("{name}: main moved"));
            }
            if files(&r) != mine {
                failures.push(format!("{name}: the checkout's files changed"));
            }
            if git(&r, &["status", "--porcelain", "--ignored"]) != status {
                failures.push(format!("{name}: the checkout's status changed"));
            }
            if state(&git_dir) != before {
                failures.push(format!("{name}: the operation's state changed"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_target_that_moved_since_landing_began_gets_nothing_written() {
    let (_t, r) = repo();
    branch(&r, "work", "main", &[("a.txt", "from the agent\n")]);
    let (old, work) = (tip(&r, "main"), tip(&r, "work"));
    // The user commits on main while the merge is being made.
    std::fs::write(r.join("notes.txt"), "committed meanwhile\n").unwrap();
    git(&r, &["commit", "-qam", "meanwhile"]);
    let (now, mine) = (tip(&r, "main"), files(&r));
    let repo = git2::Repository::open(&r).unwrap();
    let e = taskboard::git::checkout::advance(
        &repo,
        "main",
        git2::Oid::from_str(&old).unwrap(),
        git2::Oid::from_str(&work).unwrap(),
        "test",
    )
    .expect_err("main moved");
    assert!(e.to_string().contains("main moved while landing"), "{e}");
    assert_eq!(tip(&r, "main"), now);
    assert_eq!(files(&r), mine, "nothing written into the checkout");
    assert_eq!(git(&r, &["status", "--porcelain"]), "");
    // Landing again starts from where main is now and keeps the user's commit.
    let landed = land(&req(&r, LandStrategy::Merge, &["work"])).expect("lands");
    assert_eq!(tip(&r, "main"), landed.commit);
    assert_eq!(git(&r, &["show", "main:notes.txt"]), "committed meanwhile");
    assert_eq!(git(&r, &["show", "main:a.txt"]), "from the agent");
}

#[test]
fn a_branch_not_checked_out_moves_alone_and_the_checkout_stays_as_it_is() {
    let (_t, r) = repo();
    branch(&r, "work", "main", &[("README.md", "agent rewrote it\n")]);
    git(&r, &["checkout", "-q", "-b", "other"]);
    std::fs::write(r.join("README.md"), "my edit on other\n").unwrap();
    std::fs::write(r.join("mine.txt"), "untracked\n").unwrap();
    let (mine, status) = (files(&r), git(&r, &["status", "--porcelain"]));
    let landed = land(&req(&r, LandStrategy::Merge, &["work"])).expect("lands");
    assert_eq!(landed.checkout, Checkout::RefOnly);
    assert_eq!(tip(&r, "main"), landed.commit);
    assert_eq!(git(&r, &["show", "main:README.md"]), "agent rewrote it");
    assert_eq!(git(&r, &["symbolic-ref", "HEAD"]), "refs/heads/other");
    assert_eq!(files(&r), mine, "not one byte of the checkout changed");
    assert_eq!(git(&r, &["status", "--porcelain"]), status);
}

#[test]
fn a_linked_worktree_that_has_the_target_checked_out_is_protected_the_same_way() {
    let (t, r) = repo();
    branch(&r, "work", "main", &[("README.md", "agent\n")]);
    // The user works on main in a linked worktree; the main checkout is elsewhere.
    git(&r, &["checkout", "-q", "-b", "other"]);
    let linked = t.path().join("linked");
    git(
        &r,
        &["worktree", "add", "-q", linked.to_str().unwrap(), "main"],
    );
    std::fs::write(
        linked.join("README.md"),
        "user edit in the linked worktree\n",
    )
    .unwrap();
    let mine = files(&linked);
    let main = tip(&r, "main");
    let why = blocked(land(&req(&r, LandStrategy::Merge, &["work"])));
    assert!(
        why.contains("README.md (modified)") && why.contains("linked"),
        "{why}"
    );
    assert_eq!(tip(&r, "main"), main);
    assert_eq!(files(&linked), mine);
    // Once the edit is gone, the linked worktree is the one brought along.
    git(&linked, &["checkout", "--", "README.md"]);
    let landed = land(&req(&r, LandStrategy::Merge, &["work"])).expect("lands");
    assert!(
        matches!(&landed.checkout, Checkout::Updated { path, .. } if path.ends_with("linked") || path.ends_with("linked/")),
        "{:?}",
        landed.checkout
    );
    assert_eq!(
        std::fs::read_to_string(linked.join("README.md")).unwrap(),
        "agent\n"
    );
    assert_eq!(git(&linked, &["status", "--porcelain"]), "");
}

#[test]
fn a_pull_request_branch_gets_the_result_and_the_target_stays() {
    let (_t, r) = repo();
    branch(&r, "a", "main", &[("a.txt", "a\n")]);
    let main = tip(&r, "main");
    let mut q = req(&r, LandStrategy::Squash, &["a"]);
    q.pr_branch = Some("taskboard/x/9-land".into());
    let landed = land(&q).expect("lands");
    assert_eq!(landed.checkout, Checkout::Untouched);
    assert_eq!(tip(&r, "main"), main, "a PR leaves the target alone");
    assert_eq!(tip(&r, "taskboard/x/9-land"), landed.commit);
    assert!(!r.join("a.txt").exists());
    // Nothing new to propose is said, not pushed.
    let mut q = req(&r, LandStrategy::Merge, &[]);
    q.pr_branch = Some("taskboard/x/10-land".into());
    assert!(blocked(land(&q)).contains("nothing to propose"));
}

#[test]
fn the_watcher_flags_a_conflict_within_seconds_and_clears_it_when_resolved() {
    let (_t, r) = repo();
    branch(
        &r,
        "a",
        "main",
        &[("README.md", "line one\nA\nline three\n")],
    );
    branch(&r, "b", "main", &[("notes.txt", "b's notes\n")]);
    branch(&r, "c", "main", &[("other.txt", "c\n")]);
    let (tx, rx) = mpsc::channel();
    let w = Watcher::start(
        Duration::from_millis(100),
        Box::new(move |goal, found| {
            let _ = tx.send((goal, found));
        }),
    )
    .expect("watcher");
    w.watch(vec![WatchGoal {
        goal: 1,
        repo: r.clone(),
        target: Some("main".into()),
        tasks: vec![(2, "a".into()), (3, "b".into()), (4, "c".into())],
    }]);
    let next = |limit: Duration| rx.recv_timeout(limit).expect("a report");
    let (goal, found) = next(Duration::from_secs(5));
    assert_eq!(
        (goal, found.len()),
        (1, 0),
        "the first check finds nothing: {found:?}"
    );
    // b now edits the same lines as a: both are flagged, c is not.
    let started = Instant::now();
    branch(
        &r,
        "b",
        "main",
        &[("README.md", "line one\nB\nline three\n")],
    );
    let (_, found) = next(Duration::from_secs(5));
    let took = started.elapsed();
    let of = |t: u64| found.iter().find(|(x, _)| *x == t).map(|(_, c)| c.clone());
    assert_eq!(
        of(2),
        Some(vec![Conflict {
            task: Some(3),
            branch: "b".into(),
            files: vec!["README.md".into()]
        }])
    );
    assert_eq!(of(3).map(|c| c[0].task), Some(Some(2)));
    assert_eq!(of(4), None, "c edits other files");
    assert!(took < Duration::from_secs(3), "flagged after {took:?}");
    // b takes a's version: resolved, and the report says so.
    branch(
        &r,
        "b",
        "main",
        &[("README.md", "line one\nA\nline three\n")],
    );
    let (_, found) = next(Duration::from_secs(5));
    assert!(found.is_empty(), "{found:?}");
    // The target moves under a: flagged against main.
    std::fs::write(r.join("README.md"), "line one\nmain says\nline three\n").unwrap();
    git(&r, &["commit", "-qam", "main moves"]);
    let (_, found) = next(Duration::from_secs(5));
    let a = found
        .iter()
        .find(|(x, _)| *x == 2)
        .expect("a conflicts with main");
    assert!(
        a.1.iter().any(|c| c.task.is_none() && c.branch == "main"),
        "{found:?}"
    );
    // Nothing watched any more: the goal is cleared.
    w.watch(Vec::new());
    let (_, found) = next(Duration::from_secs(5));
    assert!(found.is_empty());
}

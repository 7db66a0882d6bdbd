//! Branches not checked out, linked worktrees, pull request branches, and the conflict watcher.

use super::*;

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

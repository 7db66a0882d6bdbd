//! Each strategy, conflicts, and a dirty checkout brought along.

use super::*;

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

//! Conflicts between live agents, each strategy, a dirty checkout, a conflict that blocks landing.

use super::*;

#[test]
fn a_conflict_between_live_agents_shows_on_both_within_seconds_and_clears_when_resolved() {
    let s = Scratch::new();
    repo(&s);
    let goal = format!(
        "title = \"conflicts\"\nrepo = \"repo\"\nparallel = true\n{}{}{}",
        agent(
            "A",
            "printf 'line one\\nA says two\\nline three\\n' > README.md; commit a; touch \"$ROOT/a-done\"; wait_for release"
        ),
        agent(
            "B",
            "wait_for go-b; printf 'line one\\nB says two\\nline three\\n' > README.md; commit b; touch \"$ROOT/b-done\"; wait_for fix-b; printf 'line one\\nA says two\\nline three\\n' > README.md; commit 'b takes a'; wait_for release"
        ),
        agent(
            "C",
            "printf 'c\\n' > other.txt; commit c; touch \"$ROOT/c-done\"; wait_for release"
        ),
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    let mut sse = live.events();
    assert!(wait_for(LONG, || s.path().join("a-done").exists()
        && s.path().join("c-done").exists()));
    // A and C committed: they touch different files, nothing to flag. That is checked
    // below, once the watcher has demonstrably looked at their commits (it flags B's
    // conflict with A, and its report covers every branch: C's list is empty, A's names B
    // alone), rather than after a pause here.
    let (a, b) = (id_of(&s, "A"), id_of(&s, "B"));
    std::fs::write(s.path().join("go-b"), "").unwrap();
    assert!(wait_for(LONG, || s.path().join("b-done").exists()));
    let committed = Instant::now();
    assert!(
        wait_for(Duration::from_secs(10), || {
            let st = s.status();
            !conflicts(&st, "A").is_empty() && !conflicts(&st, "B").is_empty()
        }),
        "not flagged: {}",
        s.status()
    );
    let took = committed.elapsed();
    eprintln!(
        "conflict flagged on both {} ms after the second commit",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(5), "flagged after {took:?}");
    let st = s.status();
    assert_eq!(
        conflicts(&st, "A"),
        vec![(b.into(), vec!["README.md".to_string()])]
    );
    assert_eq!(
        conflicts(&st, "B"),
        vec![(a.into(), vec!["README.md".to_string()])]
    );
    assert!(conflicts(&st, "C").is_empty(), "C edits another file");
    // The text tree and the event stream say it too, before anyone approved anything.
    let tree = text(&s.run(&["status"]));
    assert!(
        tree.contains(&format!("⚠ conflicts with #{b}: README.md")),
        "{tree}"
    );
    let got = read_until(&mut sse, "event: conflicts", Duration::from_secs(10));
    assert!(
        got.contains("event: conflicts") && got.contains("\"files\":[\"README.md\"]"),
        "{got}"
    );
    // B takes A's version: the conflict clears on both.
    std::fs::write(s.path().join("fix-b"), "").unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || {
            let st = s.status();
            conflicts(&st, "A").is_empty() && conflicts(&st, "B").is_empty()
        }),
        "not cleared: {}",
        s.status()
    );
    std::fs::write(s.path().join("release"), "").unwrap();
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("conflicts with #{b}: README.md")),
        "{out}"
    );
    assert!(out.contains("no longer conflicts"), "{out}");
}

/// A goal whose agents add a.txt and b.txt (stacked for ff, in parallel otherwise), a land
/// task, and a last task that records the prompt it got (`{result.commit}`).
fn land_goal(strategy: &str) -> String {
    let (a, b) = (
        agent("A", "printf 'a\\n' > a.txt; commit a"),
        agent("B", "printf 'b\\n' > b.txt; commit b"),
    );
    let work = if strategy == "ff" {
        format!("{a}{b}")
    } else {
        format!(
            "[[task]]\ntitle = \"Build\"\nparallel = true\n{}{}",
            a.replace("[[task]]", "  [[task.task]]"),
            b.replace("[[task]]", "  [[task.task]]")
        )
    };
    format!(
        "title = \"land {strategy}\"\nrepo = \"repo\"\n{work}[[task]]\ntitle = \"Ship\"\nkind = \"land\"\nstrategy = \"{strategy}\"\n[[task]]\ntitle = \"After\"\nprompt = \"landed {{result.commit}} on {{result.into}}\"\ncommand = [\"sh\", \"-c\", \"printf '%s' \\\"$TASKBOARD_PROMPT\\\" > \\\"$TASKBOARD_HOME/../after.txt\\\"\"]\nworktree = false\n"
    )
}

#[test]
fn each_strategy_lands_on_a_clean_checkout_and_the_result_has_the_commit() {
    for strategy in ["ff", "merge", "squash"] {
        let s = Scratch::new();
        let r = repo(&s);
        let init = git(&r, &["rev-parse", "main"]);
        let f = s.file("g.toml", &land_goal(strategy));
        let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "60s"]);
        assert_eq!(out.status.code(), Some(0), "{strategy}: {}", text(&out));
        let st = s.status();
        let result = &task(&st, "Ship")["result"];
        let main = git(&r, &["rev-parse", "main"]);
        assert_eq!(result["commit"], main.as_str(), "{strategy}: {result}");
        assert_eq!(result["into"], "main");
        assert_eq!(result["checkout"], "updated", "{strategy}: {result}");
        assert_eq!(
            s.read("after.txt"),
            format!("landed {main} on main"),
            "{strategy}: {{result.commit}} in the next prompt"
        );
        // The clean checkout came along: the work is there, nothing to commit.
        assert_eq!(std::fs::read_to_string(r.join("a.txt")).unwrap(), "a\n");
        assert_eq!(std::fs::read_to_string(r.join("b.txt")).unwrap(), "b\n");
        assert_eq!(git(&r, &["status", "--porcelain"]), "", "{strategy}");
        let merges = git(&r, &["log", "--merges", "--format=%s", "main"]);
        let since = git(&r, &["rev-list", "--count", &format!("{init}..main")]);
        match strategy {
            "ff" => {
                assert_eq!(merges, "", "ff makes no merge commit");
                assert_eq!(since, "2", "A then B, as committed");
                assert_eq!(result["skipped"].as_array().unwrap().len(), 1, "{result}");
            }
            "merge" => assert_eq!(merges.lines().count(), 2, "{merges}"),
            _ => {
                assert_eq!(since, "1", "squash: one commit");
                assert_eq!(git(&r, &["rev-parse", "main^"]), init);
            }
        }
    }
}

#[test]
fn a_dirty_checkout_is_never_overwritten() {
    // Overlapping: the user edits README.md, which the agent also changes.
    let s = Scratch::new();
    let r = repo(&s);
    let goal = format!(
        "title = \"dirty\"\nrepo = \"repo\"\n{}[[task]]\ntitle = \"Ship\"\nkind = \"land\"\n",
        agent(
            "A",
            "printf 'agent\\n' > README.md; printf 'x\\n' > x.txt; commit a"
        )
    );
    let f = s.file("g.toml", &goal);
    let mine = b"line one\nmy uncommitted edit\nline three\n\x00\xff binary tail";
    std::fs::write(r.join("README.md"), mine).unwrap();
    let main = git(&r, &["rev-parse", "main"]);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(1), "blocked: {}", text(&out));
    let st = s.status();
    let ship = task(&st, "Ship");
    assert_eq!(ship["status"], "blocked", "{ship}");
    let why = ship["reason"].as_str().unwrap();
    assert!(
        why.contains("README.md (modified)") && why.contains("nothing was changed"),
        "{why}"
    );
    assert_eq!(
        std::fs::read(r.join("README.md")).unwrap(),
        mine,
        "byte for byte"
    );
    assert_eq!(git(&r, &["rev-parse", "main"]), main, "main did not move");
    assert!(!r.join("x.txt").exists());

    // Disjoint: the user's edit to notes.txt stays, the landed work arrives around it.
    let s = Scratch::new();
    let r = repo(&s);
    let goal = format!(
        "title = \"dirty\"\nrepo = \"repo\"\n{}[[task]]\ntitle = \"Ship\"\nkind = \"land\"\n",
        agent("A", "printf 'agent\\n' > README.md; commit a")
    );
    let f = s.file("g.toml", &goal);
    let mine = b"my notes, not committed\n";
    std::fs::write(r.join("notes.txt"), mine).unwrap();
    std::fs::write(r.join("untracked.txt"), b"mine too\n").unwrap();
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        task(&s.status(), "Ship")["result"]["checkout"],
        "updated_dirty"
    );
    assert_eq!(std::fs::read(r.join("notes.txt")).unwrap(), mine);
    assert_eq!(
        std::fs::read(r.join("untracked.txt")).unwrap(),
        b"mine too\n"
    );
    assert_eq!(
        std::fs::read_to_string(r.join("README.md")).unwrap(),
        "agent\n"
    );
    assert_eq!(
        git(&r, &["status", "--porcelain"]),
        "M notes.txt\n?? untracked.txt",
        "(the first space is trimmed)"
    );
}

#[test]
fn a_conflict_blocks_landing_naming_files_and_branches_and_retry_lands_once_resolved() {
    let s = Scratch::new();
    let r = repo(&s);
    // A parallel goal: the work and its landing, plus a gate that keeps the run going.
    let work = format!(
        "[[task]]\ntitle = \"Work\"\n  [[task.task]]\n  title = \"Build\"\n  parallel = true\n{}{}  [[task.task]]\n  title = \"Ship\"\n  kind = \"land\"\n",
        agent("A", "printf 'line one\\nA\\nline three\\n' > README.md; commit a")
            .replace("[[task]]", "    [[task.task.task]]"),
        agent("B", "printf 'line one\\nB\\nline three\\n' > README.md; commit b")
            .replace("[[task]]", "    [[task.task.task]]"),
    );
    let goal = format!(
        "title = \"resolve\"\nrepo = \"repo\"\nparallel = true\n{work}[[task]]\ntitle = \"Hold\"\nkind = \"human_review\"\n"
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "Ship", "blocked", LONG), "{}", s.status());
    let st = s.status();
    let why = task(&st, "Ship")["reason"].as_str().unwrap().to_string();
    let b = task(&st, "B")["branch"].as_str().unwrap().to_string();
    assert!(why.contains(&format!("merging {b}")), "{why}");
    assert!(why.contains("into main conflicts in README.md"), "{why}");
    let main = git(&r, &["rev-parse", "main"]);
    assert_eq!(git(&r, &["status", "--porcelain"]), "");
    // The user resolves it on B's branch (in B's worktree), then retries.
    let a = task(&st, "A")["branch"].as_str().unwrap().to_string();
    let wt = PathBuf::from(task(&st, "B")["worktree"].as_str().unwrap());
    let merge = Command::new("git")
        .args(["merge", "-q", &a])
        .current_dir(&wt)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!merge.success(), "the merge conflicts, as the board said");
    std::fs::write(wt.join("README.md"), "line one\nA and B\nline three\n").unwrap();
    git(&wt, &["commit", "-qam", "resolve"]);
    let ship = id_of(&s, "Ship");
    let out = s.run(&["retry", &ship.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(wait_status(&s, "Ship", "done", LONG), "{}", s.status());
    assert_ne!(git(&r, &["rev-parse", "main"]), main);
    assert_eq!(
        std::fs::read_to_string(r.join("README.md")).unwrap(),
        "line one\nA and B\nline three\n"
    );
    let out = s.run(&["approve", &id_of(&s, "Hold").to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
}

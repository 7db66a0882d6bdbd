//! The demo's landing, the default target, and landing from the TUI.

use super::*;

#[test]
fn the_demo_leaves_the_agents_work_on_main() {
    let s = Scratch::new();
    let out = s.run(&["demo", "--headless", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let o = text(&out);
    let repo = o
        .lines()
        .find_map(|l| l.strip_prefix("demo repo:"))
        .map(|p| PathBuf::from(p.trim()))
        .expect("the demo prints its repo");
    let tree = git(&repo, &["ls-tree", "-r", "--name-only", "main"]);
    for n in [2, 4, 5, 6] {
        let f = format!("notes/task-{n}.md");
        assert!(tree.contains(&f), "main lacks {f}: {tree}");
        assert!(repo.join(&f).exists(), "the checkout lacks {f}");
    }
    assert_eq!(git(&repo, &["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    let st = s.status();
    assert_eq!(task(&st, "Ship it")["kind"], "land");
    assert_eq!(
        task(&st, "Ship it")["result"]["commit"],
        git(&repo, &["rev-parse", "main"]).as_str()
    );
    let _ = std::fs::remove_dir_all(repo.parent().unwrap());
}

#[test]
fn into_defaults_to_the_branch_checked_out_when_the_goal_was_added() {
    let s = Scratch::new();
    let r = repo(&s);
    let goal = format!(
        "title = \"recorded\"\nrepo = \"repo\"\n{}[[task]]\ntitle = \"Ship\"\nkind = \"land\"\n",
        agent("A", "wait_for go; printf 'a\\n' > a.txt; commit a")
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "A", "active", LONG), "{}", s.status());
    let goal_json = &s.status()["goals"][0];
    assert_eq!(goal_json["into"], "main", "recorded at add: {goal_json}");
    // The user moves on to another branch before the work lands.
    git(&r, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(r.join("notes.txt"), "work in progress on feature\n").unwrap();
    std::fs::write(s.path().join("go"), "").unwrap();
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
    let result = task(&s.status(), "Ship")["result"].clone();
    assert_eq!(result["into"], "main", "{result}");
    assert_eq!(result["checkout"], "ref_only", "{result}");
    assert_eq!(git(&r, &["show", "main:a.txt"]), "a");
    assert_eq!(git(&r, &["symbolic-ref", "--short", "HEAD"]), "feature");
    assert!(
        !r.join("a.txt").exists(),
        "the feature checkout is left alone"
    );
    assert_eq!(
        std::fs::read_to_string(r.join("notes.txt")).unwrap(),
        "work in progress on feature\n"
    );
}

#[test]
fn shift_l_in_the_tui_asks_then_lands() {
    let _serial = serial(); // a tmux screen: the machine to itself (Tmux::start needs tmux)
    let s = Scratch::new();
    let r = repo(&s);
    let goal = format!(
        "title = \"tui land\"\nrepo = \"repo\"\nparallel = true\n{}[[task]]\ntitle = \"Hold\"\nkind = \"human_review\"\n",
        agent("A", "printf 'a\\n' > a.txt; commit a")
    );
    let f = s.file("g.toml", &goal);
    let t = tmux::Tmux::start(&s, &["run", f.to_str().unwrap()], &[], (200, 50));
    t.wait_for("✔ #2 A", LONG);
    // `run FILE` selects its goal; A is the next row.
    t.keys(&["j", "L"]);
    let screen = t.wait_for("Land #2 A (1 branch) on main with strategy merge?", LONG);
    assert!(
        !r.join("a.txt").exists(),
        "nothing lands before the answer:\n{screen}"
    );
    t.keys(&["y"]);
    t.wait_for("✔ #4 Land #2 A", LONG);
    assert_eq!(std::fs::read_to_string(r.join("a.txt")).unwrap(), "a\n");
    assert_eq!(git(&r, &["status", "--porcelain"]), "");
}

#[test]
fn a_conflict_between_two_live_agents_shows_in_the_tui_tree_before_any_approval() {
    let _serial = serial(); // a tmux screen: the machine to itself (Tmux::start needs tmux)
    let s = Scratch::new();
    let r = repo(&s);
    let review = |title: &str, line: &str| {
        agent(
            title,
            &format!("printf 'line one\\n{line}\\nline three\\n' > README.md; commit {title}"),
        ) + "review = true\n"
    };
    let goal = format!(
        "title = \"two at once\"\nrepo = \"repo\"\nparallel = true\n{}{}",
        review("A", "A says two"),
        review("B", "B says two"),
    );
    let f = s.file("g.toml", &goal);
    let t = tmux::Tmux::start(&s, &["run", f.to_str().unwrap()], &[], (200, 50));
    // The rows are cut at the pane's width (README.md → READM…).
    let screen = t.wait_for("#3 B  needs you: review · ⚠ conflicts with #2: READM", LONG);
    assert!(
        screen.contains("#2 A  needs you: review · ⚠ conflicts with #3: READM"),
        "both rows show it:\n{screen}"
    );
    // Nothing was approved: both wait for their review, and main is as it was.
    let st = s.status();
    for title in ["A", "B"] {
        assert_eq!(task(&st, title)["status"], "pending_review", "{st}");
    }
    assert_eq!(git(&r, &["log", "--oneline", "main"]).lines().count(), 1);
    // The review modal says it before approving.
    t.keys(&["j", "a"]);
    let modal = t.wait_for("conflicts ⚠ with #3 B: README.md", LONG);
    assert!(modal.contains("Decide #2 · A"), "{modal}");
}

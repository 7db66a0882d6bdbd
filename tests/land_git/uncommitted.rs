//! Uncommitted work, operations in progress, and a target that moved: nothing is lost.

use super::*;

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

/// What a refused landing must leave as it found it: main's tip, the checkout's files and
/// its `git status` (ignored files included).
struct Untouched {
    main: String,
    files: BTreeMap<String, Vec<u8>>,
    status: String,
}

impl Untouched {
    fn now(r: &Path) -> Untouched {
        Untouched {
            main: tip(r, "main"),
            files: files(r),
            status: git(r, &["status", "--porcelain", "--ignored"]),
        }
    }

    /// Lands branch `work` with `strategy`: it must be refused with a reason that says
    /// `says` and "nothing was changed", and leave `r` as `self` found it. Each miss is
    /// added to `failures`, named `name`.
    fn refused(
        &self,
        r: &Path,
        strategy: LandStrategy,
        says: &str,
        name: &str,
        failures: &mut Vec<String>,
    ) {
        match land(&req(r, strategy, &["work"])) {
            Ok(l) => failures.push(format!("{name}: landed ({:?})", l.checkout)),
            Err(e) => {
                let why = e.to_string();
                if !why.contains(says) || !why.contains("nothing was changed") {
                    failures.push(format!("{name}: reason {why:?} lacks {says:?}"));
                }
            }
        }
        if tip(r, "main") != self.main {
            failures.push(format!("{name}: main moved"));
        }
        if files(r) != self.files {
            failures.push(format!("{name}: the checkout's files changed"));
        }
        if git(r, &["status", "--porcelain", "--ignored"]) != self.status {
            failures.push(format!("{name}: the checkout's status changed"));
        }
    }
}

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
        let before = Untouched::now(&r);
        let name = format!("{} ({strategy:?})", case.name);
        before.refused(&r, strategy, case.says, &name, &mut failures);
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
        let (untouched, before) = (Untouched::now(&r), state(&git_dir));
        for strategy in [LandStrategy::Merge, LandStrategy::Squash] {
            let name = format!("{} ({strategy:?})", case.name);
            untouched.refused(&r, strategy, case.says, &name, &mut failures);
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

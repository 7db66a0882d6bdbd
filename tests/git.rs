//! Agent tasks in git worktrees on temp repos: stacking, blocked reasons, review diffs,
//! deleting goals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const LONG: Duration = Duration::from_secs(30);

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A command agent that commits a file named after its task in its worktree.
fn committer(name: &str) -> String {
    let script = format!(
        "echo {name} > {name}.txt && git add {name}.txt && git -c user.name=a -c user.email=a@x.invalid commit -qm {name} && ls > seen-{name}.txt && cp seen-{name}.txt \"$TASKBOARD_HOME/../seen-{name}.txt\""
    );
    format!(
        "command = [\"sh\", \"-c\", {}]",
        serde_json::to_string(&script).unwrap()
    )
}

#[test]
fn sequential_agents_stack_their_work_and_leave_the_main_checkout_alone() {
    let s = Scratch::new();
    let repo = s.path().join("repo");
    git_repo(&repo);
    let head_before = git(&repo, &["rev-parse", "HEAD"]);
    let goal = format!("title = \"stack\"\nrepo = \"repo\"\n[[task]]\ntitle = \"first\"\n{}\n[[task]]\ntitle = \"second\"\n{}\n", committer("one"), committer("two"));
    let f = s.file("g.toml", &goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The second worktree already had the first's commit when it started.
    let seen = s.read("seen-two.txt");
    assert!(seen.contains("one.txt"), "second task saw: {seen}");
    let branches = git(&repo, &["branch", "--list", "taskboard/*"]);
    assert_eq!(branches.lines().count(), 2, "{branches}");
    assert!(
        branches.contains("-first") && branches.contains("-second"),
        "{branches}"
    );
    let second = branches
        .lines()
        .find(|b| b.contains("-second"))
        .unwrap()
        .trim_start_matches(['*', '+', ' ']);
    let log = git(&repo, &["log", "--format=%s", second]);
    assert_eq!(log.lines().collect::<Vec<_>>(), vec!["two", "one", "init"]);
    // The main checkout: same HEAD, clean working tree.
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    let t = flatten(&s.status());
    assert!(t.iter().all(|x| x["status"] == "done"), "{t:?}");
}

#[test]
fn shell_opens_in_the_task_worktree_with_its_work() {
    let s = Scratch::new();
    let repo = s.path().join("repo");
    git_repo(&repo);
    let goal = format!(
        "title = \"sh\"\nrepo = \"repo\"\n[[task]]\ntitle = \"first\"\n{}\n",
        committer("one")
    );
    let f = s.file("g.toml", &goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = id_of(&s, "first");
    // The user's shell runs the script on stdin: it is in the worktree, on the task's branch.
    let mut child = s
        .cmd(&["shell", &first.to_string()])
        .env("SHELL", "/bin/sh")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"pwd; ls; git branch --show-current; echo id=$TASKBOARD_TASK_ID token=$TASKBOARD_TOKEN; exit 7\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let printed = text(&out);
    assert_eq!(
        out.status.code(),
        Some(7),
        "the shell's exit code: {printed}"
    );
    assert!(printed.contains("/worktrees/"), "{printed}");
    assert!(
        printed.contains("one.txt"),
        "the task's work is there: {printed}"
    );
    assert!(
        printed.contains("-first"),
        "on the task's branch: {printed}"
    );
    assert!(
        printed.contains(&format!("id={first} token=\n")),
        "{printed}"
    );
    // A group has no directory of its own; an unknown id says so.
    let out = s.run(&["shell", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("is a group task"), "{}", text(&out));
    let out = s.run(&["shell", "99"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no task #99"), "{}", text(&out));
}

#[test]
fn not_a_git_repository_blocks_then_retry_succeeds_after_git_init() {
    let s = Scratch::new();
    let repo = s.path().join("plain");
    std::fs::create_dir_all(&repo).unwrap();
    let goal = format!(
        "title = \"nogit\"\nrepo = \"plain\"\n[[task]]\ntitle = \"work\"\n{}\n",
        committer("w")
    );
    let f = s.file("g.toml", &goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = flatten(&s.status());
    let work = by_title(&t, "work");
    assert_eq!(work["status"], "blocked");
    assert!(
        work["reason"]
            .as_str()
            .unwrap()
            .contains("not a git repository"),
        "{work}"
    );
    assert!(
        work["attention"]
            .as_str()
            .unwrap()
            .contains("not a git repository"),
        "{work}"
    );

    // An empty repository: "no commits yet".
    Command::new("git")
        .args(["init", "-q"])
        .current_dir(&repo)
        .status()
        .unwrap();
    // A waiting gate keeps the board up while we retry.
    let hold = s.file(
        "hold.toml",
        "title = \"hold\"\n[[task]]\ntitle = \"hold\"\nkind = \"signal\"\ngate = \"hold\"\n",
    );
    let live = Live::start(&s, Some(&hold), &[]);
    let id = work["id"].as_u64().unwrap().to_string();
    let out = s.run(&["retry", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(wait_for(LONG, || by_title(&flatten(&s.status()), "work")
        ["reason"]
        .as_str()
        .unwrap_or("")
        .contains("no commits yet")));
    drop(live);

    std::fs::write(repo.join("a"), "a").unwrap();
    Command::new("git")
        .args(["add", "a"])
        .current_dir(&repo)
        .status()
        .unwrap();
    Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@x.invalid",
            "commit",
            "-qm",
            "a",
        ])
        .current_dir(&repo)
        .status()
        .unwrap();
    let live = Live::start(&s, Some(&hold), &[]);
    let out = s.run(&["retry", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(wait_for(LONG, || by_title(&flatten(&s.status()), "work")
        ["status"]
        == "done"));
    drop(live);
}

#[test]
fn review_stores_the_diff_hash_and_decisions_use_it() {
    let s = Scratch::new();
    let repo = s.path().join("repo");
    git_repo(&repo);
    let bin = BIN;
    // Commits, asks for review, then waits for changes on stdin and records them.
    let script = format!(
        "echo v1 > f.txt && git add f.txt && git -c user.name=a -c user.email=a@x.invalid commit -qm v1 && '{bin}' complete --review --summary 'first cut' && read -r line && echo \"$line\" > \"$TASKBOARD_HOME/../got.txt\" && sleep 30"
    );
    let goal = format!(
        "title = \"rev\"\nrepo = \"repo\"\n[[task]]\ntitle = \"agent\"\ncommand = [\"sh\", \"-c\", {}]\n[[task]]\ntitle = \"gate\"\nkind = \"human_review\"\n",
        serde_json::to_string(&script).unwrap()
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_for(LONG, || by_title(&flatten(&s.status()), "agent")
        ["status"]
        == "pending_review"));
    let agent = by_title(&flatten(&s.status()), "agent")["id"]
        .as_u64()
        .unwrap();
    let (_, task) = live.req("GET", &format!("/api/tasks/{agent}"), None);
    assert!(
        wait_for(LONG, || live
            .req("GET", &format!("/api/tasks/{agent}"), None)
            .1["diff_hash"]
            .is_string()),
        "{task}"
    );
    let (_, task) = live.req("GET", &format!("/api/tasks/{agent}"), None);
    let hash = task["diff_hash"].as_str().unwrap().to_string();
    assert_eq!(hash.len(), 64);
    assert!(
        task["diff_stat"].as_str().unwrap().contains("f.txt"),
        "{task}"
    );
    let status = String::from_utf8_lossy(&s.run(&["status"]).stdout).to_string();
    assert!(
        status.contains("f.txt"),
        "status shows the diff stat: {status}"
    );
    // A stale hash is refused.
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{agent}/decision"),
        Some(r#"{"decision":"approve","diff_hash":"0000"}"#),
    );
    assert_eq!(code, 409, "{v}");
    // Request changes: the running agent gets the comment on its stdin.
    let out = s.run(&[
        "request-changes",
        &agent.to_string(),
        "--comment",
        "please rename f",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        wait_for(LONG, || s.read("got.txt").contains("please rename f")),
        "got: {}",
        s.read("got.txt")
    );
    // Complete again, approve with the hash shown: the audit event records it.
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{agent}/complete"),
        Some(r#"{"summary":"renamed","review":true}"#),
    );
    assert_eq!(code, 200, "{v}");
    assert!(wait_for(LONG, || live
        .req("GET", &format!("/api/tasks/{agent}"), None)
        .1["diff_hash"]
        .is_string()));
    let hash = live.req("GET", &format!("/api/tasks/{agent}"), None).1["diff_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{agent}/decision"),
        Some(&format!(r#"{{"decision":"approve","diff_hash":"{hash}"}}"#)),
    );
    assert_eq!(code, 200, "{v}");
    let (_, audit) = live.req("GET", &format!("/api/tasks/{agent}/audit"), None);
    let decision = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == "decision")
        .unwrap()
        .clone();
    assert_eq!(
        decision["payload"]["diff_hash"],
        hash.as_str(),
        "{decision}"
    );
    // The gate after it reviews the same work: it gets a diff too.
    let gate = by_title(&flatten(&s.status()), "gate")["id"]
        .as_u64()
        .unwrap();
    assert!(wait_for(LONG, || live
        .req("GET", &format!("/api/tasks/{gate}"), None)
        .1["diff_hash"]
        == hash.as_str()));
}

#[test]
fn deleting_a_goal_removes_its_worktrees_and_keeps_branches() {
    let s = Scratch::new();
    let repo = s.path().join("repo");
    git_repo(&repo);
    let goal = format!("title = \"del\"\nrepo = \"repo\"\nparallel = true\n[[task]]\ntitle = \"work\"\n{}\n[[task]]\ntitle = \"hold\"\nkind = \"signal\"\ngate = \"h\"\n", committer("d"));
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_for(LONG, || by_title(&flatten(&s.status()), "work")
        ["status"]
        == "done"));
    let wt = s.data().join("worktrees");
    assert_eq!(std::fs::read_dir(&wt).unwrap().count(), 1);
    let out = s.run(&["delete", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        wait_for(LONG, || std::fs::read_dir(&wt)
            .map(|d| d.count() == 0)
            .unwrap_or(true)),
        "worktree left behind"
    );
    assert_eq!(
        git(&repo, &["branch", "--list", "taskboard/*"])
            .lines()
            .count(),
        1,
        "the branch is kept"
    );
    assert_eq!(
        git(&repo, &["worktree", "list"]).lines().count(),
        1,
        "the worktree registration is pruned"
    );
    drop(live);
}

#[test]
fn a_ci_result_for_old_code_is_refused_as_stale() {
    let s = Scratch::new();
    let repo = s.path().join("repo");
    git_repo(&repo);
    let goal = format!(
        "title = \"sha\"\nrepo = \"repo\"\n[[task]]\ntitle = \"fix\"\n{}\n[[task]]\ntitle = \"ci\"\nkind = \"signal\"\ngate = \"gh_ci\"\nrepo = \"o/r\"\npr = 5\n",
        committer("fix")
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &["--timeout", "40s"]);
    assert!(wait_status(&s, "ci", "active", LONG));
    let branch = by_title(&flatten(&s.status()), "fix")["branch"]
        .as_str()
        .unwrap()
        .to_string();
    let head = git(&repo, &["rev-parse", &branch]);
    let old = git(&repo, &["rev-parse", &format!("{branch}~1")]);
    let body = |sha: &str| {
        format!(r#"{{"gate":"gh_ci","repo":"o/r","pr":5,"status":"pass","sha":"{sha}"}}"#)
    };
    let (code, v) = live.req("POST", "/api/signals/resolve", Some(&body(&old)));
    assert_eq!(code, 409, "{v}");
    assert_eq!(v["error"]["code"], "stale");
    assert_eq!(
        by_title(&flatten(&s.status()), "ci")["status"],
        "active",
        "nothing changed"
    );
    let (code, v) = live.req("POST", "/api/signals/resolve", Some(&body(&head[..12])));
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["matched"].as_array().unwrap().len(), 1);
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn worktrees_of_parallel_tasks_are_made_at_once_without_tripping_over_each_other() {
    // A parallel group spawns its tasks together: their worktrees are added concurrently.
    for round in 0..5 {
        let s = Scratch::new();
        let repo = s.path().join("repo");
        git_repo(&repo);
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (repo, dir) = (repo.clone(), s.path().join("worktrees"));
                std::thread::spawn(move || {
                    taskboard::git::ensure_worktree(
                        &repo,
                        &dir.join(format!("1-{i}")),
                        &format!("taskboard/x/{i}-t"),
                        None,
                    )
                })
            })
            .collect();
        for t in threads {
            let r = t.join().expect("thread");
            assert!(r.is_ok(), "round {round}: {:?}", r.err());
        }
    }
}

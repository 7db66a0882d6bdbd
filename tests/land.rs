//! Landing and conflict warnings through the real binary, on real git repositories in temp
//! dirs (a bare repository as the remote; a stand-in `gh` on PATH): conflicts between live
//! agents flagged within seconds, each strategy, dirty checkouts, a conflict resolved and
//! retried, pull requests feeding a signal gate, `taskboard land` and its route, the demo.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const LONG: Duration = Duration::from_secs(60);

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=u", "-c", "user.email=u@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs (it must be installed for these tests)");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `<scratch>/repo` on main with a three-line README.md and notes.txt.
fn repo(s: &Scratch) -> PathBuf {
    let r = s.path().join("repo");
    std::fs::create_dir_all(&r).unwrap();
    git(&r, &["init", "-q", "-b", "main"]);
    std::fs::write(r.join("README.md"), "line one\nline two\nline three\n").unwrap();
    std::fs::write(r.join("notes.txt"), "notes\n").unwrap();
    git(&r, &["add", "."]);
    git(&r, &["commit", "-qm", "init"]);
    r
}

/// An agent (a command in its worktree) that runs `script`, with `$ROOT` the scratch dir and
/// `commit MSG` committing everything.
fn agent(title: &str, script: &str) -> String {
    let full = format!(
        "ROOT=\"$TASKBOARD_HOME/..\"; commit() {{ git add -A && git -c user.name=a -c user.email=a@x.invalid commit -qm \"$1\"; }}; wait_for() {{ while [ ! -e \"$ROOT/$1\" ]; do sleep 0.05; done; }}; {script}"
    );
    format!(
        "[[task]]\ntitle = \"{title}\"\ncommand = [\"sh\", \"-c\", {}]\n",
        toml_str(&full)
    )
}

fn task<'a>(status: &'a Value, title: &str) -> &'a Value {
    let all = flatten(status);
    let t = all
        .iter()
        .position(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no task {title}"));
    // `flatten` returns owned values; find the same task in the tree by id.
    let id = all[t]["id"].clone();
    find(status, &id).expect("task in the tree")
}

fn find<'a>(v: &'a Value, id: &Value) -> Option<&'a Value> {
    if v.get("id") == Some(id) && v.get("title").is_some() {
        return Some(v);
    }
    let kids = v
        .get("goals")
        .or_else(|| v.get("children"))
        .and_then(Value::as_array)?;
    kids.iter().find_map(|k| find(k, id))
}

/// `(other task id or null, files)` of a task's conflicts in `status --json`.
fn conflicts(status: &Value, title: &str) -> Vec<(Value, Vec<String>)> {
    task(status, title)["conflicts"]
        .as_array()
        .unwrap_or_else(|| panic!("{title} has no conflicts field"))
        .iter()
        .map(|c| {
            let files = c["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            (c["task"].clone(), files)
        })
        .collect()
}

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
    // A and C committed: they touch different files, nothing to flag (checked after a few
    // polls of the watcher).
    std::thread::sleep(Duration::from_millis(1500));
    let st = s.status();
    for t in ["A", "B", "C"] {
        assert!(conflicts(&st, t).is_empty(), "{t}: {st}");
    }
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

/// A `gh` that records its arguments and prints a pull request URL, in `<scratch>/bin`.
fn stand_in_gh(s: &Scratch, exit: i32) -> PathBuf {
    let bin = s.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let args = s.path().join("gh-args.txt");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > {}\nif [ {exit} -ne 0 ]; then echo 'gh: no default remote' >&2; exit {exit}; fi\necho 'Creating pull request for the branch'\necho 'https://github.com/acme/app/pull/17'\n",
        args.display()
    );
    let gh = bin.join("gh");
    std::fs::write(&gh, script).unwrap();
    let mut p = std::fs::metadata(&gh).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o755);
    std::fs::set_permissions(&gh, p).unwrap();
    bin
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `run FILE --headless` with PATH starting at `bin`, in the background.
fn start_with_path(s: &Scratch, file: &Path, bin: &Path) -> Live {
    let _ = std::fs::remove_file(s.data().join("endpoint"));
    let mut child = s
        .cmd(&["run", file.to_str().unwrap(), "--headless"])
        .env("PATH", path_with(bin))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn taskboard");
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let into = output.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Ok(mut o) = into.lock() {
                    o.push_str(&line);
                    o.push('\n');
                }
            }
        });
    }
    let ep = s.data().join("endpoint");
    assert!(wait_for(Duration::from_secs(20), || {
        std::fs::read_to_string(&ep)
            .map(|t| t.lines().count() >= 2)
            .unwrap_or(false)
    }));
    let (url, token) = s.endpoint();
    Live {
        child,
        url,
        token,
        output,
    }
}

#[test]
fn a_pull_request_is_pushed_and_opened_and_its_url_feeds_the_next_gate() {
    let s = Scratch::new();
    let r = repo(&s);
    let bare = s.path().join("remote.git");
    git(s.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    git(&r, &["remote", "add", "origin", bare.to_str().unwrap()]);
    git(&r, &["push", "-q", "origin", "main"]);
    let bin = stand_in_gh(&s, 0);
    let goal = format!(
        "title = \"propose\"\nrepo = \"repo\"\n{}[[task]]\ntitle = \"Propose\"\nkind = \"land\"\npr = true\n[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npr_url = \"{{result.pr_url}}\"\n",
        agent("A", "printf 'a\\n' > a.txt; commit a")
    );
    let f = s.file("g.toml", &goal);
    let main = git(&r, &["rev-parse", "main"]);
    let live = start_with_path(&s, &f, &bin);
    assert!(
        wait_for(LONG, || task(&s.status(), "CI")["status"] == "active"),
        "{}\n{}",
        s.status(),
        live.printed()
    );
    let st = s.status();
    let result = task(&st, "Propose")["result"].clone();
    let branch = result["branch"]
        .as_str()
        .expect("the PR branch")
        .to_string();
    assert_eq!(result["pr_url"], "https://github.com/acme/app/pull/17");
    assert_eq!(result["pr"], 17);
    assert_eq!(result["remote"], "origin");
    // The branch is on the remote, at the landed commit; main did not move.
    let on_remote = git(&bare, &["rev-parse", &format!("refs/heads/{branch}")]);
    assert_eq!(on_remote, result["commit"].as_str().unwrap());
    assert_eq!(git(&bare, &["show", &format!("{branch}:a.txt")]), "a");
    assert_eq!(git(&r, &["rev-parse", "main"]), main);
    // gh got exactly the default command, filled.
    assert_eq!(
        s.read("gh-args.txt"),
        format!("pr\ncreate\n--fill\n--head\n{branch}\n--base\nmain\n")
    );
    // The gate waits on that PR, and a CI result for it by URL passes it.
    let ci = task(&st, "CI");
    assert_eq!(ci["reason"], "waiting on gh_ci #17", "{ci}");
    assert_eq!(ci["repo"], "acme/app");
    let (code, v) = live.req(
        "POST",
        "/api/signals/resolve",
        Some(r#"{"gate":"gh_ci","pr_url":"https://github.com/acme/app/pull/17","status":"pass"}"#),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["matched"], serde_json::json!([ci["id"]]));
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_failed_push_or_pr_command_blocks_with_its_stderr() {
    for (case, extra, exit, says) in [
        (
            "push",
            "remote = \"nowhere\"\n",
            0,
            "git push to nowhere failed",
        ),
        ("gh", "", 1, "gh: no default remote"),
    ] {
        let s = Scratch::new();
        let r = repo(&s);
        let bare = s.path().join("remote.git");
        git(s.path(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
        git(&r, &["remote", "add", "origin", bare.to_str().unwrap()]);
        let bin = stand_in_gh(&s, exit);
        let goal = format!(
            "title = \"propose\"\nrepo = \"repo\"\n{}[[task]]\ntitle = \"Propose\"\nkind = \"land\"\npr = true\n{extra}",
            agent("A", "printf 'a\\n' > a.txt; commit a")
        );
        let f = s.file("g.toml", &goal);
        let out = s
            .cmd(&["run", f.to_str().unwrap(), "--headless", "--timeout", "60s"])
            .env("PATH", path_with(&bin))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{case}: {}", text(&out));
        let st = s.status();
        let p = task(&st, "Propose");
        assert_eq!(p["status"], "blocked", "{case}: {p}");
        let why = p["reason"].as_str().unwrap();
        assert!(why.contains(says), "{case}: {why}");
        if case == "push" {
            // git's own words come along.
            assert!(why.contains("nowhere"), "{why}");
        }
    }
}

#[test]
fn taskboard_land_lands_a_finished_task_on_demand_and_its_route_checks_callers() {
    let s = Scratch::new();
    let r = repo(&s);
    let goal = format!(
        "title = \"on demand\"\nrepo = \"repo\"\nparallel = true\n{}[[task]]\ntitle = \"Hold\"\nkind = \"human_review\"\n",
        agent("A", "printf 'a\\n' > a.txt; commit a")
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "A", "done", LONG), "{}", s.status());
    let (a, hold) = (id_of(&s, "A"), id_of(&s, "Hold"));
    // The route: admin only; unknown ids, bad bodies and tasks that cannot land refused.
    let secret = std::fs::read_to_string(s.data().join("secret")).unwrap();
    let agent_token = taskboard::http::Keys::new(live.token.clone(), secret.trim()).task_token(a);
    let (code, _) = http(
        &live.addr(),
        "POST",
        &format!("/api/tasks/{a}/land"),
        Some("{}"),
        &[("Authorization", &format!("Bearer {agent_token}"))],
    );
    assert_eq!(code, 403, "an agent's token may not land");
    let (code, _) = live.req("POST", "/api/tasks/999/land", Some("{}"));
    assert_eq!(code, 404);
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{a}/land"),
        Some(r#"{"strategy":"rebase"}"#),
    );
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["error"]["field"], "strategy", "{v}");
    let (code, v) = live.req("POST", &format!("/api/tasks/{hold}/land"), Some("{}"));
    assert_eq!(code, 409, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("human_review"),
        "{v}"
    );
    // The CLI word.
    let out = s.run(&["land", &a.to_string(), "--into", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("landing on main"), "{}", text(&out));
    let title = format!("Land #{a} A");
    assert!(wait_status(&s, &title, "done", LONG), "{}", s.status());
    assert_eq!(std::fs::read_to_string(r.join("a.txt")).unwrap(), "a\n");
    assert_eq!(
        task(&s.status(), &title)["result"]["commit"],
        git(&r, &["rev-parse", "main"]).as_str()
    );
    let out = s.run(&["approve", &hold.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (code, out) = live.wait(LONG);
    assert_eq!(code, Some(0), "{out}");
}

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

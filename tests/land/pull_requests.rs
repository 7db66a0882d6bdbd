//! Pull requests (push and open, failures), and `taskboard land` on demand.

use super::*;

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
    Live::start_env(s, Some(file), &[], &[("PATH".to_string(), path_with(bin))])
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

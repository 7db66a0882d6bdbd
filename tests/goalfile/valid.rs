//! What a valid file becomes.

use super::*;

// ---------------------------------------------------------------------------------------------
// What a valid file becomes.

fn ok(text: &str, given: &[(&str, &str)]) -> NewTask {
    parse(text, given).unwrap_or_else(|e| panic!("expected a valid goal, got {e}"))
}

#[test]
fn kinds_are_inferred_from_children() {
    let g = ok(
        r#"title = "g"
[[task]]
title = "plain"
[[task]]
title = "with children"
  [[task.task]]
  title = "child"
[[task]]
title = "look"
kind = "human_review"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
[[task]]
title = "explicit group"
kind = "group"
  [[task.task]]
  title = "x"
"#,
        NO_VARS,
    );
    assert_eq!(g.kind, Kind::Group);
    let kinds: Vec<Kind> = g.children.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Agent,
            Kind::Group,
            Kind::HumanReview,
            Kind::Signal,
            Kind::Group
        ]
    );
    assert_eq!(g.children[1].children[0].kind, Kind::Agent);
}

#[test]
fn session_agent_and_worktree_come_from_the_nearest_ancestor() {
    let g = ok(
        r#"title = "g"
session = "pinned"
agent = "codex"
worktree = false
[[task]]
title = "inherits all"
[[task]]
title = "group"
agent = "aider"
session = "spawn"
  [[task.task]]
  title = "from the group"
  [[task.task]]
  title = "own"
  agent = "shell"
  worktree = true
  session = "pinned"
"#,
        NO_VARS,
    );
    let goal = &g.spec;
    assert_eq!(
        (goal.session, goal.agent.as_deref(), goal.worktree),
        (SessionPolicy::Pinned, Some("codex"), false)
    );
    let a = &g.children[0].spec;
    assert_eq!(
        (a.session, a.agent.as_deref(), a.worktree),
        (SessionPolicy::Pinned, Some("codex"), false)
    );
    let from_group = &g.children[1].children[0].spec;
    assert_eq!(
        (
            from_group.session,
            from_group.agent.as_deref(),
            from_group.worktree
        ),
        (SessionPolicy::Spawn, Some("aider"), false)
    );
    let own = &g.children[1].children[1].spec;
    assert_eq!(
        (own.session, own.agent.as_deref(), own.worktree),
        (SessionPolicy::Pinned, Some("shell"), true)
    );
}

#[test]
fn defaults_without_ancestors() {
    let g = ok("title = \"g\"\n[[task]]\ntitle = \"a\"\n", NO_VARS);
    let a = &g.children[0].spec;
    assert_eq!(
        (a.session, a.agent.as_deref(), a.worktree),
        (SessionPolicy::Spawn, None, true)
    );
    assert_eq!(
        (a.retries, a.review, a.plan, a.timeout, a.on_timeout),
        (0, false, false, None, OnTimeout::Fail)
    );
    let settings = g.spec.goal.as_ref().expect("goal settings");
    assert_eq!(settings.spawn_fallback, SpawnFallback::Block);
    assert_eq!(
        (settings.max_agents, settings.spawns_per_minute),
        (None, None)
    );
    assert!(
        g.children[0].spec.goal.is_none(),
        "only the goal carries goal settings"
    );
}

const TEMPLATE: &str = r#"title = "Triage {{repo}}#{{pr}}"
[vars]
pr = { description = "the PR number" }
repo = { default = "o/n", description = "owner/name" }
who = "the reviewer"
[[task]]
title = "check {{pr}}"
prompt = "Look at PR {{pr}} in {{repo}} for {{who}}; keep {{unknown}} and {result.sha} and {prompt}."
command = ["sh", "-c", "echo {{pr}}"]
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
repo = "{{repo}}"
pr = "{{pr}}"
poll = "gh pr checks {{pr}}"
"#;

#[test]
fn vars_fill_from_given_values_and_defaults() {
    let g = ok(TEMPLATE, &[("pr", "42")]);
    assert_eq!(g.spec.title, "Triage o/n#42");
    let check = &g.children[0].spec;
    assert_eq!(check.title, "check 42");
    assert_eq!(
        check.prompt.as_deref(),
        Some("Look at PR 42 in o/n for the reviewer; keep {{unknown}} and {result.sha} and {prompt}.")
    );
    assert_eq!(
        check.command.as_deref(),
        Some(&["sh".to_string(), "-c".into(), "echo 42".into()][..])
    );
    let ci = &g.children[1].spec;
    assert_eq!((ci.repo.as_deref(), ci.pr), (Some("o/n"), Some(42)));
    assert_eq!(ci.poll.as_deref(), Some("gh pr checks 42"));
    let settings = g.spec.goal.as_ref().expect("goal settings");
    assert_eq!(
        settings.vars,
        vars(&[("pr", "42"), ("repo", "o/n"), ("who", "the reviewer")])
    );
}

#[test]
fn given_vars_override_defaults() {
    let g = ok(
        TEMPLATE,
        &[("pr", "7"), ("repo", "me/fork"), ("who", "Ann")],
    );
    assert_eq!(g.spec.title, "Triage me/fork#7");
    assert_eq!(g.children[1].spec.repo.as_deref(), Some("me/fork"));
    assert_eq!(g.children[1].spec.pr, Some(7));
    assert!(g.children[0]
        .spec
        .prompt
        .as_deref()
        .unwrap_or("")
        .contains("for Ann;"));
}

#[test]
fn undeclared_placeholders_are_left_as_written() {
    let g = ok(
        "title = \"{{x}} and {{ y }} and {{\"\n[[task]]\ntitle = \"a {{pr}}\"\nprompt = \"}}{{\"\n",
        NO_VARS,
    );
    assert_eq!(g.spec.title, "{{x}} and {{ y }} and {{");
    assert_eq!(g.children[0].spec.title, "a {{pr}}");
    assert_eq!(g.children[0].spec.prompt.as_deref(), Some("}}{{"));
}

#[test]
fn vars_are_filled_once() {
    let text =
        "title = \"{{a}}|{{b}}\"\n[vars]\na = \"{{b}}\"\nb = \"B\"\n[[task]]\ntitle = \"t\"\n";
    assert_eq!(ok(text, NO_VARS).spec.title, "{{b}}|B");
}

#[test]
fn vars_fill_every_string_field() {
    let text = r#"title = "g"
[vars]
agent = "codex"
wait = "10m"
mode = "escalate"
[[task]]
title = "a"
agent = "{{agent}}"
timeout = "{{wait}}"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
timeout = "{{wait}}"
on_timeout = "{{mode}}"
"#;
    let g = ok(text, NO_VARS);
    assert_eq!(g.children[0].spec.agent.as_deref(), Some("codex"));
    assert_eq!(g.children[0].spec.timeout, Some(600));
    assert_eq!(g.children[1].spec.on_timeout, OnTimeout::Escalate);
}

#[test]
fn an_empty_signal_repo_means_from_origin() {
    let text = "title = \"g\"\n[vars]\nrepo = \"\"\n[[task]]\ntitle = \"ci\"\nkind = \"signal\"\ngate = \"gh_ci\"\nrepo = \"{{repo}}\"\npr = 3\n";
    assert_eq!(ok(text, NO_VARS).children[0].spec.repo, None);
    assert_eq!(
        ok(text, &[("repo", "o/n")]).children[0]
            .spec
            .repo
            .as_deref(),
        Some("o/n")
    );
}

#[test]
fn durations_become_seconds() {
    let g = ok(
        r#"title = "g"
[[task]]
title = "a"
timeout = "45m"
[[task]]
title = "b"
timeout = "1h 30m"
[[task]]
title = "look"
kind = "human_review"
timeout = "2days"
on_timeout = "pass"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
timeout = "2h"
poll = "exit 2"
poll_every = "30s"
"#,
        NO_VARS,
    );
    let secs: Vec<Option<u64>> = g.children.iter().map(|t| t.spec.timeout).collect();
    assert_eq!(secs, [Some(2700), Some(5400), Some(172_800), Some(7200)]);
    assert_eq!(g.children[2].spec.on_timeout, OnTimeout::Pass);
    assert_eq!(g.children[3].spec.poll_every, Some(30));
}

#[test]
fn a_pr_url_from_a_result_is_kept_for_the_gate_to_fill() {
    let g = ok(
        r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr_url = "{result.pr_url}"
poll = "gh pr checks {result.pr_url}"
"#,
        NO_VARS,
    );
    let ci = &g.children[0].spec;
    assert_eq!(
        (
            ci.pr_url.as_deref(),
            ci.pr,
            ci.repo.as_deref(),
            ci.poll.as_deref()
        ),
        (
            Some("{result.pr_url}"),
            None,
            None,
            Some("gh pr checks {result.pr_url}")
        )
    );
}

#[test]
fn pr_url_gives_repo_and_pr() {
    let g = ok(
        r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr_url = "https://github.com/Owner/Name/pull/42"
[[task]]
title = "agreeing"
kind = "signal"
gate = "gh_review"
repo = "owner/name"
pr = "42"
pr_url = "https://github.com/Owner/Name/pull/42/files"
"#,
        NO_VARS,
    );
    let ci = &g.children[0].spec;
    assert_eq!((ci.repo.as_deref(), ci.pr), (Some("Owner/Name"), Some(42)));
    assert_eq!(
        ci.pr_url.as_deref(),
        Some("https://github.com/Owner/Name/pull/42")
    );
    let agreeing = &g.children[1].spec;
    assert_eq!(
        (agreeing.gate.as_deref(), agreeing.pr),
        (Some("gh_review"), Some(42))
    );
    assert!(agreeing
        .repo
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("owner/name")));
}

#[test]
fn pr_as_number_or_digits() {
    let text = "title = \"g\"\n[[task]]\ntitle = \"a\"\nkind = \"signal\"\ngate = \"g\"\npr = 9\n[[task]]\ntitle = \"b\"\nkind = \"signal\"\ngate = \"g\"\npr = \" 10 \"\n";
    let g = ok(text, NO_VARS);
    assert_eq!(
        (g.children[0].spec.pr, g.children[1].spec.pr),
        (Some(9), Some(10))
    );
}

#[test]
fn fields_of_each_kind_are_kept() {
    let g = ok(
        r#"title = "g"
priority = 3
parallel = true
spawn_fallback = "pinned"
max_agents = 2
spawns_per_minute = 30
[[task]]
key = "fix"
title = "fix"
priority = 5
prompt = "do it"
review = true
plan = true
retries = 2
[[task]]
key = "ci"
title = "ci"
kind = "signal"
gate = "gh_ci"
retries = 1
after = ["fix"]
[[task]]
title = "look"
kind = "human_review"
prompt = "check the diff"
after = ["fix", "ci"]
"#,
        NO_VARS,
    );
    assert_eq!((g.spec.priority, g.spec.parallel), (3, true));
    let settings = g.spec.goal.as_ref().expect("goal settings");
    assert_eq!(
        (
            settings.spawn_fallback,
            settings.max_agents,
            settings.spawns_per_minute
        ),
        (SpawnFallback::Pinned, Some(2), Some(30))
    );
    let fix = &g.children[0].spec;
    assert_eq!(
        (
            fix.key.as_deref(),
            fix.priority,
            fix.review,
            fix.plan,
            fix.retries
        ),
        (Some("fix"), 5, true, true, 2)
    );
    assert_eq!(g.children[1].after, ["fix"]);
    assert_eq!(g.children[1].spec.retries, 1);
    assert_eq!(g.children[2].after, ["fix", "ci"]);
    assert_eq!(g.children[2].spec.prompt.as_deref(), Some("check the diff"));
}

#[test]
fn valid_dependencies_are_accepted() {
    // after an earlier sibling (redundant with order), a group, a task in another branch,
    // and a later task in a parallel goal: none of these deadlock.
    ok(
        r#"title = "g"
[[task]]
key = "a"
title = "a"
[[task]]
title = "b"
after = ["a"]
[[task]]
key = "group"
title = "group"
parallel = true
  [[task.task]]
  key = "g1"
  title = "g1"
  after = ["g2"]
  [[task.task]]
  key = "g2"
  title = "g2"
[[task]]
title = "c"
after = ["group", "g1"]
"#,
        NO_VARS,
    );
}

#[test]
fn relative_repo_is_resolved_against_the_file_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("checkout")).expect("mkdir");
    let canonical = dir.path().canonicalize().expect("canonical");
    // The repo a valid goal text gets, parsed as `g.toml` in `dir`.
    let repo_of = |text: &str| {
        parse_str(text, "g.toml", dir.path(), &BTreeMap::new())
            .expect("valid")
            .spec
            .goal
            .map(|s| s.repo)
    };
    assert_eq!(
        repo_of("title = \"g\"\nrepo = \"checkout\"\n[[task]]\ntitle = \"a\"\n"),
        Some(canonical.join("checkout"))
    );

    assert_eq!(
        repo_of("title = \"g\"\n[[task]]\ntitle = \"a\"\n"),
        Some(canonical.clone())
    );

    let repo =
        repo_of("title = \"g\"\nrepo = \"nowhere\"\n[[task]]\ntitle = \"a\"\n").unwrap_or_default();
    assert!(repo.is_absolute() && repo.ends_with("nowhere"), "{repo:?}");
}

#[test]
fn load_file_reads_relative_to_the_file_and_records_its_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("repo")).expect("mkdir");
    let path = dir.path().join("g.toml");
    std::fs::write(
        &path,
        "title = \"PR {{pr}}\"\nrepo = \"repo\"\n[vars]\npr = {}\n[[task]]\ntitle = \"a\"\n",
    )
    .expect("write");
    let g = load_file(&path, &vars(&[("pr", "5")])).expect("valid");
    let settings = g.spec.goal.expect("goal settings");
    assert_eq!(
        settings.repo,
        dir.path().canonicalize().expect("canonical").join("repo")
    );
    assert_eq!(settings.source.as_deref(), Some(path.as_path()));
    assert_eq!(g.spec.title, "PR 5");

    let e = load_file(&path, &BTreeMap::new()).unwrap_err();
    let e = e.first();
    assert_eq!(
        (e.file.as_str(), e.line, e.col),
        (path.to_str().unwrap_or(""), 4, 6)
    );

    let e = load_file(&dir.path().join("absent.toml"), &BTreeMap::new()).unwrap_err();
    assert!(e.message().contains("cannot read the goal file"), "{e}");
}

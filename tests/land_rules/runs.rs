//! When a land task runs, what it lands, and its outcome.

use super::*;

const PARALLEL_THEN_LAND: &str = r#"
title = "g"
[[task]]
key = "plan"
title = "Plan"
command = ["true"]
[[task]]
title = "Build"
parallel = true
  [[task.task]]
  title = "A"
  command = ["true"]
  [[task.task]]
  title = "B"
  command = ["true"]
  [[task.task]]
  title = "Docs"
  command = ["true"]
  worktree = false
[[task]]
title = "Ship"
kind = "land"
"#;

#[test]
fn a_land_task_runs_when_its_dependencies_are_done_and_lands_every_agent_branch_in_tree_order() {
    let mut s = Sim::new();
    s.add(PARALLEL_THEN_LAND);
    // 1 goal, 2 Plan, 3 Build, 4 A, 5 B, 6 Docs, 7 Ship
    assert_eq!(s.t(7).kind, Kind::Land);
    s.run_agent(2, 0);
    s.run_agent(5, 0);
    s.run_agent(4, 0);
    assert_eq!(s.st(7), Status::Pending, "Docs is not done yet");
    assert!(s.land_job().is_none());
    s.run_agent(6, 0);
    let job = s
        .land_job()
        .expect("a land job once everything before it is done");
    assert_eq!(s.st(7), Status::Active);
    assert_eq!(s.t(7).reason, "landing 3 branch(es) on main");
    let branches: Vec<(TaskId, &str)> = job
        .branches
        .iter()
        .map(|b| (b.task, b.branch.as_str()))
        .collect();
    // Tree order, not finishing order; Docs worked in the repository itself (no branch).
    assert_eq!(
        branches,
        vec![
            (2, "taskboard/b/2"),
            (4, "taskboard/b/4"),
            (5, "taskboard/b/5")
        ]
    );
    assert_eq!(
        job.into.as_deref(),
        Some("main"),
        "the goal's recorded branch"
    );
    assert_eq!(job.strategy, LandStrategy::Merge);
    assert_eq!(job.repo, Path::new("/repo"));
    assert!(job.pr.is_none());
    assert_eq!(job.attempt, s.t(7).attempt);
}

#[test]
fn the_outcome_finishes_or_blocks_and_retry_lands_again() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Ship\"\nkind = \"land\"\ninto = \"release\"\nstrategy = \"squash\"\n[[task]]\ntitle = \"After\"\nprompt = \"landed {result.commit} on {result.into}\"\ncommand = [\"true\"]\n");
    s.run_agent(2, 0);
    let job = s.land_job().expect("job");
    assert_eq!(
        (job.into.as_deref(), job.strategy),
        (Some("release"), LandStrategy::Squash)
    );
    // A conflict: blocked with the job's reason, in the inbox; what follows waits.
    s.landed(
        3,
        Err("merging taskboard/b/2 (#2) into release conflicts in a.rs: resolve it".into()),
    );
    assert_eq!(s.st(3), Status::Blocked);
    assert!(s.t(3).reason.contains("conflicts in a.rs"));
    assert!(s
        .t(3)
        .attention
        .as_deref()
        .is_some_and(|a| a.starts_with("blocked:")));
    assert_eq!(s.st(4), Status::Pending);
    assert!(
        s.t(4).reason.contains("waiting on #3 (blocked)"),
        "{}",
        s.t(4).reason
    );
    // R: a fresh attempt, a new job; the old attempt's late answer changes nothing.
    let old = s.t(3).attempt;
    s.cmd(Command::Retry { task: 3 }).expect("retry");
    let job = s.land_job().expect("a new job on retry");
    assert_eq!(job.attempt, old + 1);
    s.ev(Event::Landed {
        task: 3,
        attempt: old,
        outcome: Ok(json!({"commit": "stale"})),
    });
    assert_eq!(s.st(3), Status::Active, "a stale outcome is ignored");
    assert!(s.audit.contains(&"stale_land".to_string()));
    s.landed(
        3,
        Ok(json!({"commit": "abc123", "into": "release", "merged": ["taskboard/b/2"]})),
    );
    assert_eq!(s.st(3), Status::Done);
    assert_eq!(s.t(3).result.as_ref().unwrap()["commit"], "abc123");
    // {result.commit} reaches the next prompt.
    let spawn =
        s.fx.iter()
            .find_map(|e| match e {
                Effect::Spawn(sp) if sp.task == 4 => Some(sp.prompt.clone()),
                _ => None,
            })
            .expect("After spawned");
    assert_eq!(spawn, "landed abc123 on release");
}

#[test]
fn nothing_to_land_is_done_at_once_and_pause_holds_landing() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\nworktree = false\n[[task]]\ntitle = \"Ship\"\nkind = \"land\"\n");
    s.run_agent(2, 0);
    assert!(s.land_job().is_none());
    assert_eq!(s.st(3), Status::Done, "no branch to land");
    assert_eq!(s.t(3).result.as_ref().unwrap()["merged"], json!([]));

    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Ship\"\nkind = \"land\"\n");
    s.cmd(Command::Pause).expect("pause");
    s.run_agent(2, 0);
    assert!(s.land_job().is_none(), "paused: no landing starts");
    assert_eq!(
        (s.st(3), s.t(3).reason.as_str()),
        (Status::Pending, "paused")
    );
    s.cmd(Command::Resume).expect("resume");
    assert!(s.land_job().is_some());
}

#[test]
fn tasks_names_what_lands_and_is_waited_for() {
    let mut s = Sim::new();
    s.add(
        r#"
title = "g"
parallel = true
[[task]]
key = "a"
title = "A"
command = ["true"]
[[task]]
key = "b"
title = "B"
command = ["true"]
[[task]]
title = "Land A"
kind = "land"
tasks = ["a"]
"#,
    );
    // Parallel goal: the land task waits for "a" only, and lands only its branch.
    assert_eq!(s.t(4).after, vec![2]);
    assert_eq!(s.t(4).spec.land.as_ref().unwrap().task_ids, vec![2]);
    s.run_agent(3, 0);
    assert!(s.land_job().is_none());
    s.run_agent(2, 0);
    let job = s.land_job().expect("job");
    assert_eq!(
        job.branches.iter().map(|b| b.task).collect::<Vec<_>>(),
        vec![2]
    );
}

#[test]
fn a_pr_land_task_carries_the_remote_and_the_command() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Propose\"\nkind = \"land\"\npr = true\n[[task]]\ntitle = \"Propose elsewhere\"\nkind = \"land\"\npr = true\nremote = \"upstream\"\npr_command = [\"hub\", \"pull-request\", \"-h\", \"{branch}\"]\n");
    s.run_agent(2, 0);
    let job = s.land_job().expect("job");
    let pr = job.pr.expect("a PR job");
    assert_eq!(pr.remote, "origin");
    assert_eq!(
        pr.command,
        vec!["gh", "pr", "create", "--fill", "--head", "{branch}", "--base", "{into}"]
    );
    assert_eq!(s.t(3).reason, "proposing 1 branch(es) for main");
    s.landed(3, Ok(json!({"commit": "c", "into": "main", "pr_url": "https://github.com/o/r/pull/7", "pr": 7})));
    let pr = s.land_job().expect("the second land task").pr.expect("pr");
    assert_eq!(pr.remote, "upstream");
    assert_eq!(pr.command[0], "hub");
}

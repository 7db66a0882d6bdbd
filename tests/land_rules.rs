//! The pure board's rules for `land` tasks, conflicts and results feeding gates, in the
//! style of `board_rules.rs`: events in, effects and task states out. No processes, clocks,
//! disks or git: the land job's outcome and the watcher's findings are events.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use taskboard::board::{Board, Effect, Event, LandJob, Limits};
use taskboard::command::{Command, CommandError, SignalStatus};
use taskboard::model::{Conflict, Kind, LandStrategy, Status, TaskId, WorkDir};
use taskboard::signal_match::SignalTarget;

type Reply = Result<Value, CommandError>;

const T0: i64 = 1_700_000_000_000;

struct Sim {
    b: Board,
    now: i64,
    fx: Vec<Effect>,
    audit: Vec<String>,
    conflicts_changed: Vec<TaskId>,
}

impl Sim {
    fn new() -> Sim {
        Sim {
            b: Board::new(
                Limits {
                    max_agents: 8,
                    spawns_per_minute: 100,
                },
                uuid::Uuid::nil(),
            ),
            now: T0,
            fx: Vec::new(),
            audit: Vec::new(),
            conflicts_changed: Vec::new(),
        }
    }

    fn ev(&mut self, e: Event) -> Option<Reply> {
        self.now += 1000;
        let h = self.b.handle(e, self.now);
        let ch = self.b.take_changes();
        self.audit.extend(ch.audit.into_iter().map(|a| a.kind));
        self.conflicts_changed.extend(ch.conflicts);
        self.fx = h.effects;
        h.reply
    }

    fn cmd(&mut self, cmd: Command) -> Reply {
        self.ev(Event::Command {
            cmd,
            who: "cli".into(),
        })
        .expect("a reply")
    }

    /// Adds a goal (repo /repo, recorded branch `main`).
    fn add(&mut self, toml: &str) -> TaskId {
        let mut goal =
            taskboard::goalfile::parse_str(toml, "test.toml", Path::new("/repo"), &BTreeMap::new())
                .expect("goal parses");
        if let Some(g) = goal.spec.goal.as_mut() {
            g.branch = Some("main".into());
        }
        let v = self
            .cmd(Command::AddGoal {
                goal: Box::new(goal),
            })
            .expect("added");
        v["id"].as_u64().expect("id")
    }

    fn t(&self, id: TaskId) -> &taskboard::model::Task {
        self.b.task(id).expect("task")
    }

    fn st(&self, id: TaskId) -> Status {
        self.t(id).status
    }

    /// The agent's attempt started (in a worktree on `taskboard/b/<id>` unless the task
    /// has `worktree = false`), then exits with `code`.
    fn run_agent(&mut self, id: TaskId, code: i32) {
        let attempt = self.t(id).attempt;
        let workdir = self.t(id).spec.worktree.then(|| WorkDir {
            path: format!("/data/worktrees/1-{id}").into(),
            branch: format!("taskboard/b/{id}"),
            base: "base".into(),
        });
        self.ev(Event::Spawned {
            task: id,
            attempt,
            pid: 100 + id as u32,
            workdir,
        });
        self.ev(Event::Exited {
            task: id,
            attempt,
            code,
            signal: None,
            tail: String::new(),
        });
    }

    fn land_job(&self) -> Option<LandJob> {
        self.fx.iter().find_map(|e| match e {
            Effect::Land(j) => Some(j.clone()),
            _ => None,
        })
    }

    fn landed(&mut self, id: TaskId, outcome: Result<Value, String>) {
        let attempt = self.t(id).attempt;
        self.ev(Event::Landed {
            task: id,
            attempt,
            outcome,
        });
    }
}

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

#[test]
fn a_gate_waits_on_the_pr_from_results_and_resolve_by_that_url_passes_it() {
    let mut s = Sim::new();
    s.add(
        r#"
title = "g"
[[task]]
title = "A"
command = ["true"]
[[task]]
title = "Propose"
kind = "land"
pr = true
[[task]]
title = "CI"
kind = "signal"
gate = "gh_ci"
pr_url = "{result.pr_url}"
"#,
    );
    assert_eq!(s.t(4).spec.pr, None, "not known before the PR exists");
    s.run_agent(2, 0);
    s.landed(
        3,
        Ok(json!({"commit": "c", "into": "main", "pr_url": "https://git.example/acme/app/pull/17", "pr": 17})),
    );
    assert_eq!(s.st(4), Status::Active);
    assert_eq!(s.t(4).reason, "waiting on gh_ci #17");
    assert_eq!(s.t(4).spec.repo.as_deref(), Some("acme/app"));
    let target = SignalTarget::new(
        "gh_ci",
        None,
        None,
        Some("https://git.example/acme/app/pull/17"),
    )
    .unwrap();
    let v = s
        .cmd(Command::ResolveSignals {
            target,
            status: SignalStatus::Pass,
            payload: json!({}),
        })
        .expect("resolve");
    assert_eq!(v["matched"], json!([4]));
    assert_eq!(s.st(4), Status::Done);
}

#[test]
fn a_gate_whose_result_is_missing_or_not_a_pr_blocks_with_why() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npr_url = \"{result.pr_url}\"\n");
    s.run_agent(2, 0);
    assert_eq!(s.st(3), Status::Blocked);
    assert!(
        s.t(3)
            .reason
            .contains("no finished task of this goal has `pr_url`"),
        "{}",
        s.t(3).reason
    );
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npr_url = \"{result.url}\"\npoll = \"check {result.url}\"\n");
    let attempt = s.t(2).attempt;
    s.ev(Event::Spawned {
        task: 2,
        attempt,
        pid: 5,
        workdir: None,
    });
    s.cmd(Command::Complete {
        task: 2,
        summary: "s".into(),
        review: false,
        artifacts: json!({"url": "not a url"}).as_object().cloned().unwrap(),
    })
    .expect("complete");
    assert_eq!(s.st(3), Status::Blocked);
    assert!(
        s.t(3).reason.contains("is not a pull request URL"),
        "{}",
        s.t(3).reason
    );
}

#[test]
fn a_poll_command_is_filled_from_results() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Propose\"\nkind = \"land\"\npr = true\n[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npoll = \"gh pr checks {result.pr}\"\n");
    s.run_agent(2, 0);
    s.landed(
        3,
        Ok(json!({"commit": "c", "pr_url": "https://h/o/r/pull/9", "pr": 9})),
    );
    assert_eq!(s.st(4), Status::Active, "the gate armed");
    s.ev(Event::Tick);
    let cmd =
        s.fx.iter()
            .find_map(|e| match e {
                Effect::RunPoll { command, .. } => Some(command.clone()),
                _ => None,
            })
            .expect("the poll runs when the gate arms");
    assert_eq!(cmd, "gh pr checks 9");
}

#[test]
fn land_on_demand_adds_a_land_task_that_runs_at_once() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Review\"\nkind = \"human_review\"\n[[task]]\ntitle = \"B\"\ncommand = [\"true\"]\n");
    s.run_agent(2, 0);
    assert_eq!(s.st(3), Status::PendingReview);
    // B (#4) is pending, so the goal is not done: an on-demand land still runs now.
    let v = s
        .cmd(Command::Land {
            task: 2,
            into: Some("release".into()),
            strategy: Some(LandStrategy::Ff),
            pr: false,
        })
        .expect("land");
    let id = v["id"].as_u64().expect("the land task's id");
    assert_eq!(v["into"], "release");
    let t = s.t(id);
    assert_eq!(
        (t.kind, t.parent, t.after.clone()),
        (Kind::Land, Some(1), vec![2])
    );
    assert_eq!(t.spec.title, "Land #2 A");
    let job = s.land_job().expect("runs at once, not after B");
    assert_eq!(job.task, id);
    assert_eq!(job.branches.len(), 1);
    assert_eq!(
        (job.into.as_deref(), job.strategy),
        (Some("release"), LandStrategy::Ff)
    );
    assert!(s.audit.contains(&"land".to_string()));
    // Defaults: the goal's branch, merge.
    let v = s
        .cmd(Command::Land {
            task: 1,
            into: None,
            strategy: None,
            pr: true,
        })
        .unwrap_err();
    assert!(
        matches!(v, CommandError::Conflict { .. }),
        "the goal is not done: {v:?}"
    );
}

#[test]
fn land_on_demand_refuses_what_cannot_land() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Plain\"\ncommand = [\"true\"]\nworktree = false\n[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"x\"\n");
    let land = |s: &mut Sim, task| {
        s.cmd(Command::Land {
            task,
            into: None,
            strategy: None,
            pr: false,
        })
    };
    let msg = |r: Reply| match r {
        Err(CommandError::Conflict { message, .. }) => message,
        other => panic!("expected a conflict, got {other:?}"),
    };
    let before = s.b.tasks().count();
    assert!(msg(land(&mut s, 2)).contains("it lands once it is done"));
    s.run_agent(2, 0);
    s.run_agent(3, 0);
    assert!(msg(land(&mut s, 3)).contains("no finished agent work on a branch"));
    assert!(msg(land(&mut s, 4)).contains("land an agent task or a group"));
    assert!(matches!(
        land(&mut s, 99),
        Err(CommandError::NotFound { id: 99 })
    ));
    assert_eq!(s.b.tasks().count(), before, "refusals add nothing");
    assert!(land(&mut s, 2).is_ok());
}

#[test]
fn conflicts_found_by_the_watcher_are_stored_and_cleared() {
    let mut s = Sim::new();
    s.add("title = \"g\"\nparallel = true\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"B\"\ncommand = [\"true\"]\n");
    let c = |task: Option<TaskId>, branch: &str| Conflict {
        task,
        branch: branch.into(),
        files: vec!["src/api.rs".into()],
    };
    s.ev(Event::ConflictsChecked {
        goal: 1,
        found: vec![
            (2, vec![c(Some(3), "taskboard/b/3"), c(None, "main")]),
            (3, vec![c(Some(2), "taskboard/b/2")]),
        ],
    });
    assert_eq!(s.t(2).conflicts.len(), 2);
    assert_eq!(s.t(3).conflicts[0].line(), "conflicts with #2: src/api.rs");
    assert_eq!(
        s.t(2).conflicts[1].line(),
        "conflicts with main: src/api.rs"
    );
    assert_eq!(s.conflicts_changed, vec![2, 3]);
    assert_eq!(s.audit.iter().filter(|k| *k == "conflicts").count(), 2);
    // The same finding again changes nothing; a later one without B clears B only.
    s.conflicts_changed.clear();
    s.ev(Event::ConflictsChecked {
        goal: 1,
        found: vec![
            (2, vec![c(Some(3), "taskboard/b/3"), c(None, "main")]),
            (3, vec![c(Some(2), "taskboard/b/2")]),
        ],
    });
    assert!(s.conflicts_changed.is_empty());
    s.ev(Event::ConflictsChecked {
        goal: 1,
        found: vec![(2, vec![c(None, "main")])],
    });
    assert!(s.t(3).conflicts.is_empty());
    assert_eq!(s.t(2).conflicts.len(), 1);
    assert_eq!(s.conflicts_changed, vec![2, 3]);
    // Findings for a goal that is gone are ignored.
    s.ev(Event::ConflictsChecked {
        goal: 42,
        found: vec![(42, vec![c(None, "main")])],
    });
}

#[test]
fn the_watch_list_has_live_agent_branches_and_the_target() {
    let mut s = Sim::new();
    s.add("title = \"g\"\nparallel = true\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"B\"\ncommand = [\"true\"]\nretries = 0\n[[task]]\ntitle = \"C\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Ship\"\nkind = \"land\"\ninto = \"release\"\nafter = [] \n");
    assert!(s.b.watch_list().is_empty(), "no branches yet");
    let attempt = s.t(2).attempt;
    s.ev(Event::Spawned {
        task: 2,
        attempt,
        pid: 1,
        workdir: Some(WorkDir {
            path: "/w/2".into(),
            branch: "taskboard/b/2".into(),
            base: "x".into(),
        }),
    });
    s.run_agent(3, 1);
    assert_eq!(s.st(3), Status::Failed);
    let list = s.b.watch_list();
    assert_eq!(list.len(), 1);
    let w = &list[0];
    assert_eq!((w.goal, w.target.as_deref()), (1, Some("release")));
    assert_eq!(w.repo, Path::new("/repo"));
    // A runs (active), B failed (left out), C has no branch yet.
    assert_eq!(w.tasks, vec![(2, "taskboard/b/2".to_string())]);
    // A finished goal is not watched.
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n");
    s.run_agent(2, 0);
    assert_eq!(s.st(1), Status::Done);
    assert!(s.b.watch_list().is_empty());
}

#[test]
fn an_interrupted_landing_starts_again_after_a_restart() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Ship\"\nkind = \"land\"\n");
    s.run_agent(2, 0);
    assert_eq!(s.st(3), Status::Active);
    let tasks: Vec<_> = s.b.tasks().cloned().collect();
    let mut b = Board::new(Limits::default(), uuid::Uuid::nil());
    for t in tasks {
        b.insert_loaded(t);
    }
    b.recover(&|_| false, T0 + 60_000);
    assert_eq!(b.task(3).unwrap().status, Status::Pending);
    assert_eq!(b.task(3).unwrap().reason, "interrupted by restart");
    let h = b.handle(Event::Tick, T0 + 61_000);
    assert!(
        h.effects
            .iter()
            .any(|e| matches!(e, Effect::Land(j) if j.task == 3)),
        "{:?}",
        h.effects
    );
}

//! Land on demand, the conflict watcher's findings, and restart.

use super::*;

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

//! Concurrency and spawn limits.

use super::*;

// ----- concurrency limits -----

#[test]
fn max_agents_holds_ready_tasks_pending_with_the_reason() {
    // (name, global max, goal, started at once, a held task, its reason)
    type Row = (
        &'static str,
        usize,
        &'static str,
        &'static [TaskId],
        TaskId,
        &'static str,
    );
    let rows: &[Row] = &[
        (
            "global limit",
            2,
            PAR3,
            &[2, 3],
            4,
            "waiting for a free agent slot (2 running)",
        ),
        (
            "goal limit",
            4,
            "title='g'\nmax_agents=1\nparallel=true\ntask=[{title='a'},{title='b'}]",
            &[2],
            3,
            "waiting for a free agent slot (1 running)",
        ),
        (
            "goal limit below the global one",
            3,
            "title='g'\nmax_agents=2\nparallel=true\ntask=[{title='a'},{title='b'},{title='c'}]",
            &[2, 3],
            4,
            "waiting for a free agent slot (2 running)",
        ),
    ];
    for (name, max, toml, started, held, reason) in rows {
        let mut s = Sim::limits(*max, 60);
        s.add(toml);
        assert_eq!(s.spawns(), *started, "{name}");
        assert_eq!(
            (s.st(*held), s.why(*held).as_str()),
            (Status::Pending, *reason),
            "{name}"
        );
        s.exit(started[0], 0, "");
        assert_eq!(s.spawns(), [*held], "{name}: a slot freed up");
        assert_eq!(s.why(*held), "", "{name}: the reason goes once it runs");
    }
}

#[test]
fn max_agents_is_shared_by_all_goals() {
    let mut s = Sim::limits(1, 60);
    s.add(SEQ2);
    s.add(SEQ2);
    assert!(s.spawns().is_empty(), "the second goal starts nothing");
    assert_eq!(
        (s.st(2), s.why(5).as_str()),
        (Status::Active, "waiting for a free agent slot (1 running)")
    );
    s.exit(2, 0, "");
    assert_eq!(s.spawns().len(), 1, "still one at a time: {:?}", s.spawns());
}

#[test]
fn a_retrying_task_keeps_its_slot() {
    let mut s = Sim::limits(1, 60);
    s.add("title='g'\nparallel=true\ntask=[{title='a',retries=1},{title='b',priority=9}]");
    assert_eq!(s.spawns(), [3], "priority first");
    s.exit(3, 0, "");
    assert_eq!(s.spawns(), [2]);
    s.exit(2, 1, "");
    assert_eq!(s.spawns(), [2], "the retry starts in the slot it held");
}

#[test]
fn a_rework_waits_for_a_free_slot_too() {
    let mut s = Sim::limits(1, 60);
    s.add("title='g'\ntask=[{title='fix'},{title='r',kind='human_review'}]");
    s.add("title='h'\ntask=[{title='other'}]");
    s.exit(2, 0, "");
    assert_eq!(s.spawns(), [5], "the other goal takes the slot");
    s.decide(3, Decision::RequestChanges, "again")
        .expect("request changes");
    assert!(s.spawns().is_empty(), "max_agents 1 is already running");
    assert_eq!(s.st(2), Status::Active);
    s.exit(5, 0, "");
    assert_eq!(s.spawns(), [2], "the rework starts when the slot frees up");
}

#[test]
fn spawns_per_minute_holds_the_rest_until_the_window_moves() {
    let mut s = Sim::limits(10, 5);
    s.add("title='g'\nparallel=true\ntask=[{title='a'},{title='b'},{title='c'},{title='d'},{title='e'},{title='f'},{title='h'}]");
    assert_eq!(s.spawns(), [2, 3, 4, 5, 6]);
    for id in [7, 8] {
        assert_eq!(
            (s.st(id), s.why(id).as_str()),
            (Status::Pending, "spawn limit: 5/min")
        );
    }
    assert_eq!(s.b.next_wakeup(), Some(T0 + 60_000));
    assert_eq!(
        s.b.goal_stats(1).live,
        7,
        "tasks held by the limit are still live"
    );
    s.tick(59);
    assert!(s.spawns().is_empty(), "not before 60 s");
    s.tick(60);
    assert_eq!(s.spawns(), [7, 8]);
}

#[test]
fn spawn_limits_per_goal() {
    // A goal's own limit.
    let mut s = Sim::limits(10, 5);
    s.add(
        "title='g'\nspawns_per_minute=2\nparallel=true\ntask=[{title='a'},{title='b'},{title='c'}]",
    );
    assert_eq!(s.spawns(), [2, 3]);
    assert_eq!(s.why(4), "spawn limit: 2/min");
    // Finished spawns still count in the window.
    let mut s = Sim::limits(10, 2);
    s.add(SEQ3);
    s.exit(2, 0, "");
    s.exit(3, 0, "");
    assert_eq!(
        (s.st(4), s.why(4).as_str()),
        (Status::Pending, "spawn limit: 2/min")
    );
    // The window is per goal: another goal has its own.
    let mut s = Sim::limits(10, 3);
    s.add(PAR3);
    s.add(PAR3);
    assert_eq!(s.spawns(), [6, 7, 8]);
    assert_eq!(
        s.b.tasks().filter(|t| t.status == Status::Active).count(),
        8,
        "both goals and their tasks"
    );
}

#[test]
fn a_retry_loop_is_throttled_by_the_spawn_limit() {
    let mut s = Sim::limits(4, 3);
    s.add("title='g'\ntask=[{title='a',retries=10}]");
    s.exit(2, 1, "");
    s.exit(2, 1, "");
    assert_eq!(s.spawns(), [2], "third spawn");
    s.exit(2, 1, "");
    assert!(s.spawns().is_empty(), "no fourth spawn within the minute");
    assert_eq!(s.b.next_wakeup(), Some(T0 + 60_000));
    s.tick(60);
    assert_eq!(s.spawns(), [2]);
}

#[test]
fn a_spawn_failure_blocks_with_the_error_and_never_retries_silently() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',retries=3},{title='b'}]");
    let attempt = s.attempt(2);
    s.ev(Event::SpawnFailed {
        task: 2,
        attempt,
        error: "worktree exists".into(),
    });
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Blocked, "worktree exists")
    );
    assert!(s.spawns().is_empty(), "no retry: {:?}", s.fx);
    assert_eq!(
        s.t(2).attention.as_deref(),
        Some("blocked: worktree exists")
    );
    assert!(
        s.attention
            .contains(&(2, "blocked: worktree exists".into())),
        "announced to the inbox"
    );
    assert_eq!(s.why(3), "waiting on #2 (blocked)");
    s.cmd(Command::Retry { task: 2 }).expect("retry");
    assert_eq!(s.spawns(), [2], "a human retry spawns again");
}

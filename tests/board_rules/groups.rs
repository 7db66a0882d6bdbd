//! Derived group status, order and dependencies, priority.

use super::*;

// ----- derived group status -----

struct GroupCase {
    name: &'static str,
    toml: &'static str,
    setup: fn(&mut Sim),
    group: TaskId,
    status: Status,
    reason: &'static str,
}

#[test]
fn group_status_is_derived_with_its_reason_line() {
    const NESTED: &str =
        "title='g'\ntask=[{title='G',parallel=true,task=[{title='x'},{title='y'}]},{title='z'}]";
    const PAR_A_CI: &str = "title='g'\nparallel=true\ntask=[{title='a'},{title='ci',kind='signal',gate='gh_ci',pr=42}]";
    let cases = [
        GroupCase { name: "one agent running", toml: SEQ2, setup: |_| {}, group: 1, status: Status::Active, reason: "1 running" },
        GroupCase { name: "three running", toml: PAR3, setup: |_| {}, group: 1, status: Status::Active, reason: "3 running" },
        GroupCase {
            name: "failed beats active and pending_review",
            toml: "title='g'\nparallel=true\ntask=[{title='a'},{title='b'},{title='r',kind='human_review'}]",
            setup: |s| s.exit(2, 3, "boom\n"),
            group: 1,
            status: Status::Failed,
            reason: "#2 failed: exit 3: boom",
        },
        GroupCase {
            name: "failed beats blocked",
            toml: PAR3,
            setup: |s| {
                block(s, 3, "no creds");
                s.exit(2, 1, "");
            },
            group: 1,
            status: Status::Failed,
            reason: "#2 failed: exit 1",
        },
        GroupCase { name: "blocked beats active", toml: PAR3, setup: |s| block(s, 2, "no creds"), group: 1, status: Status::Blocked, reason: "blocked: no creds" },
        GroupCase {
            name: "spawn failure blocks the group",
            toml: PAR3,
            setup: |s| {
                let attempt = s.attempt(3);
                s.ev(Event::SpawnFailed { task: 3, attempt, error: "worktree exists".into() });
            },
            group: 1,
            status: Status::Blocked,
            reason: "blocked: worktree exists",
        },
        GroupCase { name: "active beats pending_review", toml: PAR_AR, setup: |_| {}, group: 1, status: Status::Active, reason: "1 needs you" },
        GroupCase { name: "pending_review beats done", toml: PAR_AR, setup: |s| s.exit(2, 0, ""), group: 1, status: Status::PendingReview, reason: "1 needs you" },
        GroupCase {
            name: "two need you",
            toml: "title='g'\nparallel=true\ntask=[{title='r1',kind='human_review'},{title='r2',kind='human_review'}]",
            setup: |_| {},
            group: 1,
            status: Status::PendingReview,
            reason: "2 need you",
        },
        GroupCase {
            name: "done and skipped is done",
            toml: PAR3,
            setup: |s| {
                s.exit(2, 0, "");
                s.cmd(Command::Skip { task: 3 }).expect("skip");
                s.cmd(Command::Skip { task: 4 }).expect("skip");
            },
            group: 1,
            status: Status::Done,
            reason: "",
        },
        GroupCase {
            name: "all skipped is done",
            toml: SEQ2,
            setup: |s| drop(s.cmd(Command::Skip { task: 1 }).expect("skip")),
            group: 1,
            status: Status::Done,
            reason: "",
        },
        GroupCase {
            name: "done and pending is pending",
            toml: SEQ2,
            setup: |s| {
                s.cmd(Command::Pause).expect("pause");
                s.exit(2, 0, "");
            },
            group: 1,
            status: Status::Pending,
            reason: "",
        },
        GroupCase { name: "a waiting gate explains an active group", toml: SEQ_CI, setup: |s| s.exit(2, 0, ""), group: 1, status: Status::Active, reason: "waiting on gh_ci #42" },
        GroupCase {
            name: "a gate without a PR",
            toml: "title='g'\ntask=[{title='d',kind='signal',gate='deploy'}]",
            setup: |_| {},
            group: 1,
            status: Status::Active,
            reason: "waiting on deploy",
        },
        GroupCase { name: "running wins over a waiting gate", toml: PAR_A_CI, setup: |_| {}, group: 1, status: Status::Active, reason: "1 running" },
        GroupCase {
            name: "a pane that rang the bell needs you",
            toml: PAR3,
            setup: |s| drop(s.ev(Event::NeedsYou { task: 2, reason: "bell".into() })),
            group: 1,
            status: Status::Active,
            reason: "1 needs you",
        },
        GroupCase {
            name: "a human_approval gate needs you",
            toml: "title='g'\ntask=[{title='ok',kind='signal',gate='human_approval'}]",
            setup: |_| {},
            group: 1,
            status: Status::Active,
            reason: "1 needs you",
        },
        GroupCase { name: "nested failure names the leaf (goal)", toml: NESTED, setup: |s| s.exit(3, 2, ""), group: 1, status: Status::Failed, reason: "#3 failed: exit 2" },
        GroupCase { name: "nested failure names the leaf (group)", toml: NESTED, setup: |s| s.exit(3, 2, ""), group: 2, status: Status::Failed, reason: "#3 failed: exit 2" },
        GroupCase { name: "nested group counts its own running", toml: NESTED, setup: |_| {}, group: 2, status: Status::Active, reason: "2 running" },
        GroupCase { name: "a nested group not started yet is pending", toml: "title='g'\ntask=[{title='a'},{title='G',task=[{title='x'}]}]", setup: |_| {}, group: 3, status: Status::Pending, reason: "" },
        GroupCase {
            name: "an agent under review needs you",
            toml: "title='g'\ntask=[{title='a',review=true}]",
            setup: |s| s.exit(2, 0, ""),
            group: 1,
            status: Status::PendingReview,
            reason: "1 needs you",
        },
        GroupCase { name: "failure is explained even when a review waits", toml: PAR_AR, setup: |s| s.exit(2, 1, ""), group: 1, status: Status::Failed, reason: "#2 failed: exit 1" },
        GroupCase {
            name: "retry un-fails the group (never stored as truth)",
            toml: PAR3,
            setup: |s| {
                s.exit(2, 1, "");
                s.cmd(Command::Retry { task: 2 }).expect("retry");
            },
            group: 1,
            status: Status::Active,
            reason: "3 running",
        },
    ];
    for c in &cases {
        let mut s = Sim::new();
        s.add(c.toml);
        (c.setup)(&mut s);
        assert_eq!(
            (s.st(c.group), s.why(c.group).as_str()),
            (c.status, c.reason),
            "case: {}",
            c.name
        );
    }
}

#[test]
fn group_with_nothing_started_is_pending() {
    let mut s = Sim::new();
    s.cmd(Command::Pause).expect("pause");
    s.add(PAR3);
    assert_eq!((s.st(1), s.why(1).as_str()), (Status::Pending, ""));
    assert_eq!(s.why(2), "paused");
}

// ----- order and dependencies -----

#[derive(Clone, Copy, Debug)]
enum Step {
    Add,
    Ok(TaskId),
    Fail(TaskId),
    Pass(TaskId),
    Approve(TaskId),
    Skip(TaskId),
    Retry(TaskId),
}

fn step(s: &mut Sim, st: Step) {
    let r = match st {
        Step::Add => return,
        Step::Ok(id) => return s.exit(id, 0, ""),
        Step::Fail(id) => return s.exit(id, 1, "broke"),
        Step::Pass(id) => s.signal(id, pass(), json!({})),
        Step::Approve(id) => s.decide(id, Decision::Approve, ""),
        Step::Skip(id) => s.cmd(Command::Skip { task: id }),
        Step::Retry(id) => s.cmd(Command::Retry { task: id }),
    };
    r.unwrap_or_else(|e| panic!("{st:?}: {e}"));
}

#[test]
fn tasks_start_in_order_and_after_their_dependencies() {
    type Row = (
        &'static str,
        &'static str,
        &'static [(Step, &'static [TaskId])],
    );
    let rows: &[Row] = &[
        ("sequential runs in file order", SEQ3, &[(Step::Add, &[2]), (Step::Ok(2), &[3]), (Step::Ok(3), &[4]), (Step::Ok(4), &[])]),
        ("parallel starts all", PAR3, &[(Step::Add, &[2, 3, 4])]),
        (
            "after holds a parallel task back",
            "title='g'\nparallel=true\ntask=[{title='late',after=['slow']},{title='slow',key='slow'}]",
            &[(Step::Add, &[3]), (Step::Ok(3), &[2])],
        ),
        (
            "after on a group waits for the whole group",
            "title='g'\nparallel=true\ntask=[{title='G',key='g',task=[{title='x'},{title='y'}]},{title='z',after=['g']}]",
            &[(Step::Add, &[3]), (Step::Ok(3), &[4]), (Step::Ok(4), &[5])],
        ),
        (
            "after on a nested task",
            "title='g'\nparallel=true\ntask=[{title='G',task=[{title='x',key='x'},{title='y'}]},{title='z',after=['x']}]",
            &[(Step::Add, &[3]), (Step::Ok(3), &[4, 5])],
        ),
        (
            "after on two tasks waits for both",
            "title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',key='b'},{title='c',after=['a','b']}]",
            &[(Step::Add, &[2, 3]), (Step::Ok(2), &[]), (Step::Ok(3), &[4])],
        ),
        (
            "a skipped dependency lets the dependent run",
            "title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',after=['a']}]",
            &[(Step::Add, &[2]), (Step::Skip(2), &[3])],
        ),
        (
            "a parallel group inside a sequence",
            "title='g'\ntask=[{title='a'},{title='P',parallel=true,task=[{title='x'},{title='y'}]},{title='c'}]",
            &[(Step::Add, &[2]), (Step::Ok(2), &[4, 5]), (Step::Ok(4), &[]), (Step::Ok(5), &[6])],
        ),
        (
            "a sequence inside a parallel goal",
            "title='g'\nparallel=true\ntask=[{title='S',task=[{title='x'},{title='y'}]},{title='z'}]",
            &[(Step::Add, &[3, 5]), (Step::Ok(5), &[]), (Step::Ok(3), &[4])],
        ),
        ("a signal gate holds the next sibling", SEQ_CI, &[(Step::Add, &[2]), (Step::Ok(2), &[]), (Step::Pass(3), &[4])]),
        ("a human gate holds the next sibling", "title='g'\ntask=[{title='a'},{title='r',kind='human_review'},{title='c'}]", &[(Step::Ok(2), &[]), (Step::Approve(3), &[4])]),
        ("an agent under review holds the next sibling", "title='g'\ntask=[{title='a',review=true},{title='b'}]", &[(Step::Ok(2), &[]), (Step::Approve(2), &[3])]),
        ("skipping a running task lets the next one start", SEQ3, &[(Step::Skip(2), &[3])]),
        ("a retried task runs again before its successor", SEQ2, &[(Step::Fail(2), &[]), (Step::Retry(2), &[2]), (Step::Ok(2), &[3])]),
    ];
    for (name, toml, steps) in rows {
        let mut s = Sim::new();
        s.add(toml);
        for (i, (st, want)) in steps.iter().enumerate() {
            step(&mut s, *st);
            assert_eq!(s.spawns(), *want, "{name}: step {i} ({st:?})");
        }
    }
}

#[test]
fn gates_arm_only_when_their_turn_comes() {
    let mut s = Sim::new();
    s.add(SEQ_CI);
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Pending, ""),
        "gate waits for #2"
    );
    let err = s.signal(3, pass(), json!({}));
    assert_eq!(
        conflict(err).1.as_deref(),
        Some("pending"),
        "a gate that is not armed refuses signals"
    );
    s.exit(2, 0, "");
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Active, "waiting on gh_ci #42")
    );
}

// ----- priority -----

/// Starts tasks one at a time (each exits 0 at once) and returns the order they started in.
fn start_order(s: &mut Sim) -> Vec<TaskId> {
    let mut order = Vec::new();
    for _ in 0..20 {
        let started = s.spawns();
        assert!(
            started.len() <= 1,
            "a limit of one let {started:?} start together"
        );
        let Some(&id) = started.first() else { break };
        order.push(id);
        s.exit(id, 0, "");
    }
    order
}

#[test]
fn priority_orders_ready_tasks_when_a_limit_lets_only_some_start() {
    // (name, goal, global max_agents, expected start order)
    let rows: &[(&str, &str, usize, &[TaskId])] = &[
        ("higher first", "title='g'\nparallel=true\ntask=[{title='a'},{title='b',priority=5},{title='c',priority=1}]", 1, &[3, 4, 2]),
        ("equal priority keeps file order", PAR3, 1, &[2, 3, 4]),
        ("negative priorities", "title='g'\nparallel=true\ntask=[{title='a',priority=-1},{title='b'},{title='c',priority=-5}]", 1, &[3, 2, 4]),
        ("ties broken by file order", "title='g'\nparallel=true\ntask=[{title='a',priority=5},{title='b',priority=9},{title='c',priority=9}]", 1, &[3, 4, 2]),
        ("never reorders a sequential group", "title='g'\ntask=[{title='a'},{title='b',priority=9},{title='c',priority=5}]", 1, &[2, 3, 4]),
        (
            "tasks whose after is satisfied at the same moment",
            "title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',after=['a'],priority=1},{title='c',after=['a'],priority=9}]",
            1,
            &[2, 4, 3],
        ),
        (
            "a high priority in a sequence waits its turn",
            "title='g'\nparallel=true\ntask=[{title='S',task=[{title='x'},{title='y',priority=9}]},{title='z',priority=5}]",
            1,
            &[5, 3, 4],
        ),
        ("the goal's own max_agents", "title='g'\nmax_agents=1\nparallel=true\ntask=[{title='a',priority=1},{title='b',priority=3},{title='c',priority=2}]", 4, &[3, 4, 2]),
    ];
    for (name, toml, max, want) in rows {
        let mut s = Sim::limits(*max, 60);
        s.add(toml);
        assert_eq!(start_order(&mut s), *want, "{name}");
    }
}

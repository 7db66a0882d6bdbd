//! Agent exits, and a failure holding back only what depends on it.

use super::*;

// ----- agent exits -----

struct ExitCase {
    name: &'static str,
    task: &'static str,
    /// (code, signal, tail) per attempt, in order.
    exits: &'static [(i32, Option<&'static str>, &'static str)],
    status: Status,
    reason: &'static str,
    spawns: u32,
}

#[test]
fn agent_exits_decide_done_review_retry_or_failed() {
    let cases = [
        ExitCase {
            name: "exit 0 is done",
            task: "",
            exits: &[(0, None, "ok")],
            status: Status::Done,
            reason: "",
            spawns: 1,
        },
        ExitCase {
            name: "review waits for a human",
            task: ",review=true",
            exits: &[(0, None, "")],
            status: Status::PendingReview,
            reason: "waiting for review",
            spawns: 1,
        },
        ExitCase {
            name: "non-zero fails with the last line",
            task: "",
            exits: &[(3, None, "first\nthe last line\n\n")],
            status: Status::Failed,
            reason: "exit 3: the last line",
            spawns: 1,
        },
        ExitCase {
            name: "non-zero with no output",
            task: "",
            exits: &[(3, None, "")],
            status: Status::Failed,
            reason: "exit 3",
            spawns: 1,
        },
        ExitCase {
            name: "a retry is used",
            task: ",retries=1",
            exits: &[(3, None, "")],
            status: Status::Active,
            reason: "retry 1/1: exit 3",
            spawns: 2,
        },
        ExitCase {
            name: "retry reason carries the last line",
            task: ",retries=2",
            exits: &[(3, None, "oops")],
            status: Status::Active,
            reason: "retry 1/2: exit 3: oops",
            spawns: 2,
        },
        ExitCase {
            name: "second retry",
            task: ",retries=3",
            exits: &[(2, None, ""), (2, None, "")],
            status: Status::Active,
            reason: "retry 2/3: exit 2",
            spawns: 3,
        },
        ExitCase {
            name: "retries run out",
            task: ",retries=1",
            exits: &[(3, None, ""), (3, None, "still broken")],
            status: Status::Failed,
            reason: "exit 3: still broken",
            spawns: 2,
        },
        ExitCase {
            name: "a retry that succeeds",
            task: ",retries=2",
            exits: &[(1, None, ""), (0, None, "")],
            status: Status::Done,
            reason: "",
            spawns: 2,
        },
        ExitCase {
            name: "a retry that succeeds into review",
            task: ",retries=1,review=true",
            exits: &[(1, None, ""), (0, None, "")],
            status: Status::PendingReview,
            reason: "waiting for review",
            spawns: 2,
        },
        ExitCase {
            name: "killed by a signal",
            task: "",
            exits: &[(0, Some("SIGKILL"), "")],
            status: Status::Failed,
            reason: "killed by SIGKILL",
            spawns: 1,
        },
        ExitCase {
            name: "killed by a signal, retried",
            task: ",retries=1",
            exits: &[(0, Some("SIGTERM"), "bye")],
            status: Status::Active,
            reason: "retry 1/1: killed by SIGTERM: bye",
            spawns: 2,
        },
    ];
    for c in &cases {
        let mut s = Sim::new();
        s.add(&format!("title='g'\ntask=[{{title='a'{}}}]", c.task));
        let mut spawns = u32::from(s.spawns() == [2]);
        for (code, signal, tail) in c.exits {
            if s.t(2).proc == Proc::Starting {
                s.started(2);
            }
            let attempt = s.attempt(2);
            s.ev(Event::Exited {
                task: 2,
                attempt,
                code: *code,
                signal: signal.map(String::from),
                tail: tail.to_string(),
            });
            spawns += u32::from(s.spawns() == [2]);
        }
        assert_eq!(
            (s.st(2), s.why(2).as_str()),
            (c.status, c.reason),
            "{}",
            c.name
        );
        assert_eq!(spawns, c.spawns, "{}: spawns", c.name);
    }
}

#[test]
fn a_retry_is_a_fresh_attempt_with_the_same_prompt() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',prompt='do it',retries=1}]");
    let first = s.attempt(2);
    s.exit(2, 1, "");
    assert_eq!(s.attempt(2), first + 1, "the retry is a new attempt");
    assert_eq!(s.prompt(2), "do it");
    assert_eq!(s.t(2).retries_used, 1);
}

// ----- failure holds back only what depends on it -----

#[test]
fn a_failure_holds_back_only_its_dependents() {
    // (name, goals, failing task, [(task, status, reason)] afterwards)
    type Row = (
        &'static str,
        &'static [&'static str],
        TaskId,
        &'static [(TaskId, Status, &'static str)],
    );
    let rows: &[Row] = &[
        ("next sibling waits", &[SEQ3], 2, &[(3, Status::Pending, "waiting on #2 (failed)")]),
        ("every later sibling waits", &[SEQ3], 2, &[(4, Status::Pending, "waiting on #2 (failed)")]),
        (
            "an after dependent waits, an independent sibling goes on",
            &["title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',after=['a']},{title='c'}]"],
            2,
            &[(3, Status::Pending, "waiting on #2 (failed)"), (4, Status::Active, "")],
        ),
        (
            "a failed group holds back its successor",
            &["title='g'\ntask=[{title='G',task=[{title='x'},{title='y'}]},{title='z'}]"],
            3,
            &[(4, Status::Pending, "waiting on #3 (failed)"), (5, Status::Pending, "waiting on #2 (failed)")],
        ),
        ("another goal goes on", &[SEQ2, SEQ2], 2, &[(3, Status::Pending, "waiting on #2 (failed)"), (5, Status::Active, "")]),
        (
            "an independent branch of the same goal goes on",
            &["title='g'\nparallel=true\ntask=[{title='S',task=[{title='x'},{title='y'}]},{title='T',task=[{title='u'},{title='v'}]}]"],
            3,
            &[(4, Status::Pending, "waiting on #3 (failed)"), (6, Status::Active, "")],
        ),
    ];
    for (name, goals, failing, want) in rows {
        let mut s = Sim::new();
        for g in *goals {
            s.add(g);
        }
        s.exit(*failing, 1, "");
        assert_eq!(s.st(*failing), Status::Failed, "{name}");
        for (id, status, reason) in *want {
            assert_eq!(
                (s.st(*id), s.why(*id).as_str()),
                (*status, *reason),
                "{name}: #{id}"
            );
        }
    }
}

#[test]
fn a_blocked_dependency_is_named_as_blocked() {
    let mut s = Sim::new();
    s.add(SEQ2);
    block(&mut s, 2, "needs a token");
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Pending, "waiting on #2 (blocked)")
    );
    assert!(s.spawns().is_empty());
}

#[test]
fn failed_and_live_counts_per_goal() {
    let mut s = Sim::new();
    s.add(SEQ2);
    s.add(SEQ2);
    assert_eq!(s.b.goal_stats(1).live, 1);
    s.exit(2, 1, "");
    let (g1, g2) = (s.b.goal_stats(1), s.b.goal_stats(4));
    assert_eq!(
        (g1.live, g1.failed_or_blocked),
        (0, 1),
        "goal 1 is over and failed"
    );
    assert_eq!((g2.live, g2.failed_or_blocked), (1, 0), "goal 2 still runs");
}

//! Commands: retry, skip, stop, pause, delete, complete, block; not found and conflicts.

use super::*;

// ----- commands: retry, skip, stop, pause, delete, complete, block -----

#[test]
fn retry_gives_a_fresh_attempt_count() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',retries=1}]");
    s.exit(2, 1, "");
    s.exit(2, 1, "");
    assert_eq!(s.st(2), Status::Failed);
    assert_eq!(
        s.cmd(Command::Retry { task: 2 }),
        Ok(json!({"retried": [2]}))
    );
    assert_eq!(
        (s.st(2), s.why(2).as_str(), s.t(2).retries_used),
        (Status::Active, "", 0)
    );
    assert_eq!(s.spawns(), [2]);
    s.exit(2, 1, "");
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Active, "retry 1/1: exit 1"),
        "the retries are there again"
    );
}

#[test]
fn retry_on_a_group_retries_every_failed_or_blocked_descendant() {
    let mut s = Sim::new();
    s.add("title='g'\nparallel=true\ntask=[{title='a'},{title='b'},{title='c'},{title='d'}]");
    s.exit(2, 1, "");
    block(&mut s, 3, "stuck");
    s.exit(4, 0, "");
    assert_eq!(
        s.cmd(Command::Retry { task: 1 }),
        Ok(json!({"retried": [2, 3]}))
    );
    assert_eq!(s.spawns(), [2, 3]);
    assert_eq!(
        (s.st(4), s.st(5)),
        (Status::Done, Status::Active),
        "done and running tasks are left alone"
    );
}

#[test]
fn retry_on_a_failed_gate_re_arms_it_with_its_retries_back() {
    let mut s = Sim::new();
    s.add(&ci_goal(1));
    s.exit(2, 0, "");
    s.signal(3, fail(), json!("a")).expect("fail");
    s.exit(2, 0, "");
    s.signal(3, fail(), json!("b")).expect("fail");
    assert_eq!(s.st(3), Status::Failed);
    s.cmd(Command::Retry { task: 3 }).expect("retry");
    assert_eq!(
        (s.st(3), s.why(3).as_str(), s.t(3).retries_used),
        (Status::Active, "waiting on gh_ci #42", 0)
    );
    assert_eq!(s.t(3).result, None, "the old payload is gone");
}

#[test]
fn skip_lets_dependents_run() {
    // A human skips the task held back by a failure: what depends on it may run.
    let mut s = Sim::new();
    s.add(SEQ3);
    s.exit(2, 1, "");
    assert_eq!(s.why(3), "waiting on #2 (failed)");
    s.cmd(Command::Skip { task: 3 })
        .expect("skip a pending task");
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Skipped, "skipped by cli")
    );
    assert!(
        s.t(3).completed_at.is_some(),
        "terminal statuses set completed_at"
    );
    assert_eq!(s.spawns(), [4], "the task after the skipped one runs");
}

#[test]
fn skip_a_running_task_or_a_group() {
    let mut s = Sim::new();
    s.add(PAR3);
    let attempt = s.attempt(2);
    s.cmd(Command::Skip { task: 2 }).expect("skip");
    assert_eq!(s.kills(), [(2, attempt)], "its session is stopped");
    assert_eq!(s.st(2), Status::Skipped);
    assert_eq!(
        s.cmd(Command::Skip { task: 1 }),
        Ok(json!({"skipped": [3, 4]}))
    );
    assert_eq!((s.st(1), s.kills().len()), (Status::Done, 2));
}

#[test]
fn stop_fails_a_running_agent_with_who_stopped_it() {
    for who in ["tui", "cli", "http:ci-bot"] {
        let mut s = Sim::new();
        s.add(SEQ2);
        s.started(2);
        let attempt = s.attempt(2);
        s.by(who, Command::Stop { task: 2 }).expect("stop");
        assert_eq!(s.kills(), [(2, attempt)], "{who}");
        assert_eq!(
            (s.st(2), s.why(2)),
            (Status::Failed, format!("stopped by {who}"))
        );
        assert_eq!(s.why(3), "waiting on #2 (failed)", "{who}");
    }
}

#[test]
fn stop_on_a_group_stops_every_running_agent() {
    let mut s = Sim::new();
    s.add(PAR3);
    s.exit(4, 0, "");
    assert_eq!(
        s.cmd(Command::Stop { task: 1 }),
        Ok(json!({"stopped": [2, 3]}))
    );
    assert_eq!(
        (s.st(2), s.st(3), s.st(4)),
        (Status::Failed, Status::Failed, Status::Done)
    );
    assert_eq!(s.kills().len(), 2);
}

#[test]
fn pause_stops_new_spawns_but_running_agents_keep_running() {
    let mut s = Sim::new();
    s.add("title='g'\nparallel=true\ntask=[{title='a',retries=1},{title='S',task=[{title='x'},{title='y'}]}]");
    s.cmd(Command::Pause).expect("pause");
    assert!(s.b.paused());
    assert!(s.kills().is_empty(), "nothing is killed");
    s.exit(4, 0, "");
    assert_eq!(
        (s.st(4), s.st(5), s.why(5).as_str()),
        (Status::Done, Status::Pending, "paused"),
        "exits still count, no new spawn"
    );
    s.exit(2, 1, "");
    assert_eq!(
        (s.st(2), s.spawns().len()),
        (Status::Active, 0),
        "a retry waits too"
    );
    s.tick(120);
    assert!(s.spawns().is_empty(), "time does not unpause");
    s.cmd(Command::Resume).expect("resume");
    assert_eq!(s.spawns(), [2, 5]);
    assert_eq!(s.why(5), "");
}

#[test]
fn delete_removes_a_subtree_and_kills_its_sessions() {
    let mut s = Sim::new();
    s.add(SEQ3);
    let attempt = s.attempt(2);
    s.cmd(Command::Delete { task: 2 }).expect("delete");
    assert!(s.b.task(2).is_none());
    assert_eq!(s.kills(), [(2, attempt)]);
    assert_eq!(s.spawns(), [3], "the next task is now first");
    s.cmd(Command::Delete { task: 1 }).expect("delete the goal");
    assert!(s
        .fx
        .iter()
        .any(|e| matches!(e, Effect::RemoveWorktrees { goal: 1, .. })));
    assert!(s.b.goals().is_empty() && s.b.tasks().count() == 0);
}

#[test]
fn deleting_a_dependency_frees_its_dependents() {
    let mut s = Sim::new();
    s.add("title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',after=['a']}]");
    s.exit(2, 1, "");
    assert_eq!(s.why(3), "waiting on #2 (failed)");
    s.cmd(Command::Delete { task: 2 }).expect("delete");
    assert_eq!(s.spawns(), [3]);
}

#[test]
fn complete_finishes_an_agent() {
    struct Row {
        name: &'static str,
        review_in_file: bool,
        review_flag: bool,
        status: Status,
        killed: bool,
    }
    let rows = [
        Row {
            name: "done closes the session (after the grace period)",
            review_in_file: false,
            review_flag: false,
            status: Status::Done,
            killed: true,
        },
        Row {
            name: "complete --review adds a review",
            review_in_file: false,
            review_flag: true,
            status: Status::PendingReview,
            killed: false,
        },
        Row {
            name: "review in the file wins",
            review_in_file: true,
            review_flag: false,
            status: Status::PendingReview,
            killed: false,
        },
    ];
    for r in &rows {
        let mut s = Sim::new();
        s.add(&format!(
            "title='g'\ntask=[{{title='a',review={}}},{{title='b'}}]",
            r.review_in_file
        ));
        s.started(2);
        let attempt = s.attempt(2);
        s.by(
            "http:agent",
            Command::Complete {
                task: 2,
                summary: "fixed".into(),
                review: r.review_flag,
                artifacts: Default::default(),
            },
        )
        .expect("complete");
        assert_eq!(s.st(2), r.status, "{}", r.name);
        assert!(
            s.kills().is_empty(),
            "{}: the agent's call gets its answer before its session is stopped: {:?}",
            r.name,
            s.fx
        );
        assert_eq!(s.t(2).summary.as_deref(), Some("fixed"), "{}", r.name);
        assert_eq!(
            s.spawns() == [3],
            r.status == Status::Done,
            "{}: the next task starts only when done",
            r.name
        );
        let grace = taskboard::board::SESSION_GRACE_MS / 1000;
        s.tick(grace - 1);
        assert!(s.kills().is_empty(), "{}: still in its grace", r.name);
        s.tick(grace);
        assert_eq!(
            s.kills() == [(2, attempt)],
            r.killed,
            "{}: {:?}",
            r.name,
            s.fx
        );
    }
}

#[test]
fn the_exit_after_complete_or_block_changes_nothing() {
    for (name, act) in [("complete", 0), ("complete --review", 1), ("block", 2)] {
        let mut s = Sim::new();
        s.add(SEQ2);
        s.started(2);
        let attempt = s.attempt(2);
        match act {
            0 => drop(s.complete(2, false, json!({})).expect("complete")),
            1 => drop(s.complete(2, true, json!({})).expect("complete")),
            _ => block(&mut s, 2, "cannot"),
        }
        let before = (s.st(2), s.why(2));
        s.ev(Event::Exited {
            task: 2,
            attempt,
            code: 1,
            signal: None,
            tail: "bye".into(),
        });
        assert_eq!((s.st(2), s.why(2)), before, "{name}: the status sticks");
        assert!(
            s.audit.iter().any(|a| a.task == Some(2)
                && ["exited", "stale_exit", "session_ended"].contains(&a.kind.as_str())),
            "{name}: the exit is logged"
        );
    }
}

#[test]
fn block_puts_the_task_in_the_inbox() {
    let mut s = Sim::new();
    s.add(SEQ2);
    s.by(
        "http:agent",
        Command::Block {
            task: 2,
            reason: "need an API key".into(),
        },
    )
    .expect("block");
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Blocked, "need an API key")
    );
    assert_eq!(
        s.t(2).attention.as_deref(),
        Some("blocked: need an API key")
    );
    assert_eq!(
        (s.st(1), s.why(1).as_str()),
        (Status::Blocked, "blocked: need an API key")
    );
}

#[test]
fn retry_of_a_blocked_task_ends_its_old_session() {
    let mut s = Sim::new();
    s.add(SEQ2);
    s.started(2);
    let old = s.attempt(2);
    block(&mut s, 2, "stuck");
    s.cmd(Command::Retry { task: 2 }).expect("retry");
    assert!(
        s.kills().contains(&(2, old)),
        "the blocked session is stopped: {:?}",
        s.fx
    );
    assert_eq!(s.spawns(), [2]);
    assert!(s.attempt(2) > old);
    assert!(s.t(2).attention.is_none(), "out of the inbox");
}

#[test]
fn commands_on_unknown_tasks_are_not_found() {
    let cmds = [
        Command::Signal {
            task: 99,
            status: SignalStatus::Pass,
            payload: Value::Null,
        },
        Command::Decide {
            task: 99,
            decision: Decision::Approve,
            comment: None,
            diff_hash: None,
        },
        Command::Complete {
            task: 99,
            summary: String::new(),
            review: false,
            artifacts: Default::default(),
        },
        Command::Block {
            task: 99,
            reason: "x".into(),
        },
        Command::Artifact {
            task: 99,
            key: "k".into(),
            value: json!("v"),
        },
        Command::Retry { task: 99 },
        Command::Skip { task: 99 },
        Command::Stop { task: 99 },
        Command::Delete { task: 99 },
    ];
    for c in cmds {
        let mut s = Sim::new();
        s.add(SEQ2);
        let name = c.name();
        assert_eq!(s.cmd(c), Err(CommandError::NotFound { id: 99 }), "{name}");
    }
}

#[test]
fn commands_in_the_wrong_state_are_conflicts_that_change_nothing() {
    // After the setup: #2 done, #3 running, #4 pending (a sequence).
    let rows: Vec<(Command, &str)> = vec![
        (Command::Retry { task: 2 }, "done"),
        (Command::Retry { task: 3 }, "active"),
        (Command::Skip { task: 2 }, "done"),
        (Command::Stop { task: 4 }, "pending"),
        (Command::Stop { task: 2 }, "done"),
        (
            Command::Complete {
                task: 4,
                summary: "x".into(),
                review: false,
                artifacts: Default::default(),
            },
            "pending",
        ),
        (
            Command::Complete {
                task: 2,
                summary: "x".into(),
                review: false,
                artifacts: Default::default(),
            },
            "done",
        ),
        (
            Command::Block {
                task: 2,
                reason: "x".into(),
            },
            "done",
        ),
        (
            Command::Block {
                task: 4,
                reason: "x".into(),
            },
            "pending",
        ),
        (
            Command::Decide {
                task: 3,
                decision: Decision::Approve,
                comment: None,
                diff_hash: None,
            },
            "active",
        ),
        (
            Command::Signal {
                task: 3,
                status: SignalStatus::Pass,
                payload: Value::Null,
            },
            "active",
        ),
    ];
    for (c, status) in rows {
        let mut s = Sim::new();
        s.add(SEQ3);
        s.exit(2, 0, "");
        let (before, moves) = (snapshot(&s), s.moves.len());
        let name = format!("{c:?}");
        let (_, st) = conflict(s.cmd(c));
        assert_eq!(st.as_deref(), Some(status), "{name}");
        assert_eq!(
            (snapshot(&s), s.moves.len()),
            (before, moves),
            "{name}: nothing changed"
        );
    }
}

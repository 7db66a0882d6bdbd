//! Races: ordered events where the later one must see the earlier one's effect.

use super::*;

// ----- races (all are ordered events; the later one must see the earlier one's effect) -----

#[test]
fn a_stop_while_the_spawn_is_in_flight_kills_the_late_process() {
    let mut s = Sim::new();
    s.add(SEQ2);
    let attempt = s.attempt(2);
    assert_eq!(s.t(2).proc, Proc::Starting);
    s.cmd(Command::Stop { task: 2 }).expect("stop");
    assert_eq!(s.st(2), Status::Failed);
    s.ev(Event::Spawned {
        task: 2,
        attempt,
        pid: 4242,
        workdir: None,
    });
    assert_eq!(s.kills(), [(2, attempt)], "the straggler is killed");
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Failed, "stopped by cli")
    );
    s.ev(Event::Exited {
        task: 2,
        attempt,
        code: 0,
        signal: None,
        tail: String::new(),
    });
    assert_eq!(s.st(2), Status::Failed, "its exit 0 changes nothing");
    assert!(s
        .audit
        .iter()
        .any(|a| a.task == Some(2) && a.kind == "stale_spawn"));
}

#[test]
fn a_spawn_failure_after_a_stop_is_ignored() {
    let mut s = Sim::new();
    s.add(SEQ2);
    let attempt = s.attempt(2);
    s.cmd(Command::Stop { task: 2 }).expect("stop");
    s.ev(Event::SpawnFailed {
        task: 2,
        attempt,
        error: "boom".into(),
    });
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Failed, "stopped by cli")
    );
}

#[test]
fn a_spawn_that_lands_after_delete_is_killed() {
    let mut s = Sim::new();
    s.add(SEQ2);
    let attempt = s.attempt(2);
    s.cmd(Command::Delete { task: 1 }).expect("delete");
    s.ev(Event::Spawned {
        task: 2,
        attempt,
        pid: 7,
        workdir: None,
    });
    assert_eq!(s.kills(), [(2, attempt)]);
}

#[test]
fn an_exit_from_an_old_attempt_after_a_retry_is_ignored() {
    let mut s = Sim::new();
    s.add(SEQ2);
    s.started(2);
    let old = s.attempt(2);
    block(&mut s, 2, "stuck");
    s.cmd(Command::Retry { task: 2 }).expect("retry");
    s.started(2);
    let new = s.attempt(2);
    s.ev(Event::Exited {
        task: 2,
        attempt: old,
        code: 1,
        signal: None,
        tail: "old".into(),
    });
    assert_eq!(
        (s.st(2), s.why(2).as_str(), s.attempt(2)),
        (Status::Active, "", new),
        "the old exit is stale"
    );
    assert!(
        matches!(s.t(2).proc, Proc::Running { .. }),
        "the new attempt still runs"
    );
    assert!(s
        .audit
        .iter()
        .any(|a| a.task == Some(2) && a.kind == "stale_exit"));
    s.exit(2, 0, "");
    assert_eq!(s.st(2), Status::Done);
}

#[test]
fn a_signal_for_a_gate_that_was_just_sent_back_is_a_conflict() {
    let mut s = Sim::new();
    s.add(&ci_goal(2));
    s.exit(2, 0, "");
    s.signal(3, fail(), json!("red")).expect("first fail");
    // A second CI result for the old code arrives while the fix reruns.
    let (msg, status) = conflict(s.signal(3, fail(), json!("red again")));
    assert!(msg.contains("not waiting"), "{msg}");
    assert_eq!(status.as_deref(), Some("pending"));
    assert_eq!(s.t(3).retries_used, 1, "no second retry used");
    assert_eq!(s.st(2), Status::Active);
}

#[test]
fn two_signals_at_once_only_the_first_applies() {
    let mut s = Sim::new();
    s.add(&ci_goal(0));
    s.exit(2, 0, "");
    s.signal(3, pass(), json!({"n": 1})).expect("first");
    let (_, status) = conflict(s.signal(3, fail(), json!({"n": 2})));
    assert_eq!(status.as_deref(), Some("done"));
    assert_eq!(
        (s.st(3), s.t(3).result.clone()),
        (Status::Done, Some(json!({"n": 1})))
    );
    // The same through resolve: the second matches nothing.
    let mut s = Sim::new();
    s.add(&ci_goal(0));
    s.exit(2, 0, "");
    let target = SignalTarget::new("gh_ci", Some("o/n"), Some(42), None).expect("target");
    let first = s.cmd(Command::ResolveSignals {
        target: target.clone(),
        status: pass(),
        payload: json!({}),
    });
    let second = s.cmd(Command::ResolveSignals {
        target,
        status: fail(),
        payload: json!({}),
    });
    assert_eq!(
        (first, second),
        (Ok(json!({"matched": [3]})), Ok(json!({"matched": []})))
    );
    assert_eq!(s.st(3), Status::Done);
}

#[test]
fn a_second_decision_is_a_conflict() {
    let mut s = Sim::new();
    s.add(REVIEW_FLOW);
    to_review(&mut s);
    s.decide(4, Decision::Approve, "").expect("approve");
    let (_, status) = conflict(s.decide(4, Decision::Reject, "no"));
    assert_eq!((status.as_deref(), s.st(4)), (Some("done"), Status::Done));
}

#[test]
fn changes_requested_right_after_complete_rerun_the_agent_despite_its_dying_session() {
    // The agent completes (its session is being closed), then the review asks for changes
    // before the old process's exit arrives.
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='fix',prompt='p'},{title='r',kind='human_review'}]");
    s.started(2);
    let old = s.attempt(2);
    s.complete(2, false, json!({})).expect("complete");
    assert!(
        s.kills().is_empty(),
        "the session closes after its grace period"
    );
    s.decide(3, Decision::RequestChanges, "again")
        .expect("request changes");
    assert_eq!(
        s.spawns(),
        [2],
        "a new attempt, not typing into the session being closed"
    );
    assert_eq!(s.prompt(2), "p\n\nChanges requested: again");
    s.ev(Event::Exited {
        task: 2,
        attempt: old,
        code: 0,
        signal: Some("SIGTERM".into()),
        tail: String::new(),
    });
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Active, "changes requested"),
        "the closed session's exit is stale"
    );
}

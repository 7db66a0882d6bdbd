//! The grace period of a session its agent's own call ended (`complete` made the task done,
//! or it split the task): the call gets its answer before the session is stopped; the session
//! ends on its own or is stopped when the period is over; meanwhile it keeps its agent slot.
//! The pure board: no processes, clocks or disks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::board_sim::*;
use serde_json::json;
use taskboard::board::{Effect, Event, SESSION_GRACE_MS};
use taskboard::command::Command;

#[test]
fn a_split_answers_and_its_session_ends_on_its_own_within_the_grace_period() {
    let mut s = Sim::new(SEQ);
    s.started(2);
    let attempt = s.b.task(2).expect("task").attempt;
    let r = s
        .split(
            2,
            json!([{"title": "x", "prompt": "do x"}, {"title": "y", "prompt": "do y"}]),
        )
        .expect("split");
    assert_eq!(r["children"], json!([5, 6]));
    assert!(s.kills().is_empty(), "not stopped in the step that answers");
    assert!(s
        .fx
        .iter()
        .any(|e| matches!(e, Effect::Spawn(x) if x.task == 5)));
    assert_eq!(s.b.next_wakeup(), Some(T0 + SESSION_GRACE_MS));
    let closing = s.audited("session_closing");
    assert_eq!(closing.len(), 1);
    assert_eq!(closing[0].who, "http:agent");
    assert_eq!(closing[0].payload["why"], "split into subtasks");
    // The agent exits by itself a second later: recorded, and nothing is stopped later.
    s.now = T0 + 1_000;
    s.ev(Event::Exited {
        task: 2,
        attempt,
        code: 0,
        signal: None,
        tail: String::new(),
    });
    let ended = s.audited("session_ended");
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].payload["code"], 0);
    s.at_ms(SESSION_GRACE_MS + 10);
    assert!(s.kills().is_empty());
    assert!(s.audited("session_stopped").is_empty());
    assert_eq!(s.b.task(2).expect("task").kind.as_str(), "group");
}

#[test]
fn a_split_session_that_lingers_is_stopped_after_the_grace_period() {
    let mut s = Sim::new(SEQ);
    s.started(2);
    let attempt = s.b.task(2).expect("task").attempt;
    s.split(2, json!([{"title": "x", "prompt": "do x"}]))
        .expect("split");
    s.at_ms(SESSION_GRACE_MS - 1);
    assert!(s.kills().is_empty(), "still in its grace period");
    s.at_ms(SESSION_GRACE_MS);
    assert_eq!(s.kills(), [(2, attempt)]);
    let stopped = s.audited("session_stopped");
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0].who, "timer");
    assert_eq!(stopped[0].payload["after_ms"], SESSION_GRACE_MS);
    // Its exit after the stop is stale: the task (now a group) does not change.
    let before = s.st(2);
    s.ev(Event::Exited {
        task: 2,
        attempt,
        code: -1,
        signal: Some("SIGTERM".into()),
        tail: String::new(),
    });
    assert_eq!(s.st(2), before);
    assert_eq!(s.audited("stale_exit").len(), 1);
}

#[test]
fn a_session_in_its_grace_period_still_holds_its_agent_slot() {
    let mut s = Sim::limited(SEQ, 1);
    s.started(2);
    s.complete(2, "done");
    assert!(
        !s.fx.iter().any(|e| matches!(e, Effect::Spawn(_))),
        "max_agents = 1 and #2's session still runs: {:?}",
        s.fx
    );
    assert!(
        s.b.task(3)
            .is_some_and(|t| t.reason.contains("free agent slot")),
        "{:?}",
        s.b.task(3).map(|t| t.reason.clone())
    );
    s.at_ms(SESSION_GRACE_MS);
    assert_eq!(s.kills().len(), 1);
    assert!(
        s.fx.iter()
            .any(|e| matches!(e, Effect::Spawn(x) if x.task == 3)),
        "the slot is free once the session is stopped: {:?}",
        s.fx
    );
}

#[test]
fn a_split_on_a_pinned_task_keeps_the_goal_session_for_the_next_task() {
    let mut s = Sim::new(
        "title='g'\nsession='pinned'\ntask=[{title='a',prompt='A'},{title='b',prompt='B'}]",
    );
    s.started(2);
    s.split(2, json!([{"title": "x", "prompt": "do x"}]))
        .expect("split");
    assert!(s.kills().is_empty());
    s.at_ms(SESSION_GRACE_MS * 2);
    assert!(
        s.kills().is_empty(),
        "the pinned session is released, not stopped"
    );
    assert!(s.audited("session_closing").is_empty());
}

#[test]
fn deleting_a_split_task_stops_its_session_in_the_grace_period_at_once() {
    let mut s = Sim::limited(SEQ, 1);
    s.started(2);
    let attempt = s.b.task(2).expect("task").attempt;
    s.split(2, json!([{"title": "x", "prompt": "do x"}]))
        .expect("split");
    assert!(s.kills().is_empty());
    s.by("cli", Command::Delete { task: 2 }).expect("delete");
    assert_eq!(
        s.kills(),
        [(2, attempt)],
        "stopped with its task, not later"
    );
    assert!(s
        .audited("session_stopped")
        .iter()
        .any(|a| a.payload["why"] == "task deleted"));
    assert!(
        s.fx.iter()
            .any(|e| matches!(e, Effect::Spawn(x) if x.task == 3)),
        "its slot is free: {:?}",
        s.fx
    );
    s.at_ms(SESSION_GRACE_MS);
    assert!(s.kills().is_empty(), "no second stop");
}

#[test]
fn an_agent_call_that_overtakes_its_spawn_still_gets_the_grace_period() {
    // The agent called `subtasks` from its PTY before the board heard the spawn: the call
    // answers, and the spawn heard afterwards belongs to the closing session (not a
    // straggler to kill at once, which would cut the agent off before it reads its answer).
    let mut s = Sim::new(SEQ);
    let attempt = s.b.task(2).expect("task").attempt;
    assert!(s
        .fx
        .iter()
        .any(|e| matches!(e, Effect::Spawn(x) if x.task == 2)));
    let r = s
        .split(2, json!([{"title": "x", "prompt": "do x"}]))
        .expect("split");
    assert_eq!(r["children"], json!([5]));
    s.ev(Event::Spawned {
        task: 2,
        attempt,
        pid: 1002,
        workdir: None,
    });
    assert!(s.kills().is_empty(), "the late spawn is not killed at once");
    assert!(s.audited("stale_spawn").is_empty());
    assert_eq!(s.audited("session_closing").len(), 1);
    // It ends on its own within the period: recorded as ended, nothing stopped later.
    s.now = T0 + 500;
    s.ev(Event::Exited {
        task: 2,
        attempt,
        code: 0,
        signal: None,
        tail: String::new(),
    });
    assert_eq!(s.audited("session_ended").len(), 1);
    s.at_ms(SESSION_GRACE_MS + 10);
    assert!(s.kills().is_empty());
}

#[test]
fn a_closing_session_whose_spawn_fails_frees_its_slot_at_once() {
    // The call overtook a spawn that then failed: nothing will exit and nothing is left to
    // stop, so the session leaves the grace list at once (its slot would otherwise stay
    // taken until the period is over).
    let mut s = Sim::new(SEQ);
    let attempt = s.b.task(2).expect("task").attempt;
    s.split(2, json!([{"title": "x", "prompt": "do x"}]))
        .expect("split");
    assert_eq!(s.b.next_wakeup(), Some(T0 + SESSION_GRACE_MS));
    s.ev(Event::SpawnFailed {
        task: 2,
        attempt,
        error: "no such program".into(),
    });
    let failed = s.audited("spawn_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].payload["closing"], true);
    assert_ne!(
        s.b.next_wakeup(),
        Some(T0 + SESSION_GRACE_MS),
        "no grace period left to wait out"
    );
    s.at_ms(SESSION_GRACE_MS + 10);
    assert!(s.kills().is_empty(), "nothing to stop");
    assert_eq!(s.b.task(2).expect("task").kind.as_str(), "group");
}

//! Restart recovery, poll gates, and terminal statuses that never change on their own.

use super::*;

// ----- restart recovery -----

#[test]
fn restart_puts_interrupted_agents_back_without_using_a_retry_or_the_spawn_quota() {
    let mut s = Sim::limits(4, 1);
    s.add("title='g'\ntask=[{title='a',retries=1}]");
    s.started(2);
    let old = s.attempt(2);
    s.at(10);
    let lost = s.b.recover(&|_| false, s.now);
    assert_eq!(
        lost,
        vec![2],
        "the lost process is reported for the orphan sweep"
    );
    assert_eq!(
        (s.st(2), s.why(2).as_str(), s.t(2).retries_used),
        (Status::Pending, "interrupted by restart", 0)
    );
    s.tick(10);
    assert_eq!(
        s.spawns(),
        [2],
        "spawns again although the 1/min quota is used"
    );
    assert!(s.attempt(2) > old);
    assert_eq!((s.st(2), s.why(2).as_str()), (Status::Active, ""));
    let Some(Effect::Spawn(spec)) = s.fx.first() else {
        panic!("no spawn")
    };
    assert!(!spec.resume, "no resume when the profile cannot");
}

#[test]
fn restart_resumes_a_session_when_it_can() {
    let mut s = Sim::new();
    s.add(SEQ2);
    s.started(2);
    let session = s
        .t(2)
        .session_id
        .clone()
        .expect("a session id is chosen before the spawn");
    s.b.recover(&|_| true, s.now);
    s.tick(1);
    let Some(Effect::Spawn(spec)) = s.fx.first() else {
        panic!("no spawn")
    };
    assert!(spec.resume);
    assert_eq!(spec.session_id, session, "the same session is resumed");
}

#[test]
fn restart_keeps_gate_deadlines_and_pending_reviews() {
    let mut s = Sim::new();
    s.add("title='g'\nparallel=true\ntask=[{title='ci',kind='signal',gate='gh_ci',timeout='1m'},{title='r',kind='human_review'}]");
    s.at(30);
    s.b.recover(&|_| false, s.now);
    s.tick(30);
    assert_eq!(
        (s.st(2), s.st(3)),
        (Status::Active, Status::PendingReview),
        "gates wait on"
    );
    assert_eq!(
        s.b.next_wakeup(),
        Some(T0 + 60_000),
        "the original deadline, not now + 1m"
    );
    s.tick(60);
    assert_eq!(s.st(2), Status::Failed);
}

#[test]
fn restart_re_runs_a_lost_poll() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='ci',kind='signal',gate='gh_ci',poll='check'}]");
    s.tick(0);
    assert_eq!(s.polls(), [2]);
    s.at(5);
    s.b.recover(&|_| false, s.now);
    s.tick(5);
    assert_eq!(s.polls(), [2], "the poll that was in flight runs again");
}

// ----- poll gates -----

const POLL: &str = "title='g'\ntask=[{title='ci',kind='signal',gate='gh_ci',poll='gh pr checks 42',poll_every='10s'}]";

#[test]
fn a_poll_gate_runs_its_command_when_armed() {
    let mut s = Sim::new();
    s.add(POLL);
    assert_eq!(s.b.next_wakeup(), Some(T0), "due at once");
    s.tick(0);
    let attempt = s.attempt(2);
    assert_eq!(
        s.fx,
        vec![Effect::RunPoll {
            task: 2,
            attempt,
            command: "gh pr checks 42".into(),
            cwd: "/tmp".into()
        }]
    );
    s.tick(0);
    assert!(s.polls().is_empty(), "not twice while one is running");
}

#[test]
fn poll_exit_codes_pass_fail_or_wait() {
    // (code, stdout, status, reason)
    let rows: &[(i32, &str, Status, &str)] = &[
        (0, "all green\n", Status::Done, ""),
        (1, "lint failed\n", Status::Failed, "lint failed"),
        (1, "", Status::Failed, "gh_ci failed"),
        (8, "pending", Status::Active, ""),
        (2, "", Status::Active, ""),
    ];
    for (code, out, status, reason) in rows {
        let mut s = Sim::new();
        s.add(POLL);
        s.tick(0);
        let attempt = s.attempt(2);
        s.ev(Event::PollFinished {
            task: 2,
            attempt,
            code: *code,
            stdout: out.to_string(),
        });
        assert_eq!(s.st(2), *status, "exit {code}");
        if *status != Status::Active {
            assert_eq!(s.why(2), *reason, "exit {code}");
            assert!(
                s.audit
                    .iter()
                    .any(|a| a.task == Some(2) && a.who == "poll" && a.kind == "signal"),
                "exit {code}: audited as poll"
            );
        }
    }
}

#[test]
fn a_pending_poll_runs_again_after_poll_every() {
    for (toml, every) in [
        (POLL, 10),
        (
            "title='g'\ntask=[{title='ci',kind='signal',gate='gh_ci',poll='x'}]",
            30,
        ),
    ] {
        let mut s = Sim::new();
        s.add(toml);
        s.tick(0);
        let attempt = s.attempt(2);
        s.at(1);
        s.ev(Event::PollFinished {
            task: 2,
            attempt,
            code: 8,
            stdout: String::new(),
        });
        assert_eq!(
            s.b.next_wakeup(),
            Some(T0 + (1 + every) * 1000),
            "poll_every {every}"
        );
        s.tick(every);
        assert!(s.polls().is_empty(), "poll_every {every}: not early");
        s.tick(1 + every);
        assert_eq!(s.polls(), [2], "poll_every {every}");
    }
}

#[test]
fn a_pass_poll_stores_its_output_as_the_result() {
    let mut s = Sim::new();
    s.add(POLL);
    s.tick(0);
    let attempt = s.attempt(2);
    s.ev(Event::PollFinished {
        task: 2,
        attempt,
        code: 0,
        stdout: "all green\n".into(),
    });
    assert_eq!(
        s.t(2).result,
        Some(json!({"exit": 0, "output": "all green"}))
    );
}

#[test]
fn a_poll_result_from_an_old_arming_is_ignored() {
    let mut s = Sim::new();
    s.add(POLL);
    s.tick(0);
    let attempt = s.attempt(2);
    s.ev(Event::PollFinished {
        task: 2,
        attempt: attempt - 1,
        code: 0,
        stdout: String::new(),
    });
    assert_eq!(s.st(2), Status::Active);
}

// ----- terminal statuses never change on their own -----

#[test]
fn terminal_statuses_never_change_on_their_own() {
    type Setup = fn(&mut Sim) -> TaskId;
    let setups: [(&str, Setup); 5] = [
        ("done agent", |s| {
            s.add("title='g'\ntask=[{title='a',timeout='1m'}]");
            s.exit(2, 0, "");
            2
        }),
        ("failed agent", |s| {
            s.add("title='g'\ntask=[{title='a',timeout='1m',retries=0}]");
            s.exit(2, 4, "");
            2
        }),
        ("stopped agent", |s| {
            s.add(SEQ2);
            s.cmd(Command::Stop { task: 2 }).expect("stop");
            2
        }),
        ("skipped gate", |s| {
            s.add(
                "title='g'\ntask=[{title='ci',kind='signal',gate='gh_ci',timeout='1m',poll='x'}]",
            );
            s.cmd(Command::Skip { task: 2 }).expect("skip");
            2
        }),
        ("passed gate", |s| {
            s.add(
                "title='g'\ntask=[{title='ci',kind='signal',gate='gh_ci',timeout='1m',poll='x'}]",
            );
            s.signal(2, pass(), json!({})).expect("pass");
            2
        }),
    ];
    type Poke = fn(&mut Sim, TaskId, u32);
    let pokes: [(&str, Poke); 5] = [
        ("a tick past every deadline", |s, _, _| s.tick(3600)),
        ("a late exit 0", |s, id, a| {
            drop(s.ev(Event::Exited {
                task: id,
                attempt: a,
                code: 0,
                signal: None,
                tail: String::new(),
            }))
        }),
        ("a late exit 1", |s, id, a| {
            drop(s.ev(Event::Exited {
                task: id,
                attempt: a,
                code: 1,
                signal: None,
                tail: String::new(),
            }))
        }),
        ("a bell", |s, id, _| {
            drop(s.ev(Event::NeedsYou {
                task: id,
                reason: "bell".into(),
            }))
        }),
        ("a late poll result", |s, id, a| {
            drop(s.ev(Event::PollFinished {
                task: id,
                attempt: a,
                code: 1,
                stdout: String::new(),
            }))
        }),
    ];
    for (sname, setup) in setups {
        for (pname, poke) in pokes {
            let mut s = Sim::new();
            let id = setup(&mut s);
            let (status, reason, attempt) = (s.st(id), s.why(id), s.attempt(id));
            assert!(status.is_terminal(), "{sname}");
            poke(&mut s, id, attempt);
            assert_eq!(
                (s.st(id), s.why(id)),
                (status, reason.clone()),
                "{sname} after {pname}"
            );
            assert!(
                s.t(id).attention.is_none(),
                "{sname} after {pname}: not in the inbox"
            );
            assert!(
                s.spawns().is_empty() && s.polls().is_empty(),
                "{sname} after {pname}: {:?}",
                s.fx
            );
        }
    }
}

#[test]
fn restart_computes_again_a_review_diff_a_crash_cut_short() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',review=true},{title='r',kind='human_review'}]");
    let attempt = s.attempt(2);
    let workdir = taskboard::model::WorkDir {
        path: "/wt/1-2".into(),
        branch: "taskboard/b/2-a".into(),
        base: "base0".into(),
    };
    s.ev(Event::Spawned {
        task: 2,
        attempt,
        pid: 1002,
        workdir: Some(workdir),
    });
    s.exit(2, 0, "");
    assert_eq!(s.st(2), Status::PendingReview);
    let asked = |s: &Sim| {
        s.fx.iter()
            .filter(|e| matches!(e, Effect::ComputeDiff { task: 2, .. }))
            .count()
    };
    assert_eq!(asked(&s), 1, "the review asks for its diff");
    // Killed before the diff was recorded: the restart asks again, once.
    s.at(5);
    s.b.recover(&|_| false, s.now);
    s.tick(5);
    assert_eq!(asked(&s), 1, "{:?}", s.fx);
    s.ev(Event::DiffReady {
        task: 2,
        hash: "d1ff".into(),
        stat: "1 file".into(),
    });
    // Recorded: a later restart leaves it alone.
    s.b.recover(&|_| false, s.now);
    s.tick(6);
    assert_eq!(asked(&s), 0, "{:?}", s.fx);
    assert_eq!(s.t(2).diff_hash.as_deref(), Some("d1ff"));
}

//! The audit trail, {result.KEY} placeholders, rework targets, and a human editing the plan.

use super::*;

// ----- audit -----

#[test]
fn every_decision_and_signal_is_audited_with_who() {
    type Act = fn(&mut Sim);
    type Want = (Option<TaskId>, &'static str, &'static str);
    // (name, action, (task, who, kind) that must be recorded)
    let rows: [(&str, Act, Want); 12] = [
        ("add goal", |_| {}, (Some(1), "cli", "add_goal")),
        ("spawned", |s| s.started(2), (Some(2), "board", "spawned")),
        ("exited", |s| s.exit(2, 0, ""), (Some(2), "board", "exited")),
        (
            "spawn failure",
            |s| {
                drop(s.ev(Event::SpawnFailed {
                    task: 2,
                    attempt: 1,
                    error: "x".into(),
                }))
            },
            (Some(2), "board", "spawn_failed"),
        ),
        (
            "decision",
            |s| {
                to_review(s);
                s.by(
                    "tui",
                    Command::Decide {
                        task: 4,
                        decision: Decision::Approve,
                        comment: None,
                        diff_hash: None,
                    },
                )
                .expect("approve");
            },
            (Some(4), "tui", "decision"),
        ),
        (
            "signal",
            |s| {
                s.exit(2, 0, "");
                s.by(
                    "http:ci-bot",
                    Command::Signal {
                        task: 3,
                        status: SignalStatus::Pass,
                        payload: json!({"run": 7}),
                    },
                )
                .expect("signal");
            },
            (Some(3), "http:ci-bot", "signal"),
        ),
        (
            "complete",
            |s| {
                drop(
                    s.by(
                        "http:agent",
                        Command::Complete {
                            task: 2,
                            summary: "s".into(),
                            review: false,
                            artifacts: Default::default(),
                        },
                    )
                    .expect("complete"),
                )
            },
            (Some(2), "http:agent", "complete"),
        ),
        (
            "stop",
            |s| drop(s.by("tui", Command::Stop { task: 2 }).expect("stop")),
            (Some(2), "tui", "status"),
        ),
        (
            "pause",
            |s| drop(s.cmd(Command::Pause).expect("pause")),
            (None, "cli", "pause"),
        ),
        (
            "resume",
            |s| {
                s.cmd(Command::Pause).expect("pause");
                s.cmd(Command::Resume).expect("resume");
            },
            (None, "cli", "resume"),
        ),
        (
            "delete",
            |s| drop(s.cmd(Command::Delete { task: 5 }).expect("delete")),
            (None, "cli", "delete"),
        ),
        (
            "skip",
            |s| drop(s.by("http:me", Command::Skip { task: 5 }).expect("skip")),
            (Some(5), "http:me", "status"),
        ),
    ];
    for (name, act, (task, who, kind)) in rows {
        let mut s = Sim::new();
        s.add(REVIEW_FLOW);
        act(&mut s);
        assert!(
            s.audit
                .iter()
                .any(|a| a.task == task && a.who == who && a.kind == kind),
            "{name}: no ({task:?}, {who}, {kind}) in {:#?}",
            s.audit
        );
    }
}

#[test]
fn decisions_and_signals_carry_their_payload_in_the_audit() {
    let mut s = Sim::new();
    s.add(REVIEW_FLOW);
    s.exit(2, 0, "");
    s.signal(3, pass(), json!({"run": 7})).expect("signal");
    s.cmd(Command::Decide {
        task: 4,
        decision: Decision::RequestChanges,
        comment: Some("use X".into()),
        diff_hash: Some("d1ff".into()),
    })
    .expect("decide");
    let signal = s
        .audit
        .iter()
        .find(|a| a.kind == "signal")
        .expect("signal audited");
    assert_eq!(
        signal.payload,
        json!({"status": "pass", "payload": {"run": 7}})
    );
    let decision = s
        .audit
        .iter()
        .find(|a| a.kind == "decision")
        .expect("decision audited");
    assert_eq!(
        decision.payload,
        json!({"decision": "request_changes", "comment": "use X", "diff_hash": "d1ff"}),
        "with the diff hash the reviewer saw"
    );
}

#[test]
fn every_status_transition_has_an_audit_event() {
    type Story = fn(&mut Sim);
    let stories: [(&str, &str, Story); 6] = [
        ("review flow with changes", REVIEW_FLOW, |s| {
            to_review(s);
            s.decide(4, Decision::RequestChanges, "x").expect("rc");
            s.exit(2, 0, "");
            s.signal(3, pass(), json!({})).expect("pass");
            s.decide(4, Decision::Approve, "").expect("approve");
            s.exit(5, 0, "");
        }),
        ("retries then failure", "title='g'\ntask=[{title='a',retries=2},{title='b'}]", |s| {
            for _ in 0..3 {
                s.exit(2, 1, "");
            }
        }),
        ("stop, retry, skip", SEQ3, |s| {
            s.cmd(Command::Stop { task: 2 }).expect("stop");
            s.cmd(Command::Retry { task: 2 }).expect("retry");
            s.cmd(Command::Skip { task: 1 }).expect("skip");
        }),
        ("timeouts", "title='g'\nparallel=true\ntask=[{title='a',timeout='1m'},{title='ci',kind='signal',gate='x',timeout='2m',on_timeout='escalate'}]", |s| {
            s.tick(60);
            s.tick(120);
            s.decide(3, Decision::Reject, "late").expect("reject");
        }),
        ("signal retries", "title='g'\ntask=[{title='fix'},{title='ci',kind='signal',gate='gh_ci',retries=1}]", |s| {
            s.exit(2, 0, "");
            s.signal(3, fail(), json!("a")).expect("fail");
            s.exit(2, 0, "");
            s.signal(3, fail(), json!("b")).expect("fail");
        }),
        ("restart", SEQ2, |s| {
            s.started(2);
            s.b.recover(&|_| false, s.now);
            s.tick(1);
            s.exit(2, 0, "");
        }),
    ];
    for (name, toml, story) in stories {
        let mut s = Sim::new();
        s.add(toml);
        story(&mut s);
        // `recover` runs outside `handle`: collect what it recorded too.
        let rest = s.b.take_changes();
        s.audit.extend(rest.audit);
        s.moves.extend(rest.transitions);
        let changed: Vec<&Transition> = s.moves.iter().filter(|m| m.from != m.to).collect();
        assert!(
            changed.len() >= 4,
            "{name}: the story moved tasks ({})",
            changed.len()
        );
        for m in changed {
            let audited = s.audit.iter().any(|a| {
                a.task == Some(m.id)
                    && a.kind == "status"
                    && a.at == m.at
                    && a.payload["from"] == json!(m.from)
                    && a.payload["to"] == json!(m.to)
            });
            assert!(
                audited,
                "{name}: transition #{} {} → {} not audited",
                m.id, m.from, m.to
            );
        }
    }
}

// ----- {result.KEY} -----

#[test]
fn result_placeholders_in_prompts() {
    // (name, gate payloads for #2 and #3 in finishing order, prompt of #4, expected prompt)
    type Row = (
        &'static str,
        &'static [(TaskId, &'static str)],
        &'static str,
        &'static str,
    );
    let rows: &[Row] = &[
        (
            "a string value",
            &[(2, r#"{"url":"u"}"#)],
            "open {result.url}",
            "open u",
        ),
        (
            "a number is written as JSON",
            &[(2, r#"{"n":42}"#)],
            "n={result.n}",
            "n=42",
        ),
        (
            "an object is written as JSON",
            &[(2, r#"{"o":{"a":1}}"#)],
            "{result.o}",
            r#"{"a":1}"#,
        ),
        (
            "an unknown key is left as written",
            &[(2, r#"{"url":"u"}"#)],
            "see {result.nope}",
            "see {result.nope}",
        ),
        (
            "a known key after an unknown one is still filled",
            &[(2, r#"{"url":"u"}"#)],
            "{result.nope} {result.url}",
            "{result.nope} u",
        ),
        (
            "the latest-finished task wins",
            &[
                (3, r#"{"url":"late-in-file"}"#),
                (2, r#"{"url":"finished-last"}"#),
            ],
            "{result.url}",
            "finished-last",
        ),
        (
            "the only task that has the key",
            &[(2, r#"{"a":"1"}"#), (3, r#"{"b":"2"}"#)],
            "{result.a}{result.b}",
            "12",
        ),
        (
            "twice",
            &[(2, r#"{"a":"x"}"#)],
            "{result.a}-{result.a}",
            "x-x",
        ),
        (
            "a value that looks like a placeholder is not filled again",
            &[(2, r#"{"a":"{result.a}"}"#)],
            "{result.a}!",
            "{result.a}!",
        ),
    ];
    for (i, (name, passes, prompt, want)) in rows.iter().enumerate() {
        let mut s = Sim::new();
        s.add(&format!(
            "title='g'\ntask=[{{title='gates',parallel=true,task=[{{title='x',kind='signal',gate='a'}},{{title='y',kind='signal',gate='b'}}]}},{{title='use',prompt='''{prompt}'''}}]"
        ));
        // ids: gates 2, x 3, y 4, use 5 — shift the row's ids by one
        for (k, (id, payload)) in passes.iter().enumerate() {
            s.at(i as i64 * 100 + k as i64);
            s.signal(id + 1, pass(), serde_json::from_str(payload).expect("json"))
                .expect("pass");
        }
        if s.b.task(3).is_some_and(|t| !t.status.is_terminal()) {
            s.cmd(Command::Skip { task: 3 }).expect("skip");
        }
        if s.b.task(4).is_some_and(|t| !t.status.is_terminal()) {
            s.cmd(Command::Skip { task: 4 }).expect("skip");
        }
        assert_eq!(s.prompt(5), *want, "{name}");
    }
}

#[test]
fn complete_artifacts_are_a_result_for_later_prompts() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a'},{title='b',prompt='review {result.branch}'}]");
    s.complete(2, false, json!({"branch": "fix-1"}))
        .expect("complete");
    assert_eq!(s.prompt(3), "review fix-1");
}

// ----- rework target -----

#[test]
fn rework_target_of_a_gate() {
    // (name, goal, gate, finish these agents in this order first, expected target)
    type Row = (
        &'static str,
        &'static str,
        TaskId,
        &'static [TaskId],
        Option<TaskId>,
    );
    let rows: &[Row] = &[
        ("the agent just before", "title='g'\ntask=[{title='a'},{title='r',kind='human_review'}]", 3, &[], Some(2)),
        ("the nearest of several", "title='g'\ntask=[{title='a'},{title='b'},{title='r',kind='human_review'}]", 4, &[], Some(3)),
        ("back past another gate", "title='g'\ntask=[{title='a'},{title='ci',kind='signal',gate='x'},{title='r',kind='human_review'}]", 4, &[], Some(2)),
        ("into an earlier group's descendants", "title='g'\ntask=[{title='a'},{title='G',task=[{title='b'},{title='c',kind='signal',gate='x'}]},{title='r',kind='human_review'}]", 6, &[], Some(4)),
        ("up through a sequential parent", "title='g'\ntask=[{title='a'},{title='S',task=[{title='r',kind='human_review'}]}]", 4, &[], Some(2)),
        ("not a parallel sibling", "title='g'\ntask=[{title='a'},{title='P',parallel=true,task=[{title='b'},{title='r',kind='human_review'}]}]", 5, &[], Some(2)),
        ("none when first", "title='g'\ntask=[{title='r',kind='human_review'},{title='a'}]", 2, &[], None),
        ("none in a parallel goal", PAR_AR, 3, &[], None),
        (
            "after: the latest-finished dependency (a last)",
            "title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',key='b'},{title='r',kind='human_review',after=['a','b']}]",
            4,
            &[3, 2],
            Some(2),
        ),
        (
            "after: the latest-finished dependency (b last)",
            "title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',key='b'},{title='r',kind='human_review',after=['a','b']}]",
            4,
            &[2, 3],
            Some(3),
        ),
        ("after: an agent inside a group dependency", "title='g'\nparallel=true\ntask=[{title='G',key='g',task=[{title='x'}]},{title='r',kind='human_review',after=['g']}]", 4, &[3], Some(3)),
    ];
    for (name, toml, gate, finish, want) in rows {
        let mut s = Sim::new();
        s.add(toml);
        for (k, id) in finish.iter().enumerate() {
            s.at(k as i64 + 1);
            s.exit(*id, 0, "");
        }
        assert_eq!(s.b.rework_target(*gate), *want, "{name}");
    }
}

#[test]
fn retry_clears_the_waiting_reason_of_dependents() {
    let mut s = Sim::new();
    s.add(SEQ3);
    s.exit(2, 1, "");
    assert_eq!(
        (s.why(3).as_str(), s.why(4).as_str()),
        ("waiting on #2 (failed)", "waiting on #2 (failed)")
    );
    s.cmd(Command::Retry { task: 2 }).expect("retry");
    assert_eq!((s.why(3).as_str(), s.why(4).as_str()), ("", ""));
}

#[test]
fn a_rejected_human_approval_gate_fails() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='ok',kind='signal',gate='human_approval'}]");
    s.decide(2, Decision::Reject, "not now").expect("reject");
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Failed, "rejected: not now")
    );
    assert!(s.t(2).attention.is_none(), "out of the inbox");
}

#[test]
fn typing_into_a_flagged_pane_clears_its_needs_you_flag() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',prompt='p'}]");
    s.started(2);
    drop(s.ev(Event::NeedsYou {
        task: 2,
        reason: "bell".into(),
    }));
    assert_eq!(s.t(2).attention.as_deref(), Some("bell"));
    drop(s.ev(Event::InputSent { task: 2 }));
    assert_eq!(s.t(2).attention, None, "input clears the flag");
    // A decision a human owes is not cleared by typing.
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',prompt='p',review=true}]");
    s.started(2);
    s.complete(2, false, serde_json::json!({}))
        .expect("complete");
    drop(s.ev(Event::InputSent { task: 2 }));
    assert_eq!(s.t(2).status, Status::PendingReview);
    assert_eq!(s.t(2).attention.as_deref(), Some("review"));
}

// ----- a human edits the plan: prompts of waiting tasks, new tasks under a group -----

fn edit(s: &mut Sim, id: TaskId, prompt: &str) -> Reply {
    s.by(
        "tui",
        Command::EditPrompt {
            task: id,
            prompt: prompt.into(),
        },
    )
}

#[test]
fn a_prompt_changes_only_while_its_task_is_not_running() {
    // #2 a (runs first), #3 b (waits for a).
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',prompt='old a'},{title='b',prompt='old b'}]");
    // Pending: the new prompt is what it runs with.
    edit(&mut s, 3, "new b").expect("pending b takes a prompt");
    assert_eq!(
        s.audit
            .last()
            .map(|e| (e.kind.as_str(), e.who.as_str(), e.payload.clone())),
        Some((
            "edit_prompt",
            "tui",
            json!({"prompt": "new b", "was": "old b"})
        ))
    );
    // Running: refused with its status, nothing changes.
    let (msg, status) = conflict(edit(&mut s, 2, "new a"));
    assert!(msg.contains("is active"), "{msg}");
    assert_eq!(status.as_deref(), Some("active"));
    assert_eq!(s.t(2).spec.prompt.as_deref(), Some("old a"));
    s.exit(2, 0, "");
    assert_eq!(s.prompt(3), "new b", "b runs with the edited prompt");
    // Done: refused. A group has no prompt. Empty is invalid. Unknown is 404-ish.
    let (msg, _) = conflict(edit(&mut s, 2, "again"));
    assert!(msg.contains("is done"), "{msg}");
    let (msg, _) = conflict(edit(&mut s, 1, "x"));
    assert!(msg.contains("only agent tasks"), "{msg}");
    assert!(matches!(
        edit(&mut s, 3, "  "),
        Err(CommandError::Invalid { field: Some(f), .. }) if f == "prompt"
    ));
    assert!(matches!(
        edit(&mut s, 99, "x"),
        Err(CommandError::NotFound { id: 99 })
    ));
}

#[test]
fn a_failed_task_takes_a_new_prompt_and_its_retry_uses_it() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',prompt='vague'}]");
    s.exit(2, 1, "no idea what to do");
    assert_eq!(s.st(2), Status::Failed);
    edit(&mut s, 2, "precise").expect("a failed task takes a prompt");
    s.cmd(Command::Retry { task: 2 }).expect("retry");
    assert_eq!(s.prompt(2), "precise");
}

#[test]
fn new_tasks_under_a_group_run_by_the_usual_rules_and_reopen_a_finished_goal() {
    let mut s = Sim::new();
    s.add(SEQ2);
    s.exit(2, 0, "");
    s.exit(3, 0, "");
    assert_eq!(s.st(1), Status::Done);
    let extra = taskboard::goalfile::parse_subtasks(&json!({"tasks": [
        {"title": "c", "prompt": "also c", "key": "c"},
        {"title": "d", "after": ["c"]}
    ]}))
    .expect("subtasks");
    let r = s
        .by(
            "tui",
            Command::Subtasks {
                task: 1,
                tasks: extra,
            },
        )
        .expect("a goal takes new tasks");
    assert_eq!(r["children"], json!([4, 5]));
    assert_eq!(s.t(1).children, vec![2, 3, 4, 5]);
    assert_eq!(s.spawns(), vec![4], "c runs, d waits for it");
    assert_eq!(s.prompt(4), "also c");
    assert_eq!(s.st(1), Status::Active, "the goal is open again");
    assert_eq!(
        s.audit
            .iter()
            .rev()
            .find(|e| e.kind == "subtasks")
            .map(|e| e.who.as_str()),
        Some("tui")
    );
    s.exit(4, 0, "");
    assert_eq!(s.spawns(), vec![5]);
    s.exit(5, 0, "");
    assert_eq!(s.st(1), Status::Done);
    // A gate is neither a group nor a running agent: refused.
    let mut s = Sim::new();
    s.add(PAR_AR);
    let one =
        taskboard::goalfile::parse_subtasks(&json!({"tasks": [{"title": "x"}]})).expect("subtasks");
    conflict(s.cmd(Command::Subtasks {
        task: 3,
        tasks: one,
    }));
}

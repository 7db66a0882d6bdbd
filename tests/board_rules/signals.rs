//! Signals, gate timeouts and agent timeouts.

use super::*;

// ----- signals -----

struct SignalCase {
    name: &'static str,
    retries: u32,
    /// Signals in order; the fix task reruns successfully after each retried one.
    signals: &'static [(SignalStatus, &'static str)],
    ci: (Status, &'static str),
    retries_used: u32,
}

#[test]
fn signals_pass_fail_and_retry() {
    const F: SignalStatus = SignalStatus::Fail;
    let cases = [
        SignalCase {
            name: "pass",
            retries: 0,
            signals: &[(SignalStatus::Pass, r#"{"url":"u1"}"#)],
            ci: (Status::Done, ""),
            retries_used: 0,
        },
        SignalCase {
            name: "fail without retries",
            retries: 0,
            signals: &[(F, r#"{"summary":"tests failed"}"#)],
            ci: (Status::Failed, "tests failed"),
            retries_used: 0,
        },
        SignalCase {
            name: "fail with an empty payload",
            retries: 0,
            signals: &[(F, "null")],
            ci: (Status::Failed, "gh_ci failed"),
            retries_used: 0,
        },
        SignalCase {
            name: "fail with a string payload",
            retries: 0,
            signals: &[(F, r#""lint: 3 errors""#)],
            ci: (Status::Failed, "lint: 3 errors"),
            retries_used: 0,
        },
        SignalCase {
            name: "fail with a message field",
            retries: 0,
            signals: &[(F, r#"{"message":"red","x":1}"#)],
            ci: (Status::Failed, "red"),
            retries_used: 0,
        },
        SignalCase {
            name: "fail with retries re-arms after the rework",
            retries: 2,
            signals: &[(F, r#"{"summary":"2 failed"}"#)],
            ci: (Status::Active, "waiting on gh_ci #42"),
            retries_used: 1,
        },
        SignalCase {
            name: "second fail",
            retries: 2,
            signals: &[(F, "{}"), (F, "{}")],
            ci: (Status::Active, "waiting on gh_ci #42"),
            retries_used: 2,
        },
        SignalCase {
            name: "retries run out",
            retries: 2,
            signals: &[(F, "{}"), (F, "{}"), (F, r#"{"summary":"still red"}"#)],
            ci: (Status::Failed, "still red"),
            retries_used: 2,
        },
        SignalCase {
            name: "pass after a retry",
            retries: 1,
            signals: &[(F, "{}"), (SignalStatus::Pass, "{}")],
            ci: (Status::Done, ""),
            retries_used: 1,
        },
    ];
    for c in &cases {
        let mut s = Sim::new();
        s.add(&ci_goal(c.retries));
        s.exit(2, 0, "");
        for (status, payload) in c.signals {
            s.signal(3, *status, serde_json::from_str(payload).expect("json"))
                .unwrap_or_else(|e| panic!("{}: {e}", c.name));
            if s.st(2) == Status::Active {
                s.exit(2, 0, "");
            }
        }
        assert_eq!((s.st(3), s.why(3).as_str()), c.ci, "{}", c.name);
        assert_eq!(s.t(3).retries_used, c.retries_used, "{}", c.name);
    }
}

#[test]
fn a_pass_payload_is_the_result_and_fills_later_prompts() {
    let mut s = Sim::new();
    s.add(&ci_goal(0));
    s.exit(2, 0, "");
    s.signal(3, pass(), json!({"url": "https://ci/1"}))
        .expect("pass");
    assert_eq!(s.t(3).result, Some(json!({"url": "https://ci/1"})));
    assert_eq!(s.prompt(4), "ship https://ci/1");
}

#[test]
fn a_failed_signal_with_retries_reruns_the_target_with_the_payload() {
    let mut s = Sim::new();
    s.add(&ci_goal(2));
    s.exit(2, 0, "");
    s.signal(3, fail(), json!({"summary": "test_x failed"}))
        .expect("fail");
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Pending, "retry 1/2: test_x failed")
    );
    assert_eq!(s.st(2), Status::Active);
    assert_eq!(s.prompt(2), "fix it\n\ngh_ci failed: test_x failed");
}

#[test]
fn a_failed_signal_fails_the_goal() {
    let mut s = Sim::new();
    s.add(&ci_goal(0));
    s.exit(2, 0, "");
    s.signal(3, fail(), json!({"summary": "red"}))
        .expect("fail");
    assert_eq!(
        (s.st(1), s.why(1).as_str()),
        (Status::Failed, "#3 failed: red")
    );
    assert_eq!(
        s.t(3).result,
        Some(json!({"summary": "red"})),
        "the payload is kept"
    );
    assert_eq!(s.why(4), "waiting on #3 (failed)");
}

#[test]
fn a_failed_signal_with_retries_and_no_rework_target_waits_for_the_next() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='ci',kind='signal',gate='gh_ci',retries=1}]");
    s.signal(2, fail(), json!("flaky")).expect("fail");
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Active, "retry 1/1: flaky")
    );
    assert_eq!(s.t(2).retries_used, 1);
    assert!(s.spawns().is_empty());
    s.signal(2, fail(), json!("flaky again")).expect("fail");
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Failed, "flaky again")
    );
}

#[test]
fn signals_to_tasks_that_are_not_waiting_are_conflicts() {
    let mut s = Sim::new();
    s.add(&ci_goal(0));
    let cases: [(TaskId, &str, &str); 2] = [
        (2, "is not a signal task", "active"),
        (3, "is not waiting", "pending"),
    ];
    for (id, text, status) in cases {
        let (msg, st) = conflict(s.signal(id, pass(), json!({})));
        assert!(msg.contains(text), "#{id}: {msg}");
        assert_eq!(st.as_deref(), Some(status), "#{id}");
    }
    assert_eq!(
        s.signal(99, pass(), json!({})),
        Err(CommandError::NotFound { id: 99 })
    );
}

#[test]
fn resolve_signals_matches_gate_repo_and_pr() {
    const GATES: &str = "title='g'\nparallel=true\ntask=[{title='ci',kind='signal',gate='gh_ci',repo='Owner/Name',pr=42},{title='rv',kind='signal',gate='gh_review',repo='owner/name',pr=42},{title='url',kind='signal',gate='gh_ci',pr_url='https://github.com/o/n/pull/7'}]";
    // (gate, repo, pr, pr_url) → matched
    type Row = (
        &'static str,
        Option<&'static str>,
        Option<u64>,
        Option<&'static str>,
        &'static [u64],
    );
    let rows: &[Row] = &[
        ("gh_ci", Some("owner/name"), Some(42), None, &[2]),
        ("GH_CI", Some("OWNER/NAME"), Some(42), None, &[2]),
        ("gh_ci", Some("owner/name"), Some(43), None, &[]),
        ("gh_ci", Some("other/name"), Some(42), None, &[]),
        ("gh_review", Some("owner/name"), Some(42), None, &[3]),
        ("centaur_review", Some("owner/name"), Some(42), None, &[]),
        (
            "gh_ci",
            None,
            None,
            Some("https://github.com/owner/name/pull/42"),
            &[2],
        ),
        (
            "gh_ci",
            None,
            None,
            Some("https://github.com/O/N/pull/7"),
            &[4],
        ),
        ("gh_ci", Some("o/n"), Some(7), None, &[4]),
        ("gh_ci", None, Some(42), None, &[2]),
    ];
    for (gate, repo, pr, url, want) in rows {
        let mut s = Sim::new();
        s.add(GATES);
        let target = SignalTarget::new(gate, *repo, *pr, *url).expect("target");
        let r = s
            .by(
                "http:gh",
                Command::ResolveSignals {
                    target,
                    status: pass(),
                    payload: json!({}),
                },
            )
            .expect("resolve");
        assert_eq!(
            r,
            json!({"matched": want}),
            "{gate} {repo:?} {pr:?} {url:?}"
        );
        for id in *want {
            assert_eq!(s.st(*id), Status::Done, "#{id} resolved");
        }
    }
}

#[test]
fn resolve_matches_every_waiting_gate_across_goals() {
    let mut s = Sim::new();
    let g = "title='g'\ntask=[{title='ci',kind='signal',gate='gh_ci',repo='o/n',pr=1}]";
    s.add(g);
    s.add(g);
    s.add("title='g'\ntask=[{title='a'},{title='ci',kind='signal',gate='gh_ci',repo='o/n',pr=1}]");
    let target = SignalTarget::new("gh_ci", Some("o/n"), Some(1), None).expect("target");
    let r = s
        .cmd(Command::ResolveSignals {
            target,
            status: fail(),
            payload: json!("red"),
        })
        .expect("resolve");
    assert_eq!(
        r,
        json!({"matched": [2, 4]}),
        "the gate not armed yet (#7) is not matched"
    );
    assert_eq!(
        (s.st(2), s.st(4), s.st(7)),
        (Status::Failed, Status::Failed, Status::Pending)
    );
}

// ----- gate timeouts -----

struct TimeoutCase {
    gate: &'static str,
    status: Status,
    reason: &'static str,
}

#[test]
fn gate_timeouts_follow_on_timeout() {
    let cases = [
        TimeoutCase {
            gate: "kind='signal',gate='gh_ci'",
            status: Status::Failed,
            reason: "timed out after 1m",
        },
        TimeoutCase {
            gate: "kind='signal',gate='gh_ci',on_timeout='fail'",
            status: Status::Failed,
            reason: "timed out after 1m",
        },
        TimeoutCase {
            gate: "kind='signal',gate='gh_ci',on_timeout='pass'",
            status: Status::Done,
            reason: "",
        },
        TimeoutCase {
            gate: "kind='signal',gate='gh_ci',on_timeout='escalate'",
            status: Status::PendingReview,
            reason: "timed out: escalated",
        },
        TimeoutCase {
            gate: "kind='human_review'",
            status: Status::Failed,
            reason: "timed out after 1m",
        },
        TimeoutCase {
            gate: "kind='human_review',on_timeout='pass'",
            status: Status::Done,
            reason: "",
        },
        TimeoutCase {
            gate: "kind='human_review',on_timeout='escalate'",
            status: Status::PendingReview,
            reason: "timed out: escalated",
        },
    ];
    for c in &cases {
        let mut s = Sim::new();
        s.add(&format!(
            "title='g'\ntask=[{{title='gate',timeout='1m',{}}}]",
            c.gate
        ));
        let before = s.st(2);
        assert_eq!(
            s.b.next_wakeup(),
            Some(T0 + 60_000),
            "{}: the deadline is the wakeup",
            c.gate
        );
        s.tick(59);
        assert_eq!(s.st(2), before, "{}: not yet", c.gate);
        s.tick(60);
        assert_eq!(
            (s.st(2), s.why(2).as_str()),
            (c.status, c.reason),
            "{}",
            c.gate
        );
        assert!(
            s.audit
                .iter()
                .any(|a| a.task == Some(2) && a.who == "timer" && a.kind == "timeout"),
            "{}: audited",
            c.gate
        );
    }
}

#[test]
fn an_escalated_gate_is_decided_by_a_human() {
    for (decision, status) in [
        (Decision::Approve, Status::Done),
        (Decision::Reject, Status::Failed),
    ] {
        let mut s = Sim::new();
        s.add("title='g'\ntask=[{title='ci',kind='signal',gate='gh_ci',timeout='1m',on_timeout='escalate'}]");
        s.tick(60);
        assert!(
            s.attention
                .iter()
                .any(|(id, why)| *id == 2 && why == "timed out: escalated"),
            "in the inbox"
        );
        s.decide(2, decision, "seen").expect("decide");
        assert_eq!(s.st(2), status, "{decision:?}");
    }
}

#[test]
fn a_gate_timeout_with_retries_reworks_like_a_failed_signal() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='fix',prompt='p'},{title='ci',kind='signal',gate='gh_ci',timeout='1m',retries=1}]");
    s.exit(2, 0, "");
    s.tick(60);
    assert_eq!(s.st(3), Status::Pending);
    assert!(s.why(3).starts_with("retry 1/1: timed out"), "{}", s.why(3));
    assert_eq!(s.spawns(), [2]);
    assert!(
        s.prompt(2).starts_with("p\n\ngh_ci failed: timed out"),
        "{}",
        s.prompt(2)
    );
    s.exit(2, 0, "");
    assert_eq!(s.st(3), Status::Active, "re-armed");
    assert_eq!(
        s.b.next_wakeup(),
        Some(T0 + 120_000),
        "with a fresh deadline"
    );
}

// ----- agent timeouts -----

#[test]
fn an_agent_timeout_kills_and_fails() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',timeout='1m'}]");
    s.started(2);
    let attempt = s.attempt(2);
    assert_eq!(s.b.next_wakeup(), Some(T0 + 60_000));
    s.tick(60);
    assert_eq!(s.kills(), [(2, attempt)]);
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Failed, "timed out after 1m")
    );
}

#[test]
fn an_agent_timeout_with_retries_kills_and_starts_over() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',timeout='1m',retries=1}]");
    s.started(2);
    let old = s.attempt(2);
    s.tick(60);
    assert_eq!(s.kills(), [(2, old)]);
    assert_eq!(s.spawns(), [2], "a new attempt");
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Active, "retry 1/1: timed out after 1m")
    );
    let new = s.attempt(2);
    assert!(new > old);
    s.ev(Event::Exited {
        task: 2,
        attempt: old,
        code: 0,
        signal: Some("SIGTERM".into()),
        tail: String::new(),
    });
    assert_eq!(
        (s.st(2), s.attempt(2), s.t(2).proc),
        (Status::Active, new, Proc::Starting),
        "the killed attempt's exit is stale"
    );
}

//! Human review and approval decisions.

use super::*;

// ----- human review decisions -----

struct DecisionCase {
    name: &'static str,
    decision: Decision,
    comment: &'static str,
    ok: bool,
    review: (Status, &'static str),
    fix: Status,
    ci: Status,
    spawned: &'static [TaskId],
}

#[test]
fn human_review_decisions() {
    let cases = [
        DecisionCase {
            name: "approve",
            decision: Decision::Approve,
            comment: "",
            ok: true,
            review: (Status::Done, ""),
            fix: Status::Done,
            ci: Status::Done,
            spawned: &[5],
        },
        DecisionCase {
            name: "reject with a comment",
            decision: Decision::Reject,
            comment: "not good",
            ok: true,
            review: (Status::Failed, "rejected: not good"),
            fix: Status::Done,
            ci: Status::Done,
            spawned: &[],
        },
        DecisionCase {
            name: "reject without a comment",
            decision: Decision::Reject,
            comment: "",
            ok: true,
            review: (Status::Failed, "rejected by cli"),
            fix: Status::Done,
            ci: Status::Done,
            spawned: &[],
        },
        DecisionCase {
            name: "request changes",
            decision: Decision::RequestChanges,
            comment: "use X",
            ok: true,
            review: (Status::Pending, "changes requested"),
            fix: Status::Active,
            ci: Status::Pending,
            spawned: &[2],
        },
        DecisionCase {
            name: "request changes needs a comment",
            decision: Decision::RequestChanges,
            comment: "  ",
            ok: false,
            review: (Status::PendingReview, "waiting for review"),
            fix: Status::Done,
            ci: Status::Done,
            spawned: &[],
        },
    ];
    for c in &cases {
        let mut s = Sim::new();
        s.add(REVIEW_FLOW);
        to_review(&mut s);
        let r = s.decide(4, c.decision, c.comment);
        assert_eq!(r.is_ok(), c.ok, "{}: {r:?}", c.name);
        assert_eq!((s.st(4), s.why(4).as_str()), c.review, "{}", c.name);
        assert_eq!((s.st(2), s.st(3)), (c.fix, c.ci), "{}: fix and ci", c.name);
        assert_eq!(s.spawns(), c.spawned, "{}", c.name);
    }
}

#[test]
fn a_rejected_review_fails_the_goal_and_holds_back_what_follows() {
    let mut s = Sim::new();
    s.add(REVIEW_FLOW);
    to_review(&mut s);
    s.decide(4, Decision::Reject, "not good").expect("reject");
    assert_eq!(
        (s.st(1), s.why(1).as_str()),
        (Status::Failed, "#4 failed: rejected: not good")
    );
    assert_eq!(s.why(5), "waiting on #4 (failed)");
}

#[test]
fn request_changes_reruns_the_target_with_the_comment_then_everything_passes_again() {
    let mut s = Sim::new();
    s.add(REVIEW_FLOW);
    to_review(&mut s);
    s.decide(4, Decision::RequestChanges, "use X")
        .expect("request changes");
    assert_eq!(
        s.prompt(2),
        "fix it\n\nChanges requested: use X",
        "the comment is appended to the prompt"
    );
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Active, "changes requested")
    );
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Pending, ""),
        "the passed gate between must pass again"
    );
    assert!(s.t(4).attention.is_none(), "the gate is out of the inbox");
    s.exit(2, 0, "");
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Active, "waiting on gh_ci #42"),
        "the gate between re-arms"
    );
    assert_eq!(
        s.st(4),
        Status::Pending,
        "the review waits for the gate again"
    );
    s.signal(3, pass(), json!({})).expect("ci passes again");
    assert_eq!(s.st(4), Status::PendingReview, "the review asks again");
    s.decide(4, Decision::Approve, "").expect("approve");
    assert_eq!(s.spawns(), [5]);
}

#[test]
fn request_changes_without_a_rework_target_is_a_conflict_and_changes_nothing() {
    let mut s = Sim::new();
    s.add(PAR_AR);
    let (statuses, audits, moves) = (snapshot(&s), s.audit.len(), s.moves.len());
    let (msg, status) = conflict(s.decide(3, Decision::RequestChanges, "redo"));
    assert!(msg.contains("no agent task"), "{msg}");
    assert_eq!(status.as_deref(), Some("pending_review"));
    assert_eq!(snapshot(&s), statuses, "no status changed");
    assert_eq!(
        (s.audit.len(), s.moves.len()),
        (audits, moves),
        "nothing recorded for a refused decision"
    );
    assert!(s.fx.is_empty(), "no effects: {:?}", s.fx);
}

#[test]
fn request_changes_resets_only_what_the_gate_depends_on() {
    // The §3 example: fix → CI → (Docs ∥ Reviewer after fix). Docs is independent of the review.
    const EXAMPLE: &str = "title='g'\ntask=[{title='fix',key='fix',prompt='p'},{title='CI',kind='signal',gate='gh_ci',pr=42},{title='Follow-ups',parallel=true,task=[{title='Docs'},{title='Reviewer',kind='human_review',after=['fix']}]}]";
    let mut s = Sim::new();
    s.add(EXAMPLE); // fix 2, CI 3, Follow-ups 4, Docs 5, Reviewer 6
    s.exit(2, 0, "");
    s.signal(3, pass(), json!({})).expect("ci");
    assert_eq!(s.spawns(), [5]);
    assert_eq!(s.st(6), Status::PendingReview);
    s.exit(5, 0, "");
    s.decide(6, Decision::RequestChanges, "rename it")
        .expect("request changes");
    assert_eq!(s.st(2), Status::Active, "fix reruns");
    assert_eq!(
        s.st(3),
        Status::Pending,
        "the CI gate the review depends on must pass again"
    );
    assert_eq!(s.st(5), Status::Done, "independent Docs is not reopened");
}

#[test]
fn request_changes_on_an_agent_under_review() {
    // Session closed (the agent exited 0): a new attempt with the comment.
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',prompt='p',review=true}]");
    s.exit(2, 0, "");
    s.decide(2, Decision::RequestChanges, "more tests")
        .expect("request changes");
    assert_eq!(s.prompt(2), "p\n\nChanges requested: more tests");
    assert_eq!(s.st(2), Status::Active);
    // Session open (the agent called complete --review): the comment is typed into it.
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',prompt='p'}]");
    s.started(2);
    s.complete(2, true, json!({})).expect("complete --review");
    s.decide(2, Decision::RequestChanges, "more tests")
        .expect("request changes");
    assert_eq!(
        s.fx,
        vec![Effect::WriteInput {
            session: (2, 1),
            text: "Changes requested: more tests".into()
        }]
    );
    assert_eq!(s.st(2), Status::Active);
}

#[test]
fn human_approval_gates_are_decided_like_reviews() {
    const HA: &str =
        "title='g'\ntask=[{title='a',prompt='p'},{title='ok',kind='signal',gate='human_approval'}]";
    let mut s = Sim::new();
    s.add(HA);
    s.exit(2, 0, "");
    assert_eq!(s.st(3), Status::Active);
    assert!(
        s.attention.contains(&(3, "approval".into())),
        "in the inbox: {:?}",
        s.attention
    );
    s.by(
        "tui",
        Command::Decide {
            task: 3,
            decision: Decision::Approve,
            comment: None,
            diff_hash: None,
        },
    )
    .expect("approve");
    assert_eq!(s.st(3), Status::Done);
    assert_eq!(s.t(3).result, Some(json!({"approved_by": "tui"})));
    let mut s = Sim::new();
    s.add(HA);
    s.exit(2, 0, "");
    s.decide(3, Decision::RequestChanges, "again")
        .expect("request changes");
    assert_eq!((s.st(3), s.st(2)), (Status::Pending, Status::Active));
    assert_eq!(s.prompt(2), "p\n\nChanges requested: again");
}

#[test]
fn a_decision_on_a_task_that_is_not_waiting_is_a_conflict() {
    let mut s = Sim::new();
    s.add(REVIEW_FLOW);
    for d in [
        Decision::Approve,
        Decision::Reject,
        Decision::RequestChanges,
    ] {
        let (_, status) = conflict(s.decide(2, d, "x"));
        assert_eq!(
            status.as_deref(),
            Some("active"),
            "{d:?} on a running agent"
        );
        let (_, status) = conflict(s.decide(4, d, "x"));
        assert_eq!(
            status.as_deref(),
            Some("pending"),
            "{d:?} on a review not reached yet"
        );
    }
    assert_eq!((s.st(2), s.st(4)), (Status::Active, Status::Pending));
}

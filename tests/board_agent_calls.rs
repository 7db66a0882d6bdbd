//! The pure board on what agents call besides `complete`: artifacts, and the task context
//! (one read model for the route, the CLI, the MCP `status` tool and the first prompt).
//! No processes, clocks or disks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::board_sim::*;
use serde_json::json;
use taskboard::board::{Effect, Event};
use taskboard::command::{Command, CommandError};
use taskboard::model::{Status, TaskId};

#[test]
fn artifacts_are_stored_merged_with_complete_and_fill_later_prompts() {
    let mut s = Sim::new(SEQ);
    s.started(2);
    let r = s.artifact(2, "branch", json!("feat/x")).expect("artifact");
    assert_eq!(r["artifacts"], json!({"branch": "feat/x"}));
    s.artifact(2, "pr_url", json!("https://h/o/r/pull/1"))
        .expect("a second key");
    s.artifact(2, "branch", json!("feat/y"))
        .expect("same key again");
    assert_eq!(
        s.b.task(2).and_then(|t| t.result.clone()),
        Some(json!({"branch": "feat/y", "pr_url": "https://h/o/r/pull/1"})),
        "the same key is replaced, others stay"
    );
    let a = s.audited("artifact");
    assert_eq!(a.len(), 3);
    assert_eq!(
        (a[0].who.as_str(), a[0].payload.clone()),
        ("http:mcp", json!({"key": "branch", "value": "feat/x"}))
    );
    // complete's own artifacts join the ones stored before (they used to replace them).
    let mut arts = serde_json::Map::new();
    arts.insert("report".into(), json!("ok"));
    s.by(
        "http:mcp",
        Command::Complete {
            task: 2,
            summary: "planned".into(),
            review: false,
            artifacts: arts,
        },
    )
    .expect("complete");
    assert_eq!(
        s.b.task(2).and_then(|t| t.result.clone()),
        Some(json!({"branch": "feat/y", "pr_url": "https://h/o/r/pull/1", "report": "ok"}))
    );
    assert_eq!(
        s.spawn(3).prompt,
        "build feat/y",
        "{{result.branch}} is filled"
    );
}

#[test]
fn artifacts_are_refused_with_a_reason_and_change_nothing() {
    let mut s =
        Sim::new("title='g'\ntask=[{title='a'},{title='r',kind='human_review'},{title='later'}]");
    s.started(2);
    for (key, want) in [
        ("", "empty"),
        ("has space", "' '"),
        ("x}y", "'}'"),
        (&"k".repeat(65) as &str, "at most 64"),
    ] {
        match s.artifact(2, key, json!("v")) {
            Err(CommandError::Invalid {
                message,
                field: Some(f),
            }) => {
                assert_eq!(f, "key");
                assert!(message.contains(want), "{key:?}: {message}");
            }
            other => panic!("{key:?}: expected invalid, got {other:?}"),
        }
    }
    for (id, status) in [(4, "pending"), (3, "pending"), (1, "active")] {
        match s.artifact(id, "k", json!("v")) {
            Err(CommandError::Conflict {
                message,
                status: st,
            }) => {
                assert_eq!(st.as_deref(), Some(status), "#{id}: {message}");
                assert!(message.contains("cannot take artifacts"), "{message}");
            }
            other => panic!("#{id}: expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(
        s.artifact(99, "k", json!("v")),
        Err(CommandError::NotFound { id: 99 })
    );
    assert!(s.b.task(2).is_some_and(|t| t.result.is_none()));
    assert!(s.audited("artifact").is_empty(), "refusals record nothing");
    s.complete(2, "done");
    let (_, st) = match s.artifact(2, "k", json!("v")) {
        Err(CommandError::Conflict { message, status }) => (message, status),
        other => panic!("a done task: {other:?}"),
    };
    assert_eq!(st.as_deref(), Some("done"));
}

#[test]
fn the_context_shows_goal_group_siblings_and_what_finished_before() {
    let mut s = Sim::new(
        "title='Ship it'\ntask=[{title='prep',prompt='prep'},{title='Build',task=[{title='plan',prompt='plan it'},{title='build',prompt='build {result.branch}'},{title='docs',prompt='write docs'}]}]",
    );
    // #2 prep, #3 Build (group), #4 plan, #5 build, #6 docs.
    s.started(2);
    s.complete(2, "prepared the repo");
    s.started(4);
    s.artifact(4, "branch", json!("feat/x")).expect("artifact");
    let long = format!("{}TAIL", "p".repeat(2_500));
    s.complete(4, &long);
    let c = s.b.context(5).expect("context of #5");
    assert_eq!((c.task.id, c.goal.id), (5, 1));
    assert_eq!(c.parent.as_ref().map(|p| p.id), Some(3));
    assert!(!c.parallel);
    assert_eq!(c.prompt, "build feat/x");
    let sib: Vec<(TaskId, Status)> = c.siblings.iter().map(|x| (x.id, x.status)).collect();
    assert_eq!(
        sib,
        [(4, Status::Done), (5, Status::Active), (6, Status::Pending)]
    );
    let fin: Vec<(TaskId, &str)> = c.finished.iter().map(|f| (f.task.id, f.relation)).collect();
    assert_eq!(fin, [(2, "dependency"), (4, "sibling")]);
    assert_eq!(c.finished[0].summary.as_deref(), Some("prepared the repo"));
    let cut = c.finished[1].summary.clone().expect("a summary");
    assert!(
        cut.len() < 2_100 && !cut.contains("TAIL") && cut.contains("504 more characters"),
        "long summaries are cut to about 2,000 characters: {} chars",
        cut.len()
    );
    assert_eq!(c.finished[1].result, Some(json!({"branch": "feat/x"})));

    let text = c.text();
    for want in [
        "Task #5 \"build\" (agent, active)",
        "Goal #1 \"Ship it\"",
        "In group #3 \"Build\"",
        "Prompt:\n  build feat/x",
        "#4 plan [done]",
        "#5 build [active]  <- this task",
        "#6 docs [pending]",
        "summary: prepared the repo",
        "branch: feat/x",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    // The JSON form carries the same text and the structured parts.
    let j = c.json();
    assert_eq!(j["text"], json!(text));
    assert_eq!(j["finished"][1]["result"]["branch"], "feat/x");
    assert_eq!(j["siblings"][2]["status"], "pending");

    // The next task's first prompt carries the compact context after its own prompt.
    s.started(5);
    s.artifact(5, "binary", json!("target/app"))
        .expect("artifact");
    s.complete(5, "built it");
    let spec = s.spawn(6);
    assert_eq!(spec.prompt, "write docs");
    let compact = &spec.context;
    for want in [
        "You are task #6 \"docs\" in group #3 \"Build\" of goal #1 \"Ship it\"",
        "#4 plan (done)",
        "Finished: #5 build (done): built it [artifacts: binary=target/app]",
        "Finished: #2 prep (done): prepared the repo",
    ] {
        assert!(compact.contains(want), "missing {want:?} in:\n{compact}");
    }
    assert!(
        compact.len() < 1_500,
        "the compact form stays short: {} bytes",
        compact.len()
    );
    assert!(
        !compact.contains("write docs"),
        "no second copy of the prompt"
    );
}

#[test]
fn the_context_of_a_task_in_a_parallel_group_lists_finished_siblings_and_caps_the_list() {
    let mut tasks = String::new();
    for i in 0..25 {
        tasks.push_str(&format!("{{title='t{i}'}},"));
    }
    tasks.push_str("{title='last'}");
    let mut s = Sim::new(&format!("title='wide'\nparallel=true\ntask=[{tasks}]"));
    for id in 2..=26 {
        s.started(id);
        let attempt = s.b.task(id).expect("task").attempt;
        s.complete(id, &format!("did {id}"));
        // The agent ends on its own after its answer, freeing its slot.
        s.ev(Event::Exited {
            task: id,
            attempt,
            code: 0,
            signal: None,
            tail: String::new(),
        });
    }
    let c = s.b.context(27).expect("context");
    assert!(c.parallel);
    assert_eq!(c.finished.len(), 20, "the latest 20");
    assert_eq!(c.finished_omitted, 5);
    assert_eq!(c.finished[0].task.id, 7);
    assert!(c.finished.iter().all(|f| f.relation == "sibling"));
    assert!(c.text().contains("(5 earlier finished tasks not shown)"));
    assert!(c.compact().contains("17 earlier finished tasks"));
    assert!(s.b.context(99).is_none());
}

/// #2 opens a PR (an agent), #3 waits for CI on the PR #2 names in its `pr_url` artifact.
const PR_FLOW: &str = "title='g'\ntask=[{title='open pr'},{title='ci',kind='signal',gate='gh_ci',pr_url='{result.pr_url}',poll='gh pr checks {result.pr_url}'}]";

#[test]
fn a_gate_waits_on_the_pr_an_earlier_task_stored_as_an_artifact() {
    let mut s = Sim::new(PR_FLOW);
    let spec = &s.b.task(3).expect("gate").spec;
    assert_eq!(
        (spec.pr_url.as_deref(), spec.pr, spec.repo.as_deref()),
        (Some("{result.pr_url}"), None, None),
        "kept as written until the gate arms"
    );
    s.started(2);
    s.artifact(2, "pr_url", json!("https://github.com/Org/Repo/pull/77"))
        .expect("artifact");
    s.complete(2, "opened the PR");
    let gate = s.b.task(3).expect("gate");
    assert_eq!(
        (gate.status, gate.reason.as_str()),
        (Status::Active, "waiting on gh_ci #77")
    );
    assert_eq!(
        (gate.spec.repo.as_deref(), gate.spec.pr),
        (Some("Org/Repo"), Some(77))
    );
    let target = taskboard::signal_match::SignalTarget::new(
        "gh_ci",
        None,
        None,
        Some("https://github.com/org/repo/pull/77"),
    )
    .expect("target");
    assert_eq!(s.b.matching_signals(&target), [3]);
    s.ev(Event::Tick); // the poll is due at once
    let polls: Vec<&str> =
        s.fx.iter()
            .filter_map(|e| match e {
                Effect::RunPoll { command, .. } => Some(command.as_str()),
                _ => None,
            })
            .collect();
    assert_eq!(polls, ["gh pr checks https://github.com/Org/Repo/pull/77"]);
}

#[test]
fn a_gate_whose_pr_url_result_is_missing_is_blocked_with_the_reason() {
    let mut s = Sim::new(PR_FLOW);
    s.started(2);
    s.complete(2, "forgot the artifact");
    let gate = s.b.task(3).expect("gate");
    assert_eq!(gate.status, Status::Blocked);
    assert!(
        gate.reason.contains("{result.pr_url}") && gate.reason.contains("no finished task"),
        "{}",
        gate.reason
    );
    assert!(gate
        .attention
        .as_deref()
        .is_some_and(|a| a.starts_with("blocked:")));
}

//! The pure board on what agents call besides `complete`: artifacts, the task context (one
//! read model for the route, the CLI, the MCP `status` tool and the first prompt), and the
//! grace period that lets an agent's own `complete`/`subtasks` call get its answer before
//! its session is stopped. No processes, clocks or disks.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use taskboard::board::{AuditEvent, Board, Effect, Event, Limits, SpawnSpec, SESSION_GRACE_MS};
use taskboard::command::{Command, CommandError};
use taskboard::model::{Status, TaskId};

const T0: i64 = 1_700_000_000_000;

struct Sim {
    b: Board,
    now: i64,
    fx: Vec<Effect>,
    audit: Vec<AuditEvent>,
}

impl Sim {
    fn new(toml: &str) -> Sim {
        Sim::limited(toml, 4)
    }

    fn limited(toml: &str, max_agents: usize) -> Sim {
        let mut s = Sim {
            b: Board::new(
                Limits {
                    max_agents,
                    spawns_per_minute: 60,
                },
                uuid::Uuid::nil(),
            ),
            now: T0,
            fx: Vec::new(),
            audit: Vec::new(),
        };
        let goal =
            taskboard::goalfile::parse_str(toml, "test.toml", Path::new("/tmp"), &BTreeMap::new())
                .expect("goal parses");
        s.by(
            "cli",
            Command::AddGoal {
                goal: Box::new(goal),
            },
        )
        .expect("goal added");
        s
    }

    fn ev(&mut self, e: Event) -> Option<Result<Value, CommandError>> {
        let h = self.b.handle(e, self.now);
        self.audit.extend(self.b.take_changes().audit);
        self.fx = h.effects;
        h.reply
    }

    fn by(&mut self, who: &str, cmd: Command) -> Result<Value, CommandError> {
        self.ev(Event::Command {
            cmd,
            who: who.into(),
        })
        .expect("a command always gets a reply")
    }

    fn started(&mut self, id: TaskId) {
        let attempt = self.b.task(id).expect("task").attempt;
        self.ev(Event::Spawned {
            task: id,
            attempt,
            pid: 1000 + id as u32,
            workdir: None,
        });
    }

    fn at_ms(&mut self, ms: i64) {
        self.now = T0 + ms;
        self.ev(Event::Tick);
    }

    fn st(&self, id: TaskId) -> Status {
        self.b.task(id).expect("task").status
    }

    fn kills(&self) -> Vec<(TaskId, u32)> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                Effect::Kill { task, attempt } => Some((*task, *attempt)),
                _ => None,
            })
            .collect()
    }

    fn spawn(&self, id: TaskId) -> &SpawnSpec {
        self.fx
            .iter()
            .find_map(|e| match e {
                Effect::Spawn(s) if s.task == id => Some(s),
                _ => None,
            })
            .unwrap_or_else(|| panic!("#{id} was not spawned: {:?}", self.fx))
    }

    fn audited(&self, kind: &str) -> Vec<&AuditEvent> {
        self.audit.iter().filter(|a| a.kind == kind).collect()
    }

    fn artifact(&mut self, id: TaskId, key: &str, value: Value) -> Result<Value, CommandError> {
        self.by(
            "http:mcp",
            Command::Artifact {
                task: id,
                key: key.into(),
                value,
            },
        )
    }

    fn complete(&mut self, id: TaskId, summary: &str) {
        self.by(
            "http:mcp",
            Command::Complete {
                task: id,
                summary: summary.into(),
                review: false,
                artifacts: Default::default(),
            },
        )
        .expect("complete");
    }

    fn split(&mut self, id: TaskId, tasks: Value) -> Result<Value, CommandError> {
        let tasks = taskboard::goalfile::parse_subtasks(&json!({ "tasks": tasks }))
            .expect("subtasks parse");
        self.by("http:agent", Command::Subtasks { task: id, tasks })
    }
}

/// #2 plan, #3 build, #4 docs: a sequence under the goal.
const SEQ: &str = "title='Ship it'\ntask=[{title='plan',prompt='plan it'},{title='build',prompt='build {result.branch}'},{title='docs',prompt='write docs'}]";

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

//! Table-driven tests of the pure board against ARCHITECTURE §2: every rule, one table (or
//! test) per rule, each case asserting what would break if the rule were broken. No
//! processes, clocks or disks: events go in, effects and task states come out.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use taskboard::board::{AuditEvent, Board, Effect, Event, Limits, Transition};
use taskboard::command::{Command, CommandError, Decision, SignalStatus};
use taskboard::model::{Proc, Status, TaskId};
use taskboard::signal_match::SignalTarget;

type Reply = Result<Value, CommandError>;

/// The board's clock at "0 s" in these tests.
const T0: i64 = 1_700_000_000_000;

/// A board plus everything it said so far.
struct Sim {
    b: Board,
    now: i64,
    /// Effects of the last event only.
    fx: Vec<Effect>,
    audit: Vec<AuditEvent>,
    moves: Vec<Transition>,
    attention: Vec<(TaskId, String)>,
}

impl Sim {
    fn new() -> Sim {
        Sim::limits(4, 60)
    }

    fn limits(max_agents: usize, spawns_per_minute: u32) -> Sim {
        let b = Board::new(
            Limits {
                max_agents,
                spawns_per_minute,
            },
            uuid::Uuid::nil(),
        );
        Sim {
            b,
            now: T0,
            fx: Vec::new(),
            audit: Vec::new(),
            moves: Vec::new(),
            attention: Vec::new(),
        }
    }

    fn ev(&mut self, e: Event) -> Option<Reply> {
        let h = self.b.handle(e, self.now);
        let ch = self.b.take_changes();
        self.audit.extend(ch.audit);
        self.moves.extend(ch.transitions);
        self.attention.extend(ch.attention);
        self.fx = h.effects;
        h.reply
    }

    fn by(&mut self, who: &str, cmd: Command) -> Reply {
        self.ev(Event::Command {
            cmd,
            who: who.into(),
        })
        .expect("a command always gets a reply")
    }

    fn cmd(&mut self, cmd: Command) -> Reply {
        self.by("cli", cmd)
    }

    fn add(&mut self, toml: &str) -> TaskId {
        let goal =
            taskboard::goalfile::parse_str(toml, "test.toml", Path::new("/tmp"), &BTreeMap::new())
                .expect("goal parses");
        let id = self
            .cmd(Command::AddGoal {
                goal: Box::new(goal),
            })
            .expect("goal added");
        id["id"].as_u64().expect("id")
    }

    fn at(&mut self, secs: i64) {
        self.now = T0 + secs * 1000;
    }

    fn tick(&mut self, secs: i64) {
        self.at(secs);
        self.ev(Event::Tick);
    }

    fn t(&self, id: TaskId) -> &taskboard::model::Task {
        self.b.task(id).unwrap_or_else(|| panic!("no task #{id}"))
    }

    fn st(&self, id: TaskId) -> Status {
        self.t(id).status
    }

    fn why(&self, id: TaskId) -> String {
        self.t(id).reason.clone()
    }

    fn attempt(&self, id: TaskId) -> u32 {
        self.t(id).attempt
    }

    /// The driver reports that the current attempt's process started.
    fn started(&mut self, id: TaskId) {
        let attempt = self.attempt(id);
        self.ev(Event::Spawned {
            task: id,
            attempt,
            pid: 1000 + id as u32,
            workdir: None,
        });
    }

    /// The current attempt's process exits (it is reported started first if it was not).
    fn exit(&mut self, id: TaskId, code: i32, tail: &str) {
        if self.t(id).proc == Proc::Starting {
            self.started(id);
        }
        let attempt = self.attempt(id);
        self.ev(Event::Exited {
            task: id,
            attempt,
            code,
            signal: None,
            tail: tail.into(),
        });
    }

    fn signal(&mut self, id: TaskId, status: SignalStatus, payload: Value) -> Reply {
        self.cmd(Command::Signal {
            task: id,
            status,
            payload,
        })
    }

    fn decide(&mut self, id: TaskId, decision: Decision, comment: &str) -> Reply {
        let comment = (!comment.is_empty()).then(|| comment.to_string());
        self.cmd(Command::Decide {
            task: id,
            decision,
            comment,
            diff_hash: None,
        })
    }

    fn complete(&mut self, id: TaskId, review: bool, artifacts: Value) -> Reply {
        let artifacts = artifacts.as_object().cloned().unwrap_or_default();
        self.cmd(Command::Complete {
            task: id,
            summary: "did it".into(),
            review,
            artifacts,
        })
    }

    /// Tasks the last event spawned, sorted.
    fn spawns(&self) -> Vec<TaskId> {
        let mut v: Vec<TaskId> = self
            .fx
            .iter()
            .filter_map(|e| {
                if let Effect::Spawn(s) = e {
                    Some(s.task)
                } else {
                    None
                }
            })
            .collect();
        v.sort_unstable();
        v
    }

    fn prompt(&self, id: TaskId) -> String {
        self.fx
            .iter()
            .find_map(|e| match e {
                Effect::Spawn(s) if s.task == id => Some(s.prompt.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("#{id} was not spawned: {:?}", self.fx))
    }

    fn kills(&self) -> Vec<(TaskId, u32)> {
        self.fx
            .iter()
            .filter_map(|e| {
                if let Effect::Kill { task, attempt } = e {
                    Some((*task, *attempt))
                } else {
                    None
                }
            })
            .collect()
    }

    fn polls(&self) -> Vec<TaskId> {
        self.fx
            .iter()
            .filter_map(|e| {
                if let Effect::RunPoll { task, .. } = e {
                    Some(*task)
                } else {
                    None
                }
            })
            .collect()
    }
}

fn conflict(r: Reply) -> (String, Option<String>) {
    match r {
        Err(CommandError::Conflict { message, status }) => (message, status),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn pass() -> SignalStatus {
    SignalStatus::Pass
}

fn fail() -> SignalStatus {
    SignalStatus::Fail
}

// ----- goals used by several tables (ids: the goal is #1, tasks follow in file order) -----

const SEQ2: &str = "title='g'\ntask=[{title='a'},{title='b'}]";
const SEQ3: &str = "title='g'\ntask=[{title='a'},{title='b'},{title='c'}]";
const PAR3: &str = "title='g'\nparallel=true\ntask=[{title='a'},{title='b'},{title='c'}]";
/// #2 agent, #3 human_review, in parallel.
const PAR_AR: &str = "title='g'\nparallel=true\ntask=[{title='a'},{title='r',kind='human_review'}]";
/// #2 agent, #3 gh_ci gate on PR 42, #4 agent.
const SEQ_CI: &str = "title='g'\ntask=[{title='fix',prompt='fix it'},{title='ci',kind='signal',gate='gh_ci',repo='o/n',pr=42},{title='after'}]";

// ----- derived group status -----

struct GroupCase {
    name: &'static str,
    toml: &'static str,
    setup: fn(&mut Sim),
    group: TaskId,
    status: Status,
    reason: &'static str,
}

fn block(s: &mut Sim, id: TaskId, reason: &str) {
    s.cmd(Command::Block {
        task: id,
        reason: reason.into(),
    })
    .expect("block");
}

#[test]
fn group_status_is_derived_with_its_reason_line() {
    const NESTED: &str =
        "title='g'\ntask=[{title='G',parallel=true,task=[{title='x'},{title='y'}]},{title='z'}]";
    const PAR_A_CI: &str = "title='g'\nparallel=true\ntask=[{title='a'},{title='ci',kind='signal',gate='gh_ci',pr=42}]";
    let cases = [
        GroupCase { name: "one agent running", toml: SEQ2, setup: |_| {}, group: 1, status: Status::Active, reason: "1 running" },
        GroupCase { name: "three running", toml: PAR3, setup: |_| {}, group: 1, status: Status::Active, reason: "3 running" },
        GroupCase {
            name: "failed beats active and pending_review",
            toml: "title='g'\nparallel=true\ntask=[{title='a'},{title='b'},{title='r',kind='human_review'}]",
            setup: |s| s.exit(2, 3, "boom\n"),
            group: 1,
            status: Status::Failed,
            reason: "#2 failed: exit 3: boom",
        },
        GroupCase {
            name: "failed beats blocked",
            toml: PAR3,
            setup: |s| {
                block(s, 3, "no creds");
                s.exit(2, 1, "");
            },
            group: 1,
            status: Status::Failed,
            reason: "#2 failed: exit 1",
        },
        GroupCase { name: "blocked beats active", toml: PAR3, setup: |s| block(s, 2, "no creds"), group: 1, status: Status::Blocked, reason: "blocked: no creds" },
        GroupCase {
            name: "spawn failure blocks the group",
            toml: PAR3,
            setup: |s| {
                let attempt = s.attempt(3);
                s.ev(Event::SpawnFailed { task: 3, attempt, error: "worktree exists".into() });
            },
            group: 1,
            status: Status::Blocked,
            reason: "blocked: worktree exists",
        },
        GroupCase { name: "active beats pending_review", toml: PAR_AR, setup: |_| {}, group: 1, status: Status::Active, reason: "1 needs you" },
        GroupCase { name: "pending_review beats done", toml: PAR_AR, setup: |s| s.exit(2, 0, ""), group: 1, status: Status::PendingReview, reason: "1 needs you" },
        GroupCase {
            name: "two need you",
            toml: "title='g'\nparallel=true\ntask=[{title='r1',kind='human_review'},{title='r2',kind='human_review'}]",
            setup: |_| {},
            group: 1,
            status: Status::PendingReview,
            reason: "2 need you",
        },
        GroupCase {
            name: "done and skipped is done",
            toml: PAR3,
            setup: |s| {
                s.exit(2, 0, "");
                s.cmd(Command::Skip { task: 3 }).expect("skip");
                s.cmd(Command::Skip { task: 4 }).expect("skip");
            },
            group: 1,
            status: Status::Done,
            reason: "",
        },
        GroupCase {
            name: "all skipped is done",
            toml: SEQ2,
            setup: |s| drop(s.cmd(Command::Skip { task: 1 }).expect("skip")),
            group: 1,
            status: Status::Done,
            reason: "",
        },
        GroupCase {
            name: "done and pending is pending",
            toml: SEQ2,
            setup: |s| {
                s.cmd(Command::Pause).expect("pause");
                s.exit(2, 0, "");
            },
            group: 1,
            status: Status::Pending,
            reason: "",
        },
        GroupCase { name: "a waiting gate explains an active group", toml: SEQ_CI, setup: |s| s.exit(2, 0, ""), group: 1, status: Status::Active, reason: "waiting on gh_ci #42" },
        GroupCase {
            name: "a gate without a PR",
            toml: "title='g'\ntask=[{title='d',kind='signal',gate='deploy'}]",
            setup: |_| {},
            group: 1,
            status: Status::Active,
            reason: "waiting on deploy",
        },
        GroupCase { name: "running wins over a waiting gate", toml: PAR_A_CI, setup: |_| {}, group: 1, status: Status::Active, reason: "1 running" },
        GroupCase {
            name: "a pane that rang the bell needs you",
            toml: PAR3,
            setup: |s| drop(s.ev(Event::NeedsYou { task: 2, reason: "bell".into() })),
            group: 1,
            status: Status::Active,
            reason: "1 needs you",
        },
        GroupCase {
            name: "a human_approval gate needs you",
            toml: "title='g'\ntask=[{title='ok',kind='signal',gate='human_approval'}]",
            setup: |_| {},
            group: 1,
            status: Status::Active,
            reason: "1 needs you",
        },
        GroupCase { name: "nested failure names the leaf (goal)", toml: NESTED, setup: |s| s.exit(3, 2, ""), group: 1, status: Status::Failed, reason: "#3 failed: exit 2" },
        GroupCase { name: "nested failure names the leaf (group)", toml: NESTED, setup: |s| s.exit(3, 2, ""), group: 2, status: Status::Failed, reason: "#3 failed: exit 2" },
        GroupCase { name: "nested group counts its own running", toml: NESTED, setup: |_| {}, group: 2, status: Status::Active, reason: "2 running" },
        GroupCase { name: "a nested group not started yet is pending", toml: "title='g'\ntask=[{title='a'},{title='G',task=[{title='x'}]}]", setup: |_| {}, group: 3, status: Status::Pending, reason: "" },
        GroupCase {
            name: "an agent under review needs you",
            toml: "title='g'\ntask=[{title='a',review=true}]",
            setup: |s| s.exit(2, 0, ""),
            group: 1,
            status: Status::PendingReview,
            reason: "1 needs you",
        },
        GroupCase { name: "failure is explained even when a review waits", toml: PAR_AR, setup: |s| s.exit(2, 1, ""), group: 1, status: Status::Failed, reason: "#2 failed: exit 1" },
        GroupCase {
            name: "retry un-fails the group (never stored as truth)",
            toml: PAR3,
            setup: |s| {
                s.exit(2, 1, "");
                s.cmd(Command::Retry { task: 2 }).expect("retry");
            },
            group: 1,
            status: Status::Active,
            reason: "3 running",
        },
    ];
    for c in &cases {
        let mut s = Sim::new();
        s.add(c.toml);
        (c.setup)(&mut s);
        assert_eq!(
            (s.st(c.group), s.why(c.group).as_str()),
            (c.status, c.reason),
            "case: {}",
            c.name
        );
    }
}

#[test]
fn group_with_nothing_started_is_pending() {
    let mut s = Sim::new();
    s.cmd(Command::Pause).expect("pause");
    s.add(PAR3);
    assert_eq!((s.st(1), s.why(1).as_str()), (Status::Pending, ""));
    assert_eq!(s.why(2), "paused");
}

// ----- order and dependencies -----

#[derive(Clone, Copy, Debug)]
enum Step {
    Add,
    Ok(TaskId),
    Fail(TaskId),
    Pass(TaskId),
    Approve(TaskId),
    Skip(TaskId),
    Retry(TaskId),
}

fn step(s: &mut Sim, st: Step) {
    let r = match st {
        Step::Add => return,
        Step::Ok(id) => return s.exit(id, 0, ""),
        Step::Fail(id) => return s.exit(id, 1, "broke"),
        Step::Pass(id) => s.signal(id, pass(), json!({})),
        Step::Approve(id) => s.decide(id, Decision::Approve, ""),
        Step::Skip(id) => s.cmd(Command::Skip { task: id }),
        Step::Retry(id) => s.cmd(Command::Retry { task: id }),
    };
    r.unwrap_or_else(|e| panic!("{st:?}: {e}"));
}

#[test]
fn tasks_start_in_order_and_after_their_dependencies() {
    type Row = (
        &'static str,
        &'static str,
        &'static [(Step, &'static [TaskId])],
    );
    let rows: &[Row] = &[
        ("sequential runs in file order", SEQ3, &[(Step::Add, &[2]), (Step::Ok(2), &[3]), (Step::Ok(3), &[4]), (Step::Ok(4), &[])]),
        ("parallel starts all", PAR3, &[(Step::Add, &[2, 3, 4])]),
        (
            "after holds a parallel task back",
            "title='g'\nparallel=true\ntask=[{title='late',after=['slow']},{title='slow',key='slow'}]",
            &[(Step::Add, &[3]), (Step::Ok(3), &[2])],
        ),
        (
            "after on a group waits for the whole group",
            "title='g'\nparallel=true\ntask=[{title='G',key='g',task=[{title='x'},{title='y'}]},{title='z',after=['g']}]",
            &[(Step::Add, &[3]), (Step::Ok(3), &[4]), (Step::Ok(4), &[5])],
        ),
        (
            "after on a nested task",
            "title='g'\nparallel=true\ntask=[{title='G',task=[{title='x',key='x'},{title='y'}]},{title='z',after=['x']}]",
            &[(Step::Add, &[3]), (Step::Ok(3), &[4, 5])],
        ),
        (
            "after on two tasks waits for both",
            "title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',key='b'},{title='c',after=['a','b']}]",
            &[(Step::Add, &[2, 3]), (Step::Ok(2), &[]), (Step::Ok(3), &[4])],
        ),
        (
            "a skipped dependency lets the dependent run",
            "title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',after=['a']}]",
            &[(Step::Add, &[2]), (Step::Skip(2), &[3])],
        ),
        (
            "a parallel group inside a sequence",
            "title='g'\ntask=[{title='a'},{title='P',parallel=true,task=[{title='x'},{title='y'}]},{title='c'}]",
            &[(Step::Add, &[2]), (Step::Ok(2), &[4, 5]), (Step::Ok(4), &[]), (Step::Ok(5), &[6])],
        ),
        (
            "a sequence inside a parallel goal",
            "title='g'\nparallel=true\ntask=[{title='S',task=[{title='x'},{title='y'}]},{title='z'}]",
            &[(Step::Add, &[3, 5]), (Step::Ok(5), &[]), (Step::Ok(3), &[4])],
        ),
        ("a signal gate holds the next sibling", SEQ_CI, &[(Step::Add, &[2]), (Step::Ok(2), &[]), (Step::Pass(3), &[4])]),
        ("a human gate holds the next sibling", "title='g'\ntask=[{title='a'},{title='r',kind='human_review'},{title='c'}]", &[(Step::Ok(2), &[]), (Step::Approve(3), &[4])]),
        ("an agent under review holds the next sibling", "title='g'\ntask=[{title='a',review=true},{title='b'}]", &[(Step::Ok(2), &[]), (Step::Approve(2), &[3])]),
        ("skipping a running task lets the next one start", SEQ3, &[(Step::Skip(2), &[3])]),
        ("a retried task runs again before its successor", SEQ2, &[(Step::Fail(2), &[]), (Step::Retry(2), &[2]), (Step::Ok(2), &[3])]),
    ];
    for (name, toml, steps) in rows {
        let mut s = Sim::new();
        s.add(toml);
        for (i, (st, want)) in steps.iter().enumerate() {
            step(&mut s, *st);
            assert_eq!(s.spawns(), *want, "{name}: step {i} ({st:?})");
        }
    }
}

#[test]
fn gates_arm_only_when_their_turn_comes() {
    let mut s = Sim::new();
    s.add(SEQ_CI);
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Pending, ""),
        "gate waits for #2"
    );
    let err = s.signal(3, pass(), json!({}));
    assert_eq!(
        conflict(err).1.as_deref(),
        Some("pending"),
        "a gate that is not armed refuses signals"
    );
    s.exit(2, 0, "");
    assert_eq!(
        (s.st(3), s.why(3).as_str()),
        (Status::Active, "waiting on gh_ci #42")
    );
}

// ----- priority -----

/// Starts tasks one at a time (each exits 0 at once) and returns the order they started in.
fn start_order(s: &mut Sim) -> Vec<TaskId> {
    let mut order = Vec::new();
    for _ in 0..20 {
        let started = s.spawns();
        assert!(
            started.len() <= 1,
            "a limit of one let {started:?} start together"
        );
        let Some(&id) = started.first() else { break };
        order.push(id);
        s.exit(id, 0, "");
    }
    order
}

#[test]
fn priority_orders_ready_tasks_when_a_limit_lets_only_some_start() {
    // (name, goal, global max_agents, expected start order)
    let rows: &[(&str, &str, usize, &[TaskId])] = &[
        ("higher first", "title='g'\nparallel=true\ntask=[{title='a'},{title='b',priority=5},{title='c',priority=1}]", 1, &[3, 4, 2]),
        ("equal priority keeps file order", PAR3, 1, &[2, 3, 4]),
        ("negative priorities", "title='g'\nparallel=true\ntask=[{title='a',priority=-1},{title='b'},{title='c',priority=-5}]", 1, &[3, 2, 4]),
        ("ties broken by file order", "title='g'\nparallel=true\ntask=[{title='a',priority=5},{title='b',priority=9},{title='c',priority=9}]", 1, &[3, 4, 2]),
        ("never reorders a sequential group", "title='g'\ntask=[{title='a'},{title='b',priority=9},{title='c',priority=5}]", 1, &[2, 3, 4]),
        (
            "tasks whose after is satisfied at the same moment",
            "title='g'\nparallel=true\ntask=[{title='a',key='a'},{title='b',after=['a'],priority=1},{title='c',after=['a'],priority=9}]",
            1,
            &[2, 4, 3],
        ),
        (
            "a high priority in a sequence waits its turn",
            "title='g'\nparallel=true\ntask=[{title='S',task=[{title='x'},{title='y',priority=9}]},{title='z',priority=5}]",
            1,
            &[5, 3, 4],
        ),
        ("the goal's own max_agents", "title='g'\nmax_agents=1\nparallel=true\ntask=[{title='a',priority=1},{title='b',priority=3},{title='c',priority=2}]", 4, &[3, 4, 2]),
    ];
    for (name, toml, max, want) in rows {
        let mut s = Sim::limits(*max, 60);
        s.add(toml);
        assert_eq!(start_order(&mut s), *want, "{name}");
    }
}

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

// ----- human review decisions -----

/// #2 fix (agent), #3 gh_ci gate, #4 human_review, #5 ship (agent).
const REVIEW_FLOW: &str = "title='g'\ntask=[{title='fix',prompt='fix it'},{title='ci',kind='signal',gate='gh_ci',pr=42},{title='r',kind='human_review'},{title='ship'}]";

fn to_review(s: &mut Sim) {
    s.exit(2, 0, "");
    s.signal(3, pass(), json!({})).expect("ci passes");
    assert_eq!(s.st(4), Status::PendingReview, "the review is waiting");
}

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

fn snapshot(s: &Sim) -> Vec<(TaskId, Status, String)> {
    s.b.tasks()
        .map(|t| (t.id, t.status, t.reason.clone()))
        .collect()
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

// ----- signals -----

/// #2 fix, #3 gh_ci gate on o/n#42 with `retries`, #4 ship (its prompt uses the gate's result).
fn ci_goal(retries: u32) -> String {
    format!("title='g'\ntask=[{{title='fix',prompt='fix it'}},{{title='ci',kind='signal',gate='gh_ci',repo='o/n',pr=42,retries={retries}}},{{title='ship',prompt='ship {{result.url}}'}}]")
}

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

// ----- concurrency limits -----

#[test]
fn max_agents_holds_ready_tasks_pending_with_the_reason() {
    // (name, global max, goal, started at once, a held task, its reason)
    type Row = (
        &'static str,
        usize,
        &'static str,
        &'static [TaskId],
        TaskId,
        &'static str,
    );
    let rows: &[Row] = &[
        (
            "global limit",
            2,
            PAR3,
            &[2, 3],
            4,
            "waiting for a free agent slot (2 running)",
        ),
        (
            "goal limit",
            4,
            "title='g'\nmax_agents=1\nparallel=true\ntask=[{title='a'},{title='b'}]",
            &[2],
            3,
            "waiting for a free agent slot (1 running)",
        ),
        (
            "goal limit below the global one",
            3,
            "title='g'\nmax_agents=2\nparallel=true\ntask=[{title='a'},{title='b'},{title='c'}]",
            &[2, 3],
            4,
            "waiting for a free agent slot (2 running)",
        ),
    ];
    for (name, max, toml, started, held, reason) in rows {
        let mut s = Sim::limits(*max, 60);
        s.add(toml);
        assert_eq!(s.spawns(), *started, "{name}");
        assert_eq!(
            (s.st(*held), s.why(*held).as_str()),
            (Status::Pending, *reason),
            "{name}"
        );
        s.exit(started[0], 0, "");
        assert_eq!(s.spawns(), [*held], "{name}: a slot freed up");
        assert_eq!(s.why(*held), "", "{name}: the reason goes once it runs");
    }
}

#[test]
fn max_agents_is_shared_by_all_goals() {
    let mut s = Sim::limits(1, 60);
    s.add(SEQ2);
    s.add(SEQ2);
    assert!(s.spawns().is_empty(), "the second goal starts nothing");
    assert_eq!(
        (s.st(2), s.why(5).as_str()),
        (Status::Active, "waiting for a free agent slot (1 running)")
    );
    s.exit(2, 0, "");
    assert_eq!(s.spawns().len(), 1, "still one at a time: {:?}", s.spawns());
}

#[test]
fn a_retrying_task_keeps_its_slot() {
    let mut s = Sim::limits(1, 60);
    s.add("title='g'\nparallel=true\ntask=[{title='a',retries=1},{title='b',priority=9}]");
    assert_eq!(s.spawns(), [3], "priority first");
    s.exit(3, 0, "");
    assert_eq!(s.spawns(), [2]);
    s.exit(2, 1, "");
    assert_eq!(s.spawns(), [2], "the retry starts in the slot it held");
}

#[test]
fn a_rework_waits_for_a_free_slot_too() {
    let mut s = Sim::limits(1, 60);
    s.add("title='g'\ntask=[{title='fix'},{title='r',kind='human_review'}]");
    s.add("title='h'\ntask=[{title='other'}]");
    s.exit(2, 0, "");
    assert_eq!(s.spawns(), [5], "the other goal takes the slot");
    s.decide(3, Decision::RequestChanges, "again")
        .expect("request changes");
    assert!(s.spawns().is_empty(), "max_agents 1 is already running");
    assert_eq!(s.st(2), Status::Active);
    s.exit(5, 0, "");
    assert_eq!(s.spawns(), [2], "the rework starts when the slot frees up");
}

#[test]
fn spawns_per_minute_holds_the_rest_until_the_window_moves() {
    let mut s = Sim::limits(10, 5);
    s.add("title='g'\nparallel=true\ntask=[{title='a'},{title='b'},{title='c'},{title='d'},{title='e'},{title='f'},{title='h'}]");
    assert_eq!(s.spawns(), [2, 3, 4, 5, 6]);
    for id in [7, 8] {
        assert_eq!(
            (s.st(id), s.why(id).as_str()),
            (Status::Pending, "spawn limit: 5/min")
        );
    }
    assert_eq!(s.b.next_wakeup(), Some(T0 + 60_000));
    assert_eq!(
        s.b.goal_stats(1).live,
        7,
        "tasks held by the limit are still live"
    );
    s.tick(59);
    assert!(s.spawns().is_empty(), "not before 60 s");
    s.tick(60);
    assert_eq!(s.spawns(), [7, 8]);
}

#[test]
fn spawn_limits_per_goal() {
    // A goal's own limit.
    let mut s = Sim::limits(10, 5);
    s.add(
        "title='g'\nspawns_per_minute=2\nparallel=true\ntask=[{title='a'},{title='b'},{title='c'}]",
    );
    assert_eq!(s.spawns(), [2, 3]);
    assert_eq!(s.why(4), "spawn limit: 2/min");
    // Finished spawns still count in the window.
    let mut s = Sim::limits(10, 2);
    s.add(SEQ3);
    s.exit(2, 0, "");
    s.exit(3, 0, "");
    assert_eq!(
        (s.st(4), s.why(4).as_str()),
        (Status::Pending, "spawn limit: 2/min")
    );
    // The window is per goal: another goal has its own.
    let mut s = Sim::limits(10, 3);
    s.add(PAR3);
    s.add(PAR3);
    assert_eq!(s.spawns(), [6, 7, 8]);
    assert_eq!(
        s.b.tasks().filter(|t| t.status == Status::Active).count(),
        8,
        "both goals and their tasks"
    );
}

#[test]
fn a_retry_loop_is_throttled_by_the_spawn_limit() {
    let mut s = Sim::limits(4, 3);
    s.add("title='g'\ntask=[{title='a',retries=10}]");
    s.exit(2, 1, "");
    s.exit(2, 1, "");
    assert_eq!(s.spawns(), [2], "third spawn");
    s.exit(2, 1, "");
    assert!(s.spawns().is_empty(), "no fourth spawn within the minute");
    assert_eq!(s.b.next_wakeup(), Some(T0 + 60_000));
    s.tick(60);
    assert_eq!(s.spawns(), [2]);
}

#[test]
fn a_spawn_failure_blocks_with_the_error_and_never_retries_silently() {
    let mut s = Sim::new();
    s.add("title='g'\ntask=[{title='a',retries=3},{title='b'}]");
    let attempt = s.attempt(2);
    s.ev(Event::SpawnFailed {
        task: 2,
        attempt,
        error: "worktree exists".into(),
    });
    assert_eq!(
        (s.st(2), s.why(2).as_str()),
        (Status::Blocked, "worktree exists")
    );
    assert!(s.spawns().is_empty(), "no retry: {:?}", s.fx);
    assert_eq!(
        s.t(2).attention.as_deref(),
        Some("blocked: worktree exists")
    );
    assert!(
        s.attention
            .contains(&(2, "blocked: worktree exists".into())),
        "announced to the inbox"
    );
    assert_eq!(s.why(3), "waiting on #2 (blocked)");
    s.cmd(Command::Retry { task: 2 }).expect("retry");
    assert_eq!(s.spawns(), [2], "a human retry spawns again");
}

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

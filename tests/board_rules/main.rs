//! Table-driven tests of the pure board against ARCHITECTURE §2: every rule, one table (or
//! test) per rule, each case asserting what would break if the rule were broken. No
//! processes, clocks or disks: events go in, effects and task states come out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

fn block(s: &mut Sim, id: TaskId, reason: &str) {
    s.cmd(Command::Block {
        task: id,
        reason: reason.into(),
    })
    .expect("block");
}

/// #2 fix, #3 gh_ci gate on o/n#42 with `retries`, #4 ship (its prompt uses the gate's result).
fn ci_goal(retries: u32) -> String {
    format!("title='g'\ntask=[{{title='fix',prompt='fix it'}},{{title='ci',kind='signal',gate='gh_ci',repo='o/n',pr=42,retries={retries}}},{{title='ship',prompt='ship {{result.url}}'}}]")
}

fn snapshot(s: &Sim) -> Vec<(TaskId, Status, String)> {
    s.b.tasks()
        .map(|t| (t.id, t.status, t.reason.clone()))
        .collect()
}

fn to_review(s: &mut Sim) {
    s.exit(2, 0, "");
    s.signal(3, pass(), json!({})).expect("ci passes");
    assert_eq!(s.st(4), Status::PendingReview, "the review is waiting");
}

/// #2 fix (agent), #3 gh_ci gate, #4 human_review, #5 ship (agent).
const REVIEW_FLOW: &str = "title='g'\ntask=[{title='fix',prompt='fix it'},{title='ci',kind='signal',gate='gh_ci',pr=42},{title='r',kind='human_review'},{title='ship'}]";

mod audit;
mod commands;
mod exits;
mod groups;
mod limits;
mod races;
mod recovery;
mod reviews;
mod signals;

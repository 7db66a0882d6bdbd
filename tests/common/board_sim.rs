//! A pure board with a recorder (events in; effects and audit out), for the tests of what
//! agents call (artifacts, context, grace periods). No processes, clocks or disks.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use taskboard::board::{AuditEvent, Board, Effect, Event, Limits, SpawnSpec};
use taskboard::command::{Command, CommandError};
use taskboard::model::{Status, TaskId};

pub const T0: i64 = 1_700_000_000_000;

pub struct Sim {
    pub b: Board,
    pub now: i64,
    pub fx: Vec<Effect>,
    pub audit: Vec<AuditEvent>,
}

impl Sim {
    pub fn new(toml: &str) -> Sim {
        Sim::limited(toml, 4)
    }

    pub fn limited(toml: &str, max_agents: usize) -> Sim {
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

    pub fn ev(&mut self, e: Event) -> Option<Result<Value, CommandError>> {
        let h = self.b.handle(e, self.now);
        self.audit.extend(self.b.take_changes().audit);
        self.fx = h.effects;
        h.reply
    }

    pub fn by(&mut self, who: &str, cmd: Command) -> Result<Value, CommandError> {
        self.ev(Event::Command {
            cmd,
            who: who.into(),
        })
        .expect("a command always gets a reply")
    }

    pub fn started(&mut self, id: TaskId) {
        let attempt = self.b.task(id).expect("task").attempt;
        self.ev(Event::Spawned {
            task: id,
            attempt,
            pid: 1000 + id as u32,
            workdir: None,
        });
    }

    pub fn at_ms(&mut self, ms: i64) {
        self.now = T0 + ms;
        self.ev(Event::Tick);
    }

    pub fn st(&self, id: TaskId) -> Status {
        self.b.task(id).expect("task").status
    }

    pub fn kills(&self) -> Vec<(TaskId, u32)> {
        self.fx
            .iter()
            .filter_map(|e| match e {
                Effect::Kill { task, attempt } => Some((*task, *attempt)),
                _ => None,
            })
            .collect()
    }

    pub fn spawn(&self, id: TaskId) -> &SpawnSpec {
        self.fx
            .iter()
            .find_map(|e| match e {
                Effect::Spawn(s) if s.task == id => Some(s),
                _ => None,
            })
            .unwrap_or_else(|| panic!("#{id} was not spawned: {:?}", self.fx))
    }

    pub fn audited(&self, kind: &str) -> Vec<&AuditEvent> {
        self.audit.iter().filter(|a| a.kind == kind).collect()
    }

    pub fn artifact(&mut self, id: TaskId, key: &str, value: Value) -> Result<Value, CommandError> {
        self.by(
            "http:mcp",
            Command::Artifact {
                task: id,
                key: key.into(),
                value,
            },
        )
    }

    pub fn complete(&mut self, id: TaskId, summary: &str) {
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

    pub fn split(&mut self, id: TaskId, tasks: Value) -> Result<Value, CommandError> {
        let tasks = taskboard::goalfile::parse_subtasks(&json!({ "tasks": tasks }))
            .expect("subtasks parse");
        self.by("http:agent", Command::Subtasks { task: id, tasks })
    }
}

/// #2 plan, #3 build, #4 docs: a sequence under the goal.
pub const SEQ: &str = "title='Ship it'\ntask=[{title='plan',prompt='plan it'},{title='build',prompt='build {result.branch}'},{title='docs',prompt='write docs'}]";

//! The pure board's rules for `land` tasks, conflicts and results feeding gates, in the
//! style of `tests/board_rules/`: events in, effects and task states out. No processes, clocks,
//! disks or git: the land job's outcome and the watcher's findings are events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use taskboard::board::{Board, Effect, Event, LandJob, Limits};
use taskboard::command::{Command, CommandError, SignalStatus};
use taskboard::model::{Conflict, Kind, LandStrategy, Status, TaskId, WorkDir};
use taskboard::signal_match::SignalTarget;

type Reply = Result<Value, CommandError>;

const T0: i64 = 1_700_000_000_000;

struct Sim {
    b: Board,
    now: i64,
    fx: Vec<Effect>,
    audit: Vec<String>,
    conflicts_changed: Vec<TaskId>,
}

impl Sim {
    fn new() -> Sim {
        Sim {
            b: Board::new(
                Limits {
                    max_agents: 8,
                    spawns_per_minute: 100,
                },
                uuid::Uuid::nil(),
            ),
            now: T0,
            fx: Vec::new(),
            audit: Vec::new(),
            conflicts_changed: Vec::new(),
        }
    }

    fn ev(&mut self, e: Event) -> Option<Reply> {
        self.now += 1000;
        let h = self.b.handle(e, self.now);
        let ch = self.b.take_changes();
        self.audit.extend(ch.audit.into_iter().map(|a| a.kind));
        self.conflicts_changed.extend(ch.conflicts);
        self.fx = h.effects;
        h.reply
    }

    fn cmd(&mut self, cmd: Command) -> Reply {
        self.ev(Event::Command {
            cmd,
            who: "cli".into(),
        })
        .expect("a reply")
    }

    /// Adds a goal (repo /repo, recorded branch `main`).
    fn add(&mut self, toml: &str) -> TaskId {
        let mut goal =
            taskboard::goalfile::parse_str(toml, "test.toml", Path::new("/repo"), &BTreeMap::new())
                .expect("goal parses");
        if let Some(g) = goal.spec.goal.as_mut() {
            g.branch = Some("main".into());
        }
        let v = self
            .cmd(Command::AddGoal {
                goal: Box::new(goal),
            })
            .expect("added");
        v["id"].as_u64().expect("id")
    }

    fn t(&self, id: TaskId) -> &taskboard::model::Task {
        self.b.task(id).expect("task")
    }

    fn st(&self, id: TaskId) -> Status {
        self.t(id).status
    }

    /// The agent's attempt started (in a worktree on `taskboard/b/<id>` unless the task
    /// has `worktree = false`), then exits with `code`.
    fn run_agent(&mut self, id: TaskId, code: i32) {
        let attempt = self.t(id).attempt;
        let workdir = self.t(id).spec.worktree.then(|| WorkDir {
            path: format!("/data/worktrees/1-{id}").into(),
            branch: format!("taskboard/b/{id}"),
            base: "base".into(),
        });
        self.ev(Event::Spawned {
            task: id,
            attempt,
            pid: 100 + id as u32,
            workdir,
        });
        self.ev(Event::Exited {
            task: id,
            attempt,
            code,
            signal: None,
            tail: String::new(),
        });
    }

    fn land_job(&self) -> Option<LandJob> {
        self.fx.iter().find_map(|e| match e {
            Effect::Land(j) => Some(j.clone()),
            _ => None,
        })
    }

    fn landed(&mut self, id: TaskId, outcome: Result<Value, String>) {
        let attempt = self.t(id).attempt;
        self.ev(Event::Landed {
            task: id,
            attempt,
            outcome,
        });
    }
}

mod gates;
mod on_demand;
mod runs;

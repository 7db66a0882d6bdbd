//! Property tests of the pure board (ARCHITECTURE §2): random goal trees, then random event
//! sequences (commands on any id, spawns, exits, stale exits, polls, timers). After every
//! event: a terminal task changed only by retry / request changes / a failing signal with
//! retries; each group's status is derived from its children; at most `max_agents` sessions;
//! every status change has its transition and audit event; a finished task has no session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "prop_support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use proptest::prelude::*;
use serde_json::{json, Value};
use taskboard::board::{Board, Effect, Event, Limits};
use taskboard::command::{Command, Decision, SignalStatus};
use taskboard::model::{Kind, NewTask, Proc, Status, TaskId, TaskSpec};
use taskboard::signal_match::SignalTarget;

const T0: i64 = 1_700_000_000_000;

/// One step of the script: an operation and two numbers it picks with.
#[derive(Clone, Debug)]
struct Op {
    code: u8,
    a: usize,
    b: usize,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        (0u8..24, any::<usize>(), any::<usize>()).prop_map(|(code, a, b)| Op { code, a, b }),
        1..80,
    )
}

/// The board plus a model of the driver: sessions starting, running, being killed; polls.
struct Sim {
    b: Board,
    now: i64,
    starting: Vec<(TaskId, u32)>,
    running: Vec<(TaskId, u32)>,
    killing: Vec<(TaskId, u32)>,
    /// Spawns in flight that were stopped before they started.
    doomed: Vec<(TaskId, u32)>,
    polls: Vec<(TaskId, u32)>,
    max_agents: usize,
}

fn pick<T: Copy>(v: &mut Vec<T>, n: usize) -> Option<T> {
    (!v.is_empty()).then(|| v.remove(n % v.len()))
}

impl Sim {
    fn ids(&self) -> Vec<TaskId> {
        self.b.tasks().map(|t| t.id).collect()
    }

    /// Any id, sometimes one that does not exist.
    fn any_id(&self, n: usize) -> TaskId {
        let ids = self.ids();
        if n.is_multiple_of(10) || ids.is_empty() {
            return (n % 64) as TaskId;
        }
        ids[n % ids.len()]
    }

    fn cmd(&self, op: &Op) -> Option<Command> {
        let task = self.any_id(op.a);
        let status = if op.b.is_multiple_of(2) {
            SignalStatus::Pass
        } else {
            SignalStatus::Fail
        };
        let comment = (!op.b.is_multiple_of(5)).then(|| format!("comment {}", op.b % 7));
        Some(match op.code {
            6 | 7 => Command::Signal {
                task,
                status,
                payload: json!({"summary": "ci says so"}),
            },
            8 | 9 => Command::Decide {
                task,
                decision: [
                    Decision::Approve,
                    Decision::Reject,
                    Decision::RequestChanges,
                ][op.b % 3],
                comment,
                diff_hash: None,
            },
            10 => Command::Complete {
                task,
                summary: "done".into(),
                review: op.b.is_multiple_of(2),
                artifacts: Default::default(),
            },
            11 => Command::Block {
                task,
                reason: "stuck".into(),
            },
            12 => Command::Retry { task },
            13 => Command::Skip { task },
            14 => Command::Stop { task },
            15 if op.b.is_multiple_of(4) => Command::Delete { task },
            15 => Command::Artifact {
                task,
                key: ["pr_url", "bad key", "branch"][op.b % 3].into(),
                value: json!(op.b % 5),
            },
            16 => {
                if op.b.is_multiple_of(2) {
                    Command::Pause
                } else {
                    Command::Resume
                }
            }
            22 | 23 => Command::Subtasks {
                task,
                tasks: (0..1 + op.b % 3)
                    .map(|i| NewTask {
                        kind: Kind::Agent,
                        spec: TaskSpec {
                            title: format!("sub {i}"),
                            command: Some(vec!["true".into()]),
                            retries: (op.b % 2) as u32,
                            ..TaskSpec::default()
                        },
                        after: Vec::new(),
                        children: Vec::new(),
                    })
                    .collect(),
            },
            17 => Command::ResolveSignals {
                target: SignalTarget::new(
                    ["gh_ci", "custom_gate", "gh_review"][op.b % 3],
                    Some("O/R"),
                    Some(1),
                    None,
                )
                .ok()?,
                status,
                payload: Value::Null,
            },
            _ => return None,
        })
    }

    /// Turns an op into an event against the current state (None: nothing to do).
    fn event(&mut self, op: &Op) -> Option<Event> {
        Some(match op.code {
            0 | 1 => {
                self.now += (op.a % 90_000) as i64;
                Event::Tick
            }
            2 => {
                let (task, attempt) = pick(&mut self.starting, op.a)?;
                self.running.push((task, attempt));
                Event::Spawned {
                    task,
                    attempt,
                    pid: 1000 + task as u32,
                    workdir: None,
                }
            }
            3 => {
                let (task, attempt) = pick(&mut self.starting, op.a)?;
                Event::SpawnFailed {
                    task,
                    attempt,
                    error: "no such program".into(),
                }
            }
            4 | 5 => {
                let killed = op.b.is_multiple_of(3) && !self.killing.is_empty();
                let (task, attempt) = if killed {
                    pick(&mut self.killing, op.a)?
                } else {
                    pick(&mut self.running, op.a)?
                };
                Event::Exited {
                    task,
                    attempt,
                    code: [0, 1, 3][op.b % 3],
                    signal: killed.then(|| "SIGTERM".to_string()),
                    tail: "last words".into(),
                }
            }
            18 => {
                let (task, attempt) = pick(&mut self.polls, op.a)?;
                Event::PollFinished {
                    task,
                    attempt,
                    code: [0, 1, 8][op.b % 3],
                    stdout: "poll output".into(),
                }
            }
            19 => {
                // A stale exit: an attempt that is not the task's current one.
                let t = self.b.task(self.any_id(op.a))?;
                if t.attempt == 0 {
                    return None;
                }
                let (task, attempt) = (t.id, t.attempt - 1);
                // The driver reports an exit only after the spawn it ends (a session whose
                // agent's call overtook its spawn is still starting: no exit yet).
                if self.starting.contains(&(task, attempt)) {
                    return None;
                }
                // An exit is only ever reported for a process that ended: if that attempt
                // still runs in the model (a session in its grace period), it is gone now.
                self.running.retain(|x| *x != (task, attempt));
                self.killing.retain(|x| *x != (task, attempt));
                Event::Exited {
                    task,
                    attempt,
                    code: (op.b % 3) as i32,
                    signal: None,
                    tail: String::new(),
                }
            }
            20 => Event::DiffReady {
                task: self.any_id(op.a),
                hash: format!("h{}", op.b % 3),
                stat: "1 file".into(),
            },
            21 => Event::InputSent {
                task: self.any_id(op.a),
            },
            _ => Event::Command {
                cmd: self.cmd(op)?,
                who: "prop".into(),
            },
        })
    }

    fn apply_effects(&mut self, fx: &[Effect]) {
        for e in fx {
            match e {
                Effect::Spawn(s) => self.starting.push((s.task, s.attempt)),
                Effect::Kill { task, attempt } => {
                    if let Some(i) = self.running.iter().position(|x| *x == (*task, *attempt)) {
                        let s = self.running.remove(i);
                        self.killing.push(s);
                    } else if self.starting.contains(&(*task, *attempt)) {
                        // Killed on arrival: the board sends another Kill once it has started.
                        self.doomed.push((*task, *attempt));
                    }
                }
                Effect::RunPoll { task, attempt, .. } => self.polls.push((*task, *attempt)),
                _ => {}
            }
        }
    }
}

/// §2: any child failed → failed; blocked → blocked; active → active; pending_review →
/// pending_review; all done/skipped → done; otherwise pending (also with no children).
fn derived(children: &[Status]) -> Status {
    let any = |s: Status| children.contains(&s);
    if any(Status::Failed) {
        Status::Failed
    } else if any(Status::Blocked) {
        Status::Blocked
    } else if any(Status::Active) {
        Status::Active
    } else if any(Status::PendingReview) {
        Status::PendingReview
    } else if !children.is_empty() && children.iter().all(|s| s.is_satisfied()) {
        Status::Done
    } else {
        Status::Pending
    }
}

/// May this event reopen a terminal task?
fn may_reopen(e: &Event, audit: &[taskboard::board::AuditEvent]) -> bool {
    let failing_signal = audit
        .iter()
        .any(|a| a.kind == "signal" && a.payload["status"] == "fail");
    match e {
        Event::Command { cmd, .. } => match cmd {
            Command::Retry { .. } => true,
            Command::Decide { decision, .. } => *decision == Decision::RequestChanges,
            Command::Signal { .. } | Command::ResolveSignals { .. } => failing_signal,
            _ => false,
        },
        Event::Tick | Event::PollFinished { .. } => failing_signal,
        _ => false,
    }
}

fn check(
    sim: &Sim,
    before: &HashMap<TaskId, Status>,
    e: &Event,
    ch: &taskboard::board::Changes,
) -> Result<(), TestCaseError> {
    let b = &sim.b;
    let mut sessions = 0usize;
    let mut per_goal: BTreeMap<TaskId, usize> = BTreeMap::new();
    for t in b.tasks() {
        let was = before.get(&t.id).copied();
        if t.kind != Kind::Group {
            if let Some(w) = was.filter(|w| w.is_terminal() && *w != t.status) {
                prop_assert!(
                    may_reopen(e, &ch.audit),
                    "#{} {} → {} on {:?}",
                    t.id,
                    w,
                    t.status,
                    e
                );
            }
        } else {
            let kids: Vec<Status> = t
                .children
                .iter()
                .filter_map(|c| b.task(*c))
                .map(|c| c.status)
                .collect();
            prop_assert_eq!(
                t.status,
                derived(&kids),
                "group #{} with children {:?}",
                t.id,
                kids
            );
        }
        if was.is_some_and(|w| w != t.status) {
            let audited = ch.audit.iter().any(|a| {
                a.task == Some(t.id) && a.kind == "status" && a.payload["to"] == json!(t.status)
            });
            prop_assert!(
                audited,
                "#{} became {} without an audit event",
                t.id,
                t.status
            );
        }
        prop_assert_eq!(
            t.status.is_terminal(),
            t.completed_at.is_some(),
            "#{} completed_at",
            t.id
        );
        if t.kind == Kind::Agent && t.proc != Proc::Idle {
            prop_assert!(
                !t.status.is_terminal(),
                "#{} is {} with a session {:?}",
                t.id,
                t.status,
                t.proc
            );
            sessions += 1;
            *per_goal.entry(t.goal).or_default() += 1;
        }
    }
    // The processes themselves (a pinned session between tasks belongs to no task).
    let live = sim.running.len()
        + sim
            .starting
            .iter()
            .filter(|x| !sim.doomed.contains(x))
            .count();
    prop_assert!(
        live <= sim.max_agents,
        "{} sessions running or starting > max_agents {}",
        live,
        sim.max_agents
    );
    prop_assert!(
        sessions <= sim.max_agents,
        "{} sessions > max_agents {}",
        sessions,
        sim.max_agents
    );
    for (g, n) in per_goal {
        let cap = b
            .task(g)
            .and_then(|t| t.spec.goal.as_ref())
            .and_then(|s| s.max_agents);
        prop_assert!(
            cap.is_none_or(|c| n <= c),
            "goal #{} runs {} > {:?}",
            g,
            n,
            cap
        );
    }
    for tr in &ch.transitions {
        if tr.from != tr.to {
            let audited = ch.audit.iter().any(|a| {
                a.task == Some(tr.id)
                    && a.kind == "status"
                    && a.payload["from"] == json!(tr.from)
                    && a.payload["to"] == json!(tr.to)
            });
            prop_assert!(audited, "transition {:?} has no audit event", tr);
        }
    }
    Ok(())
}

fn run(trees: Vec<support::Tree>, max_agents: usize, script: Vec<Op>) -> Result<(), TestCaseError> {
    let mut sim = Sim {
        b: Board::new(
            Limits {
                max_agents,
                spawns_per_minute: 1000,
            },
            uuid::Uuid::nil(),
        ),
        now: T0,
        starting: Vec::new(),
        running: Vec::new(),
        killing: Vec::new(),
        doomed: Vec::new(),
        polls: Vec::new(),
        max_agents,
    };
    let mut events: Vec<Event> = Vec::new();
    for t in &trees {
        let goal = taskboard::goalfile::parse_str(
            &support::render(t),
            "g.toml",
            Path::new("/tmp"),
            &BTreeMap::new(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
        events.push(Event::Command {
            cmd: Command::AddGoal {
                goal: Box::new(goal),
            },
            who: "prop".into(),
        });
    }
    let mut ops = script.into_iter();
    loop {
        let e = match events.pop() {
            Some(e) => e,
            None => match ops.next() {
                Some(op) => match sim.event(&op) {
                    Some(e) => e,
                    None => continue,
                },
                None => break,
            },
        };
        let before: HashMap<TaskId, Status> = sim.b.tasks().map(|t| (t.id, t.status)).collect();
        let out = sim.b.handle(e.clone(), sim.now);
        let ch = sim.b.take_changes();
        sim.apply_effects(&out.effects);
        check(&sim, &before, &e, &ch)
            .map_err(|err| TestCaseError::fail(format!("{err}\nafter {e:?}")))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(support::cases()))]

    #[test]
    fn random_event_sequences_keep_the_board_invariants(
        trees in prop::collection::vec(support::tree(), 1..3),
        max_agents in 1usize..4,
        script in ops(),
    ) {
        run(trees, max_agents, script)?;
    }
}

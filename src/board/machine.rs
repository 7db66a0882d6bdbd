//! The board's pure core: `handle(event, now) -> effects`. The only code that changes task
//! state. No IO, no clock, no recursion: dispatch is one bounded pass per event.

use std::collections::{HashMap, VecDeque};

use serde_json::json;

use super::effects::{AuditEvent, Changes, Event, Handled, Transition};
use crate::model::{Millis, Status, Task, TaskId};

/// Board-wide limits from the config (a goal may lower or raise its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_agents: usize,
    pub spawns_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_agents: 4,
            spawns_per_minute: 5,
        }
    }
}

/// Per-goal facts the scheduling pass computes, used to decide when a run is over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GoalStats {
    /// Tasks running, ready to start, or waiting at a gate.
    pub live: usize,
    pub failed_or_blocked: usize,
}

pub struct Board {
    /// Indexed by id; `None` for ids never used or deleted.
    pub(super) tasks: Vec<Option<Task>>,
    pub(super) goals: Vec<TaskId>,
    pub(super) paused: bool,
    pub(super) limits: Limits,
    /// Spawn times per goal in the last 60 s.
    pub(super) spawn_log: HashMap<TaskId, VecDeque<Millis>>,
    pub(super) stats: HashMap<TaskId, GoalStats>,
    /// Earliest time something needs a Tick (deadline, poll, spawn window).
    pub(super) wakeup: Option<Millis>,
    pub(super) changes: Changes,
    /// Seed for session ids, so they are chosen without randomness inside the core.
    pub(super) session_seed: uuid::Uuid,
    /// Scratch space of the scheduling pass (indexed by id), kept to avoid reallocating.
    pub(super) agg: Vec<super::schedule::Agg>,
    /// Live pinned sessions by goal (not stored: sessions die with the board).
    pub(super) pinned: super::pinned::PinnedSessions,
    /// Config `allow` rules that answer agents' permission requests without asking.
    pub(super) allow_rules: Vec<crate::model::AllowRule>,
    /// Last permission request number handed out (this run).
    pub(super) next_request: u64,
    /// Sessions waiting out their grace period after their agent's own call ended them
    /// (not stored either).
    pub(super) closing: Vec<super::closing::Closing>,
    /// Reviews whose diff a crash cut short, found by `recover` (review, task diffed): their
    /// `ComputeDiff` leaves with the next handled event's effects (effects leave only there).
    pub(super) rediff: Vec<(TaskId, TaskId)>,
}

impl Board {
    pub fn new(limits: Limits, session_seed: uuid::Uuid) -> Board {
        Board {
            tasks: vec![None],
            goals: Vec::new(),
            paused: false,
            limits,
            spawn_log: HashMap::new(),
            stats: HashMap::new(),
            wakeup: None,
            changes: Changes::default(),
            session_seed,
            agg: Vec::new(),
            pinned: Default::default(),
            allow_rules: Vec::new(),
            next_request: 0,
            closing: Vec::new(),
            rediff: Vec::new(),
        }
    }

    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.tasks.get(id as usize).and_then(Option::as_ref)
    }

    pub(super) fn task_mut(&mut self, id: TaskId) -> Option<&mut Task> {
        self.tasks.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// Tasks that exist, in id order.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().flatten()
    }

    pub fn goals(&self) -> &[TaskId] {
        &self.goals
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn goal_stats(&self, goal: TaskId) -> GoalStats {
        self.stats.get(&goal).copied().unwrap_or_default()
    }

    /// When the driver should send the next `Tick`, if ever.
    pub fn next_wakeup(&self) -> Option<Millis> {
        self.wakeup
    }

    /// Everything changed since the last call, for one store transaction.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    /// The single entry point: apply one event at time `now`.
    pub fn handle(&mut self, event: Event, now: Millis) -> Handled {
        let mut out = Handled::default();
        match event {
            Event::Command { cmd, who } => {
                let reply = self.command(cmd, &who, now, &mut out.effects);
                out.reply = Some(reply);
            }
            Event::Spawned {
                task,
                attempt,
                pid,
                workdir,
            } => self.spawned(task, attempt, pid, workdir, now, &mut out.effects),
            Event::DiffReady { task, hash, stat } => self.diff_ready(task, hash, stat, now),
            Event::InputSent { task } => self.clear_flag(task),
            Event::SpawnFailed {
                task,
                attempt,
                error,
            } => self.spawn_failed(task, attempt, error, now, &mut out.effects),
            Event::Exited {
                task,
                attempt,
                code,
                signal,
                tail,
            } => {
                if self.task(task).is_some_and(|t| t.attempt == attempt) {
                    self.forget_session_state(task, now);
                }
                self.exited(task, attempt, (code, signal, tail), now, &mut out.effects)
            }
            Event::PollFinished {
                task,
                attempt,
                code,
                stdout,
            } => self.poll_finished(task, attempt, code, stdout, now, &mut out.effects),
            Event::NeedsYou { task, reason } => self.needs_you(task, reason),
            Event::Tick => self.tick(now, &mut out.effects),
            Event::ConflictsChecked { goal, found } => self.conflicts_checked(goal, found, now),
            Event::Landed {
                task,
                attempt,
                outcome,
            } => self.landed(task, attempt, outcome, now),
        }
        for (task, of) in std::mem::take(&mut self.rediff) {
            self.request_diff(task, of, &mut out.effects);
        }
        self.schedule(now, &mut out.effects);
        out
    }

    // ----- helpers shared by the handlers -----

    pub(super) fn audit(
        &mut self,
        task: Option<TaskId>,
        who: &str,
        kind: &str,
        payload: serde_json::Value,
        now: Millis,
    ) {
        self.changes.audit.push(AuditEvent {
            task,
            at: now,
            who: who.to_string(),
            kind: kind.to_string(),
            payload,
        });
    }

    /// Changes a task's status and reason, recording the transition and an audit event.
    pub(super) fn set_status(
        &mut self,
        id: TaskId,
        to: Status,
        reason: impl Into<String>,
        note: &str,
        who: &str,
        now: Millis,
    ) {
        let reason = reason.into();
        let Some(t) = self.task_mut(id) else { return };
        let from = t.status;
        if from == to && t.reason == reason {
            return;
        }
        t.status = to;
        t.reason = reason.clone();
        if to == Status::Active && t.started_at.is_none() {
            t.started_at = Some(now);
        }
        if to.is_terminal() {
            t.completed_at = Some(now);
            t.deadline = None;
            t.next_poll = None;
        } else {
            t.completed_at = None;
        }
        if to != Status::PendingReview && to != Status::Blocked {
            t.attention = None;
        }
        let (goal, title) = (t.goal, t.spec.title.clone());
        self.changes.dirty.insert(id);
        if from != to {
            self.changes.transitions.push(Transition {
                id,
                goal,
                title,
                from,
                to,
                reason: reason.clone(),
                note: note.to_string(),
                at: now,
            });
            self.audit(
                Some(id),
                who,
                "status",
                json!({"from": from, "to": to, "reason": reason, "note": note}),
                now,
            );
        }
    }

    pub(super) fn flag(&mut self, id: TaskId, why: String) {
        if let Some(t) = self.task_mut(id) {
            if t.attention.as_deref() != Some(why.as_str()) {
                t.attention = Some(why.clone());
                self.changes.dirty.insert(id);
                self.changes.attention.push((id, why));
            }
        }
    }

    pub(super) fn touch(&mut self, id: TaskId) {
        self.changes.dirty.insert(id);
    }
}

impl Board {
    /// Restores the paused flag from the store (no audit: nothing changed).
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }
}

impl Board {
    /// A read-only board built from stored rows (for `status`): no scheduling is run.
    pub fn from_tasks(tasks: Vec<crate::model::Task>, paused: bool) -> Board {
        let mut b = Board::new(Limits::default(), uuid::Uuid::nil());
        for t in tasks {
            b.insert_loaded(t);
        }
        b.paused = paused;
        b
    }
}

impl Board {
    /// Adds a goal without scheduling anything (the store is written while no board runs;
    /// the next board schedules it).
    pub fn add_goal_offline(
        &mut self,
        goal: crate::model::NewTask,
        who: &str,
        now: Millis,
    ) -> TaskId {
        self.add_goal(goal, who, now)
    }
}

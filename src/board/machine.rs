//! The board's pure core: `handle(event, now) -> effects`. The only code that changes task
//! state. No IO, no clock, no recursion: dispatch is one bounded pass per event.

use std::collections::{HashMap, VecDeque};

use serde_json::json;

use super::effects::{AuditEvent, Changes, Effect, Event, Handled, Transition};
use crate::model::{Kind, Millis, Proc, Status, Task, TaskId};

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
    /// Effects raised by helpers that have no effect list at hand; drained by `handle`.
    pub(super) queued: Vec<Effect>,
    /// Live pinned sessions by goal (not stored: sessions die with the board).
    pub(super) pinned: super::pinned::PinnedSessions,
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
            queued: Vec::new(),
            pinned: Default::default(),
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
            } => self.spawn_failed(task, attempt, error, now),
            Event::Exited {
                task,
                attempt,
                code,
                signal,
                tail,
            } => self.exited(task, attempt, code, signal, tail, now),
            Event::PollFinished {
                task,
                attempt,
                code,
                stdout,
            } => self.poll_finished(task, attempt, code, stdout, now, &mut out.effects),
            Event::NeedsYou { task, reason } => self.needs_you(task, reason),
            Event::Tick => self.tick(now, &mut out.effects),
        }
        self.schedule(now, &mut out.effects);
        out.effects.append(&mut self.queued);
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

    // ----- process events -----

    fn diff_ready(&mut self, id: TaskId, hash: String, stat: String, now: Millis) {
        if !self.task(id).is_some_and(|t| t.awaits_decision()) {
            return;
        }
        if let Some(t) = self.task_mut(id) {
            t.diff_hash = Some(hash.clone());
            t.diff_stat = Some(stat);
        }
        self.touch(id);
        self.audit(Some(id), "board", "diff", json!({ "hash": hash }), now);
    }

    /// Asks the driver for the review diff of `of`'s work, to show on `task`.
    pub(super) fn request_diff(&mut self, task: TaskId, of: TaskId) {
        let Some(w) = self.task(of).and_then(|t| t.workdir.clone()) else {
            return;
        };
        let Some(repo) = self.task(of).and_then(|t| self.goal_repo(t.goal)) else {
            return;
        };
        if let Some(t) = self.task_mut(task) {
            t.diff_hash = None;
            t.diff_stat = None;
        }
        self.queued.push(Effect::ComputeDiff {
            task,
            repo,
            base: w.base,
            branch: w.branch,
        });
    }

    fn spawned(
        &mut self,
        id: TaskId,
        attempt: u32,
        pid: u32,
        workdir: Option<crate::model::WorkDir>,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        let current = self
            .task(id)
            .is_some_and(|t| t.attempt == attempt && t.proc == Proc::Starting);
        if !current {
            // Stopped, retried or deleted while the spawn was in flight: end the straggler.
            effects.push(Effect::Kill { task: id, attempt });
            self.audit(
                Some(id),
                "board",
                "stale_spawn",
                json!({"attempt": attempt, "pid": pid}),
                now,
            );
            return;
        }
        if let Some(t) = self.task_mut(id) {
            t.proc = Proc::Running { pid };
            t.resume = false;
            if workdir.is_some() {
                t.workdir = workdir;
            }
        }
        self.pinned_spawned(id, attempt, pid);
        self.touch(id);
        self.audit(
            Some(id),
            "board",
            "spawned",
            json!({"attempt": attempt, "pid": pid}),
            now,
        );
    }

    fn spawn_failed(&mut self, id: TaskId, attempt: u32, error: String, now: Millis) {
        let _ = self.pinned_gone(id, attempt);
        let current = self
            .task(id)
            .is_some_and(|t| t.attempt == attempt && t.proc == Proc::Starting);
        if !current {
            return;
        }
        if let Some(t) = self.task_mut(id) {
            t.proc = Proc::Idle;
        }
        self.audit(
            Some(id),
            "board",
            "spawn_failed",
            json!({"attempt": attempt, "error": error}),
            now,
        );
        if !self.task(id).is_some_and(|t| t.status == Status::Active) {
            return;
        }
        if self.fallback_to_pinned(id, &error, now) {
            return;
        }
        self.set_status(id, Status::Blocked, error.clone(), "", "board", now);
        self.flag(id, format!("blocked: {error}"));
    }

    fn exited(
        &mut self,
        id: TaskId,
        attempt: u32,
        code: i32,
        signal: Option<String>,
        tail: String,
        now: Millis,
    ) {
        if let Some(current) = self.pinned_gone(id, attempt) {
            // A goal's pinned session died: the task it served fails (or retries) with the
            // exit code, whatever it was; a pinned task only completes through `complete`.
            self.audit(
                Some(id),
                "board",
                "pinned_session_exited",
                json!({"attempt": attempt, "code": code, "serving": current}),
                now,
            );
            if let Some(cur) =
                current.filter(|c| self.task(*c).is_some_and(|t| t.status == Status::Active))
            {
                self.attempt_failed(
                    cur,
                    code,
                    signal.as_deref(),
                    &tail,
                    "pinned session exited: ",
                    now,
                );
            }
            return;
        }
        let Some(t) = self.task(id) else { return };
        if t.attempt != attempt || t.proc == Proc::Idle {
            self.audit(
                Some(id),
                "board",
                "stale_exit",
                json!({"attempt": attempt, "code": code}),
                now,
            );
            return;
        }
        let (status, started) = (t.status, t.started_at);
        if let Some(t) = self.task_mut(id) {
            t.proc = Proc::Idle;
        }
        self.touch(id);
        self.audit(
            Some(id),
            "board",
            "exited",
            json!({"attempt": attempt, "code": code}),
            now,
        );
        if status != Status::Active {
            // Completed, blocked or stopped already: that status sticks.
            return;
        }
        let secs = started.map(|s| ((now - s) / 1000).max(0)).unwrap_or(0);
        if code == 0 && signal.is_none() {
            self.finish_agent(id, false, &format!("exit 0, {secs} s"), "board", now);
            return;
        }
        self.attempt_failed(id, code, signal.as_deref(), &tail, "", now);
    }

    /// An attempt of an active agent task ended badly: retry while retries remain, else
    /// fail with the exit and the last output line.
    fn attempt_failed(
        &mut self,
        id: TaskId,
        code: i32,
        signal: Option<&str>,
        tail: &str,
        prefix: &str,
        now: Millis,
    ) {
        let Some(t) = self.task(id) else { return };
        let (retries, used, started) = (t.spec.retries, t.retries_used, t.started_at);
        let secs = started.map(|s| ((now - s) / 1000).max(0)).unwrap_or(0);
        if let Some(t) = self.task_mut(id) {
            t.proc = Proc::Idle;
        }
        let last = tail
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_string();
        let how = match signal {
            Some(sig) => format!("{prefix}killed by {sig}"),
            None => format!("{prefix}exit {code}"),
        };
        let why = if last.is_empty() {
            how.clone()
        } else {
            format!("{how}: {last}")
        };
        if used < retries {
            self.retry_attempt(id, used + 1, retries, &why, now);
        } else {
            self.set_status(
                id,
                Status::Failed,
                why,
                &format!("{how}, {secs} s"),
                "board",
                now,
            );
        }
    }

    /// An agent attempt failed with retries left: a new attempt starts in the same place.
    pub(super) fn retry_attempt(&mut self, id: TaskId, n: u32, of: u32, why: &str, now: Millis) {
        if let Some(t) = self.task_mut(id) {
            t.retries_used = n;
            t.proc = Proc::Idle;
            t.deadline = None;
        }
        let reason = format!("retry {n}/{of}: {why}");
        self.set_status(id, Status::Active, reason.clone(), "", "board", now);
        // A retry keeps the status, but people watching want to see it happen.
        if let Some(t) = self.task(id) {
            let (goal, title) = (t.goal, t.spec.title.clone());
            self.changes.transitions.push(Transition {
                id,
                goal,
                title,
                from: Status::Active,
                to: Status::Active,
                reason,
                note: String::new(),
                at: now,
            });
        }
    }

    /// The agent's work is finished: `done`, or `pending_review` when a review is wanted.
    pub(super) fn finish_agent(
        &mut self,
        id: TaskId,
        want_review: bool,
        note: &str,
        who: &str,
        now: Millis,
    ) {
        let Some(t) = self.task(id) else { return };
        let review = t.spec.review || want_review;
        if review {
            self.set_status(
                id,
                Status::PendingReview,
                "waiting for review",
                note,
                who,
                now,
            );
            self.flag(id, "review".into());
            self.request_diff(id, id);
        } else {
            self.set_status(id, Status::Done, "", note, who, now);
        }
    }

    fn poll_finished(
        &mut self,
        id: TaskId,
        attempt: u32,
        code: i32,
        stdout: String,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        let Some(t) = self.task(id) else { return };
        if t.attempt != attempt || !t.poll_in_flight || t.status != Status::Active {
            return;
        }
        let every = t.spec.poll_every.unwrap_or(30) as i64 * 1000;
        if let Some(t) = self.task_mut(id) {
            t.poll_in_flight = false;
            t.next_poll = Some(now + every);
        }
        self.touch(id);
        let payload = json!({"exit": code, "output": stdout.trim_end()});
        match code {
            0 => drop(self.apply_signal(
                id,
                crate::command::SignalStatus::Pass,
                payload,
                "poll",
                now,
                effects,
            )),
            1 => drop(self.apply_signal(
                id,
                crate::command::SignalStatus::Fail,
                payload,
                "poll",
                now,
                effects,
            )),
            _ => {}
        }
    }

    fn needs_you(&mut self, id: TaskId, reason: String) {
        if self.task(id).is_some_and(|t| !t.status.is_terminal()) {
            self.flag(id, reason);
        }
    }

    /// Clears a "needs you" flag set by a pane (input arrived, or a new prompt was sent).
    pub(super) fn clear_flag(&mut self, id: TaskId) {
        if let Some(t) = self.task_mut(id) {
            if t.attention.is_some() && t.status == Status::Active {
                t.attention = None;
                self.changes.dirty.insert(id);
            }
        }
    }

    fn tick(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        let due: Vec<TaskId> = self
            .tasks()
            .filter(|t| {
                t.deadline.is_some_and(|d| d <= now)
                    || (t.next_poll.is_some_and(|p| p <= now) && !t.poll_in_flight)
            })
            .map(|t| t.id)
            .collect();
        for id in due {
            let Some(t) = self.task(id) else { continue };
            if t.deadline.is_some_and(|d| d <= now) {
                self.deadline_passed(id, now, effects);
            }
            let Some(t) = self.task(id) else { continue };
            if t.status == Status::Active
                && t.kind == Kind::Signal
                && !t.poll_in_flight
                && t.next_poll.is_some_and(|p| p <= now)
            {
                if let (Some(cmd), Some(goal)) = (t.spec.poll.clone(), self.goal_repo(t.goal)) {
                    let attempt = t.attempt;
                    if let Some(t) = self.task_mut(id) {
                        t.poll_in_flight = true;
                    }
                    effects.push(Effect::RunPoll {
                        task: id,
                        attempt,
                        command: cmd,
                        cwd: goal,
                    });
                }
            }
        }
    }

    pub(super) fn goal_repo(&self, goal: TaskId) -> Option<std::path::PathBuf> {
        self.task(goal)
            .and_then(|g| g.spec.goal.as_ref())
            .map(|s| s.repo.clone())
    }

    fn deadline_passed(&mut self, id: TaskId, now: Millis, effects: &mut Vec<Effect>) {
        let Some(t) = self.task(id) else { return };
        let (kind, status, attempt, on_timeout) = (t.kind, t.status, t.attempt, t.spec.on_timeout);
        let limit =
            humantime::format_duration(std::time::Duration::from_secs(t.spec.timeout.unwrap_or(0)))
                .to_string();
        if let Some(t) = self.task_mut(id) {
            t.deadline = None;
        }
        self.touch(id);
        let why = format!("timed out after {limit}");
        self.audit(
            Some(id),
            "timer",
            "timeout",
            json!({"on_timeout": on_timeout}),
            now,
        );
        match kind {
            Kind::Agent if status == Status::Active => {
                if self.is_pinned(id) {
                    self.kill_pinned_of(id, effects);
                } else {
                    effects.push(Effect::Kill { task: id, attempt });
                }
                let (retries, used) = self
                    .task(id)
                    .map(|t| (t.spec.retries, t.retries_used))
                    .unwrap_or((0, 0));
                if used < retries {
                    if let Some(t) = self.task_mut(id) {
                        t.attempt += 1; // the killed attempt's exit is now stale
                    }
                    self.retry_attempt(id, used + 1, retries, &why, now);
                } else {
                    if let Some(t) = self.task_mut(id) {
                        t.proc = Proc::Idle;
                    }
                    self.set_status(id, Status::Failed, why, "", "timer", now);
                }
            }
            Kind::Signal | Kind::HumanReview
                if matches!(status, Status::Active | Status::PendingReview) =>
            {
                use crate::model::OnTimeout;
                match on_timeout {
                    OnTimeout::Escalate => {
                        self.set_status(
                            id,
                            Status::PendingReview,
                            "timed out: escalated",
                            "",
                            "timer",
                            now,
                        );
                        self.flag(id, "timed out: escalated".into());
                    }
                    OnTimeout::Pass => {
                        self.gate_passed(id, json!({"timeout": limit}), "timer", now)
                    }
                    OnTimeout::Fail if kind == Kind::Signal => drop(self.apply_signal(
                        id,
                        crate::command::SignalStatus::Fail,
                        json!({"timeout": limit, "message": why}),
                        "timer",
                        now,
                        effects,
                    )),
                    OnTimeout::Fail => self.set_status(id, Status::Failed, why, "", "timer", now),
                }
            }
            _ => {}
        }
    }

    /// A gate is passed: `done`, with its payload as result.
    pub(super) fn gate_passed(
        &mut self,
        id: TaskId,
        payload: serde_json::Value,
        who: &str,
        now: Millis,
    ) {
        if let Some(t) = self.task_mut(id) {
            t.result = Some(payload);
            t.poll_in_flight = false;
        }
        self.set_status(id, Status::Done, "", "", who, now);
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

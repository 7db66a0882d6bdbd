//! How the board reacts to what its processes and clocks report: spawns, exits, polls,
//! attention, diffs and deadlines. Part of the pure core (no IO; time is an input).

use serde_json::json;

use super::effects::{Effect, Transition};
use super::machine::Board;
use crate::model::{Kind, Millis, Proc, Status, TaskId};

impl Board {
    pub(super) fn diff_ready(&mut self, id: TaskId, hash: String, stat: String, now: Millis) {
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
    pub(super) fn request_diff(&mut self, task: TaskId, of: TaskId, fx: &mut Vec<Effect>) {
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
        fx.push(Effect::ComputeDiff {
            task,
            repo,
            base: w.base,
            branch: w.branch,
        });
    }

    pub(super) fn spawned(
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
        if !current && self.closing_spawned(id, attempt) {
            self.audit(
                Some(id),
                "board",
                "spawned",
                json!({"attempt": attempt, "pid": pid, "closing": true}),
                now,
            );
            return;
        }
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

    pub(super) fn spawn_failed(
        &mut self,
        id: TaskId,
        attempt: u32,
        error: String,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) {
        let _ = self.pinned_gone(id, attempt);
        if self.closing_spawn_failed(id, attempt) {
            self.audit(
                Some(id),
                "board",
                "spawn_failed",
                json!({"attempt": attempt, "error": error, "closing": true}),
                now,
            );
            return;
        }
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
        if self.fallback_to_pinned(id, &error, now, fx) {
            return;
        }
        self.set_status(id, Status::Blocked, error.clone(), "", "board", now);
        self.flag(id, format!("blocked: {error}"));
    }

    /// A session ended: `(code, signal, tail)` as the driver saw it.
    pub(super) fn exited(
        &mut self,
        id: TaskId,
        attempt: u32,
        (code, signal, tail): (i32, Option<String>, String),
        now: Millis,
        fx: &mut Vec<Effect>,
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
        if self.closing_exited(id, attempt, code, signal.as_deref(), now) {
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
            self.finish_agent(id, false, &format!("exit 0, {secs} s"), "board", now, fx);
            return;
        }
        self.attempt_failed(id, code, signal.as_deref(), &tail, "", now);
    }

    /// An attempt of an active agent task ended badly: retry while retries remain, else
    /// fail with the exit and the last output line.
    pub(super) fn attempt_failed(
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
        fx: &mut Vec<Effect>,
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
            self.request_diff(id, id, fx);
        } else {
            self.set_status(id, Status::Done, "", note, who, now);
        }
    }

    pub(super) fn poll_finished(
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

    pub(super) fn needs_you(&mut self, id: TaskId, reason: String) {
        // A held tool call already says what the agent waits for (Claude Code shows its
        // own dialog for it at the same time).
        if self
            .task(id)
            .is_some_and(|t| !t.status.is_terminal() && t.permission.is_none())
        {
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

    pub(super) fn tick(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        self.stop_overdue_sessions(now, effects);
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
                    // `gh pr checks {result.pr}` waits on the PR an earlier task opened.
                    let cmd = self.fill_results(t.goal, &cmd);
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

    pub(super) fn deadline_passed(&mut self, id: TaskId, now: Millis, effects: &mut Vec<Effect>) {
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

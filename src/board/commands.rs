//! Command handlers: what each key, CLI word and HTTP route does to the board.

use serde_json::{json, Value};

use super::effects::Effect;
use super::machine::Board;
use crate::command::{Command, CommandError, Decision, SignalStatus};
use crate::model::{Kind, Millis, Proc, Status, TaskId};

type Reply = Result<Value, CommandError>;

impl Board {
    pub(super) fn command(
        &mut self,
        cmd: Command,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        match cmd {
            Command::AddGoal { goal } => {
                let id = self.add_goal(*goal, who, now);
                Ok(json!({"id": id}))
            }
            Command::AskPermission { task, tool, input } => {
                self.ask_permission(task, tool, input, who, now)
            }
            Command::AnswerPermission {
                task,
                allow,
                reason,
            } => self.answer_permission(task, allow, reason, who, now, fx),
            Command::ExpirePermission { task, request } => {
                self.expire_permission(task, request, who, now)
            }
            Command::Hook { task, event } => self.hook(task, event, who, now, fx),
            Command::Decide {
                task,
                decision,
                comment,
                diff_hash,
            } => self.decide(task, decision, comment, diff_hash, who, now, fx),
            Command::Signal {
                task,
                status,
                payload,
            } => {
                let t = self.get(task)?;
                let waiting = t.kind == Kind::Signal
                    && matches!(t.status, Status::Active | Status::PendingReview);
                if !waiting {
                    let what = if t.kind == Kind::Signal {
                        "is not waiting for a signal"
                    } else {
                        "is not a signal task"
                    };
                    return Err(CommandError::conflict(
                        format!("task #{task} {what} (it is {})", t.status),
                        Some(t.status),
                    ));
                }
                self.apply_signal(task, status, payload, who, now, fx)?;
                Ok(json!({"id": task, "status": self.get(task)?.status}))
            }
            Command::ResolveSignals {
                target,
                status,
                payload,
            } => {
                let matched = self.matching_signals(&target);
                let mut applied = Vec::new();
                for id in matched {
                    if self
                        .apply_signal(id, status, payload.clone(), who, now, fx)
                        .is_ok()
                    {
                        applied.push(id);
                    }
                }
                Ok(json!({"matched": applied}))
            }
            Command::Complete {
                task,
                summary,
                review,
                artifacts,
            } => {
                let t = self.get(task)?;
                if t.kind != Kind::Agent || t.status != Status::Active {
                    return Err(CommandError::conflict(
                        format!(
                            "task #{task} cannot complete: it is {} ({})",
                            t.status,
                            t.kind.as_str()
                        ),
                        Some(t.status),
                    ));
                }
                if let Some(t) = self.task_mut(task) {
                    t.summary = Some(summary.clone());
                }
                // Artifacts stored earlier through `artifact` stay; the same key is replaced.
                for (key, value) in artifacts {
                    self.put_artifact(task, key, value);
                }
                self.audit(
                    Some(task),
                    who,
                    "complete",
                    json!({"summary": summary, "review": review}),
                    now,
                );
                self.finish_agent(task, review, "completed", who, now, fx);
                if self.is_pinned(task) {
                    // The goal's session stays open for the next pinned task.
                    self.release_pinned(task);
                } else if self.get(task)?.status == Status::Done {
                    // Its exit is stale from now on and a rework starts a new attempt; the
                    // process itself gets a moment to receive this answer and end.
                    self.close_session_gently(task, "completed", who, now, fx);
                }
                Ok(json!({"id": task, "status": self.get(task)?.status}))
            }
            Command::Block { task, reason } => {
                let t = self.get(task)?;
                if t.kind != Kind::Agent || t.status != Status::Active {
                    return Err(CommandError::conflict(
                        format!("task #{task} cannot block: it is {}", t.status),
                        Some(t.status),
                    ));
                }
                self.set_status(task, Status::Blocked, reason.clone(), "", who, now);
                self.flag(task, format!("blocked: {reason}"));
                Ok(json!({"id": task, "status": "blocked"}))
            }
            Command::Artifact { task, key, value } => self.artifact(task, key, value, who, now),
            Command::Subtasks { task, tasks } => self.subtasks(task, tasks, who, now, fx),
            Command::EditPrompt { task, prompt } => self.edit_prompt(task, prompt, who, now),
            Command::Retry { task } => self.retry(task, who, now, fx),
            Command::Skip { task } => self.skip(task, who, now, fx),
            Command::Stop { task } => self.stop(task, who, now, fx),
            Command::Delete { task } => self.delete(task, who, now, fx),
            Command::Land {
                task,
                into,
                strategy,
                pr,
            } => self.land_now(task, into, strategy, pr, who, now),
            Command::Pause | Command::Resume => {
                let paused = matches!(cmd, Command::Pause);
                if self.paused != paused {
                    self.paused = paused;
                    self.changes.paused = Some(paused);
                    self.audit(
                        None,
                        who,
                        if paused { "pause" } else { "resume" },
                        Value::Null,
                        now,
                    );
                }
                Ok(json!({"paused": paused}))
            }
        }
    }

    pub(super) fn get(&self, id: TaskId) -> Result<&crate::model::Task, CommandError> {
        self.task(id).ok_or(CommandError::NotFound { id })
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        id: TaskId,
        decision: Decision,
        comment: Option<String>,
        diff_hash: Option<String>,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        let t = self.get(id)?;
        if !t.awaits_decision() {
            return Err(CommandError::conflict(
                format!(
                    "task #{id} is not waiting for a decision (it is {})",
                    t.status
                ),
                Some(t.status),
            ));
        }
        if let (Some(seen), Some(current)) = (&diff_hash, &t.diff_hash) {
            if seen != current {
                return Err(CommandError::conflict(
                    format!("task #{id} changed since you looked: its diff is now {current}"),
                    Some(t.status),
                ));
            }
        }
        let kind = t.kind;
        let hash = diff_hash.or_else(|| t.diff_hash.clone());
        // A refused request-changes records nothing: check it before the audit event.
        let rework = match decision {
            Decision::RequestChanges => {
                if comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
                    return Err(CommandError::Invalid {
                        message: "request changes needs a comment saying what to change".into(),
                        field: Some("comment".into()),
                    });
                }
                match kind {
                    Kind::Agent => Some(id),
                    _ => match self.rework_target(id) {
                        Some(target) => Some(target),
                        None => {
                            return Err(CommandError::conflict(
                                format!("task #{id} has no agent task before it to rework"),
                                Some(t.status),
                            ))
                        }
                    },
                }
            }
            _ => None,
        };
        self.audit(
            Some(id),
            who,
            "decision",
            json!({"decision": decision, "comment": comment, "diff_hash": hash}),
            now,
        );
        match decision {
            Decision::Approve if self.has_plan(id) => {
                // The plan is approved: its subtasks run next.
                self.end_session(id, fx);
                self.become_group(id);
            }
            Decision::Reject if self.has_plan(id) => {
                self.drop_plan(id);
                let reason = match comment.as_deref().map(str::trim) {
                    Some(c) if !c.is_empty() => format!("plan rejected: {c}"),
                    _ => format!("plan rejected by {who}"),
                };
                self.set_status(id, Status::Failed, reason, "", who, now);
                self.end_session(id, fx);
            }
            Decision::Approve => {
                if kind == Kind::Signal {
                    self.gate_passed(id, json!({"approved_by": who}), who, now);
                } else {
                    self.set_status(id, Status::Done, "", "approved", who, now);
                }
                self.end_session(id, fx);
            }
            Decision::Reject => {
                let reason = match comment.as_deref().map(str::trim) {
                    Some(c) if !c.is_empty() => format!("rejected: {c}"),
                    _ => format!("rejected by {who}"),
                };
                self.set_status(id, Status::Failed, reason, "", who, now);
                self.end_session(id, fx);
            }
            Decision::RequestChanges => {
                if self.has_plan(id) {
                    self.drop_plan(id);
                }
                let (comment, target) = (comment.unwrap_or_default(), rework.unwrap_or(id));
                if target != id {
                    self.reset_between(target, id, "changes requested", who, now);
                }
                self.rework(
                    target,
                    format!("Changes requested: {comment}"),
                    who,
                    now,
                    fx,
                );
            }
        }
        Ok(json!({"id": id, "status": self.get(id)?.status}))
    }

    /// A signal's outcome for a waiting signal task (pass, or fail with or without retries).
    pub(super) fn apply_signal(
        &mut self,
        id: TaskId,
        status: SignalStatus,
        payload: Value,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        let t = self.get(id)?;
        let (retries, used, gate) = (
            t.spec.retries,
            t.retries_used,
            t.spec.gate.clone().unwrap_or_default(),
        );
        self.audit(
            Some(id),
            who,
            "signal",
            json!({"status": status, "payload": payload}),
            now,
        );
        let summary = payload_summary(&payload);
        match status {
            SignalStatus::Pass => self.gate_passed(id, payload, who, now),
            SignalStatus::Fail if used < retries => {
                if let Some(t) = self.task_mut(id) {
                    t.retries_used = used + 1;
                    t.poll_in_flight = false;
                }
                let reason = format!("retry {}/{}: {summary}", used + 1, retries);
                match self.rework_target(id) {
                    Some(target) => {
                        self.reset_between(target, id, &reason, who, now);
                        self.rework(target, format!("{gate} failed: {summary}"), who, now, fx);
                    }
                    None => {
                        // No agent to fix it: the retry is used and the gate waits for the next signal.
                        self.set_status(id, Status::Active, reason, "", who, now);
                        let every = self.get(id)?.spec.poll_every.unwrap_or(30) as i64 * 1000;
                        if let Some(t) = self.task_mut(id) {
                            if t.spec.poll.is_some() {
                                t.next_poll = Some(now + every);
                            }
                        }
                    }
                }
            }
            SignalStatus::Fail => {
                let reason = if summary.is_empty() {
                    format!("{gate} failed")
                } else {
                    summary
                };
                if let Some(t) = self.task_mut(id) {
                    t.result = Some(payload);
                }
                self.set_status(id, Status::Failed, reason, "", who, now);
            }
        }
        Ok(json!({"id": id}))
    }

    /// Re-runs an agent task with feedback: typed into its open session, else a new attempt.
    pub(super) fn rework(
        &mut self,
        id: TaskId,
        feedback: String,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) {
        let session = self.session_of(id);
        let Some(t) = self.task_mut(id) else { return };
        t.feedback.push(feedback.clone());
        t.deadline = None;
        self.set_status(id, Status::Active, "changes requested", "", who, now);
        if let Some(session) = session {
            fx.push(Effect::WriteInput {
                session,
                text: feedback,
            });
            self.clear_flag(id);
        }
    }

    /// Every finished task strictly between `target` and `gate` (file order) that the gate
    /// waits for goes back to `pending`, and so does the gate, so they must pass again.
    /// Independent work in between (e.g. a parallel sibling) is not reopened.
    pub(super) fn reset_between(
        &mut self,
        target: TaskId,
        gate: TaskId,
        reason: &str,
        who: &str,
        now: Millis,
    ) {
        let order = self.preorder(self.get(gate).map(|t| t.goal).unwrap_or(0));
        let waits = self.upstream(gate);
        let pos = |id: TaskId| order.iter().position(|&x| x == id);
        if let (Some(a), Some(b)) = (pos(target), pos(gate)) {
            for &id in &order[a + 1..b.max(a + 1)] {
                let leaf_done = waits.contains(&id)
                    && self
                        .task(id)
                        .is_some_and(|t| t.kind != Kind::Group && t.status == Status::Done);
                if leaf_done {
                    self.set_status(id, Status::Pending, "", "", who, now);
                }
            }
        }
        if let Some(t) = self.task_mut(gate) {
            t.deadline = None;
            t.next_poll = None;
            t.poll_in_flight = false;
        }
        self.set_status(gate, Status::Pending, reason, "", who, now);
    }

    fn retry(&mut self, id: TaskId, who: &str, now: Millis, fx: &mut Vec<Effect>) -> Reply {
        let targets: Vec<TaskId> = self
            .subtree(id)?
            .into_iter()
            .filter(|&x| {
                self.task(x).is_some_and(|t| {
                    t.kind != Kind::Group && matches!(t.status, Status::Failed | Status::Blocked)
                })
            })
            .collect();
        if targets.is_empty() {
            let t = self.get(id)?;
            return Err(CommandError::conflict(
                format!("task #{id} has nothing to retry (it is {})", t.status),
                Some(t.status),
            ));
        }
        for x in &targets {
            self.end_session(*x, fx);
            if let Some(t) = self.task_mut(*x) {
                t.retries_used = 0;
                t.proc = Proc::Idle;
                t.result = None;
                t.deadline = None;
            }
            self.set_status(*x, Status::Pending, "", "retry", who, now);
        }
        Ok(json!({"retried": targets}))
    }

    fn skip(&mut self, id: TaskId, who: &str, now: Millis, fx: &mut Vec<Effect>) -> Reply {
        let targets: Vec<TaskId> = self
            .subtree(id)?
            .into_iter()
            .filter(|&x| {
                self.task(x)
                    .is_some_and(|t| t.kind != Kind::Group && !t.status.is_terminal())
            })
            .collect();
        if targets.is_empty() {
            let t = self.get(id)?;
            return Err(CommandError::conflict(
                format!("task #{id} is already {}", t.status),
                Some(t.status),
            ));
        }
        for x in &targets {
            self.end_session(*x, fx);
            self.set_status(
                *x,
                Status::Skipped,
                format!("skipped by {who}"),
                "",
                who,
                now,
            );
        }
        Ok(json!({"skipped": targets}))
    }

    fn stop(&mut self, id: TaskId, who: &str, now: Millis, fx: &mut Vec<Effect>) -> Reply {
        let targets: Vec<TaskId> = self
            .subtree(id)?
            .into_iter()
            .filter(|&x| {
                self.task(x).is_some_and(|t| {
                    t.kind == Kind::Agent && (t.status == Status::Active || t.proc != Proc::Idle)
                })
            })
            .collect();
        if targets.is_empty() {
            let t = self.get(id)?;
            return Err(CommandError::conflict(
                format!(
                    "task #{id} has no running agent to stop (it is {})",
                    t.status
                ),
                Some(t.status),
            ));
        }
        for x in &targets {
            self.end_session(*x, fx);
            if self.task(*x).is_some_and(|t| t.status == Status::Active) {
                self.set_status(
                    *x,
                    Status::Failed,
                    format!("stopped by {who}"),
                    "",
                    who,
                    now,
                );
            }
        }
        Ok(json!({"stopped": targets}))
    }

    /// Kills a task's session if it has one; its exit will then be stale.
    pub(super) fn end_session(&mut self, id: TaskId, fx: &mut Vec<Effect>) {
        if self.is_pinned(id) {
            self.kill_pinned_of(id, fx);
            return;
        }
        if let Some(t) = self.task_mut(id) {
            if t.proc != Proc::Idle {
                fx.push(Effect::Kill {
                    task: id,
                    attempt: t.attempt,
                });
                t.attempt += 1;
                t.proc = Proc::Idle;
            }
        }
    }

    fn delete(&mut self, id: TaskId, who: &str, now: Millis, fx: &mut Vec<Effect>) -> Reply {
        let ids = self.subtree(id)?;
        let t = self.get(id)?;
        let (parent, is_goal) = (t.parent, t.is_goal());
        let repo = self.goal_repo(id).unwrap_or_default();
        for &x in &ids {
            self.end_session(x, fx);
            // A session in its grace period goes with its task (its slot is counted by task).
            self.stop_closing_now(x, who, now, fx);
        }
        for &x in &ids {
            self.tasks[x as usize] = None;
            self.changes.dirty.remove(&x);
            self.changes.deleted.push(x);
        }
        if let Some(p) = parent.and_then(|p| self.task_mut(p)) {
            p.children.retain(|c| *c != id);
        }
        if let Some(p) = parent {
            self.touch(p);
        }
        let gone: std::collections::HashSet<TaskId> = ids.iter().copied().collect();
        let dependents: Vec<TaskId> = self
            .tasks()
            .filter(|t| t.after.iter().any(|a| gone.contains(a)))
            .map(|t| t.id)
            .collect();
        for d in dependents {
            if let Some(t) = self.task_mut(d) {
                t.after.retain(|a| !gone.contains(a));
            }
            self.touch(d);
        }
        if is_goal {
            self.goals.retain(|g| *g != id);
            self.stats.remove(&id);
            fx.push(Effect::RemoveWorktrees { goal: id, repo });
        }
        self.audit(
            None,
            who,
            "delete",
            json!({"task": id, "removed": ids.len()}),
            now,
        );
        Ok(json!({"deleted": ids}))
    }
}

/// One line for a reason: a `summary`/`message` field, or the compact JSON.
pub(super) fn payload_summary(payload: &Value) -> String {
    let text = match payload {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(m) => ["summary", "message", "output", "conclusion", "timeout"]
            .iter()
            .find_map(|k| m.get(*k).and_then(|v| v.as_str().map(str::to_string)))
            .unwrap_or_else(|| payload.to_string()),
        other => other.to_string(),
    };
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    line.chars().take(160).collect()
}

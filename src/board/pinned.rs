//! Pinned sessions: one long-lived agent session per goal; each pinned task's prompt is
//! typed into it when the previous one has completed (through `complete`, never guessed).

use std::collections::HashMap;

use serde_json::json;

use super::effects::Effect;
use super::machine::Board;
use crate::model::{Millis, Proc, SessionPolicy, Status, TaskId};

/// The goal's session: spawned by `owner` (attempt `attempt`), serving `current`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pinned {
    pub owner: TaskId,
    pub attempt: u32,
    pub pid: Option<u32>,
    pub current: Option<TaskId>,
}

pub(super) type PinnedSessions = HashMap<TaskId, Pinned>;

/// What a ready pinned task does now.
pub(super) enum PinnedStart {
    /// No session yet: spawn one (it becomes the goal's session).
    Spawn,
    /// The session is idle: the prompt was typed into it.
    Typed,
    /// The session is busy or starting: wait, with this reason.
    Wait(String),
}

impl Board {
    /// A pinned task, or one the goal's pinned session serves after a failed spawn.
    pub(super) fn is_pinned(&self, id: TaskId) -> bool {
        self.task(id).is_some_and(|t| {
            t.kind == crate::model::Kind::Agent
                && (t.spec.session == SessionPolicy::Pinned
                    || self
                        .pinned
                        .get(&t.goal)
                        .is_some_and(|p| p.current == Some(id)))
        })
    }

    /// `spawn_fallback = "pinned"`: a task whose spawn failed goes to the goal's pinned
    /// session when one runs and is idle. Returns whether it did.
    pub(super) fn fallback_to_pinned(
        &mut self,
        id: TaskId,
        error: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) -> bool {
        let Some(goal) = self.task(id).map(|t| t.goal) else {
            return false;
        };
        let wanted = self
            .task(goal)
            .and_then(|g| g.spec.goal.as_ref())
            .is_some_and(|g| g.spawn_fallback == crate::model::SpawnFallback::Pinned);
        let idle = self
            .pinned
            .get(&goal)
            .is_some_and(|p| p.pid.is_some() && p.current.is_none());
        if !wanted || !idle {
            return false;
        }
        // Its effects go out only when the prompt was typed.
        let mut typed = Vec::new();
        if !matches!(self.start_pinned(id, now, &mut typed), PinnedStart::Typed) {
            return false;
        }
        fx.append(&mut typed);
        self.audit(
            Some(id),
            "board",
            "spawn_fallback",
            json!({"error": error, "to": "pinned session"}),
            now,
        );
        true
    }

    /// The tasks the goals' pinned sessions are serving now.
    pub fn pinned_current(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.pinned.values().filter_map(|p| p.current)
    }

    /// The session a task's input goes to: its own, or its goal's pinned session.
    pub fn session_of(&self, id: TaskId) -> Option<(TaskId, u32)> {
        let t = self.task(id)?;
        if self.is_pinned(id) {
            let p = self.pinned.get(&t.goal)?;
            return (p.current == Some(id) && p.pid.is_some()).then_some((p.owner, p.attempt));
        }
        matches!(t.proc, Proc::Running { .. }).then_some((id, t.attempt))
    }

    /// Decides how a ready pinned task starts; types its prompt when the session is idle.
    pub(super) fn start_pinned(
        &mut self,
        id: TaskId,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) -> PinnedStart {
        let Some(goal) = self.task(id).map(|t| t.goal) else {
            return PinnedStart::Wait(String::new());
        };
        let Some(p) = self.pinned.get(&goal).cloned() else {
            return PinnedStart::Spawn;
        };
        match (p.pid, p.current) {
            (None, _) => PinnedStart::Wait("waiting for the pinned session to start".into()),
            (Some(_), Some(cur)) if cur != id => {
                PinnedStart::Wait(format!("waiting for the pinned session (busy with #{cur})"))
            }
            (Some(pid), _) => {
                let prompt = self.prompt_for(id);
                let context = self.context(id).map(|x| x.compact()).unwrap_or_default();
                let agent = self.task(id).and_then(|t| t.spec.agent.clone());
                if let Some(s) = self.pinned.get_mut(&goal) {
                    s.current = Some(id);
                }
                if let Some(t) = self.task_mut(id) {
                    t.proc = Proc::Running { pid };
                    t.deadline = t.spec.timeout.map(|s| now + s as Millis * 1000);
                }
                self.clear_flag(id);
                fx.push(Effect::TypePrompt {
                    session: (p.owner, p.attempt),
                    task: id,
                    prompt,
                    context,
                    agent,
                });
                self.audit(
                    Some(id),
                    "board",
                    "prompt_typed",
                    json!({"session": p.owner, "pid": pid}),
                    now,
                );
                PinnedStart::Typed
            }
        }
    }

    /// A pinned task's spawn was issued: its session becomes the goal's.
    pub(super) fn pinned_spawning(&mut self, id: TaskId, attempt: u32) {
        if let Some(goal) = self.task(id).map(|t| t.goal) {
            self.pinned.insert(
                goal,
                Pinned {
                    owner: id,
                    attempt,
                    pid: None,
                    current: Some(id),
                },
            );
        }
    }

    pub(super) fn pinned_spawned(&mut self, id: TaskId, attempt: u32, pid: u32) {
        if let Some(p) = self
            .pinned
            .values_mut()
            .find(|p| p.owner == id && p.attempt == attempt)
        {
            p.pid = Some(pid);
        }
    }

    /// The goal's pinned session ended (exit or failed spawn). Returns the task it was
    /// serving, if any, so the caller can fail or retry it.
    pub(super) fn pinned_gone(&mut self, owner: TaskId, attempt: u32) -> Option<Option<TaskId>> {
        let goal = self
            .pinned
            .iter()
            .find(|(_, p)| p.owner == owner && p.attempt == attempt)
            .map(|(g, _)| *g)?;
        let p = self.pinned.remove(&goal)?;
        let ids: Vec<TaskId> = self
            .tasks()
            .filter(|t| t.goal == goal && self.is_pinned(t.id) && t.proc != Proc::Idle)
            .map(|t| t.id)
            .collect();
        for x in ids {
            if let Some(t) = self.task_mut(x) {
                t.proc = Proc::Idle;
            }
            self.touch(x);
        }
        Some(p.current)
    }

    /// A pinned task completed: the session stays, idle, for the next task.
    pub(super) fn release_pinned(&mut self, id: TaskId) {
        let Some(goal) = self.task(id).map(|t| t.goal) else {
            return;
        };
        if let Some(p) = self.pinned.get_mut(&goal) {
            if p.current == Some(id) {
                p.current = None;
            }
        }
        if let Some(t) = self.task_mut(id) {
            t.proc = Proc::Idle;
        }
        self.touch(id);
    }

    /// Kills the pinned session a task is using (stop, timeout, skip, delete).
    pub(super) fn kill_pinned_of(&mut self, id: TaskId, fx: &mut Vec<Effect>) {
        let Some(goal) = self.task(id).map(|t| t.goal) else {
            return;
        };
        if self
            .pinned
            .get(&goal)
            .is_some_and(|p| p.current == Some(id))
        {
            if let Some(p) = self.pinned.remove(&goal) {
                fx.push(Effect::Kill {
                    task: p.owner,
                    attempt: p.attempt,
                });
            }
        }
        if let Some(t) = self.task_mut(id) {
            t.proc = Proc::Idle;
        }
    }

    /// Sessions of goals that are over are closed.
    pub(super) fn close_finished_pinned(&mut self, fx: &mut Vec<Effect>) {
        let over: Vec<TaskId> = self
            .pinned
            .iter()
            .filter(|(g, p)| {
                p.current.is_none()
                    && self
                        .task(**g)
                        .is_none_or(|t| t.status.is_terminal() || t.status == Status::Blocked)
            })
            .map(|(g, _)| *g)
            .collect();
        for g in over {
            if let Some(p) = self.pinned.remove(&g) {
                fx.push(Effect::Kill {
                    task: p.owner,
                    attempt: p.attempt,
                });
            }
        }
    }
}

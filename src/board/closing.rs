//! Sessions an agent asked to end by its own call (it completed its task, or split it into
//! subtasks). The call's answer must reach the agent first, so its session is not stopped in
//! the same step: it may end on its own within a short grace period, else it is stopped when
//! the period is over. Both endings are audited. Part of the pure core (time is an input).

use serde_json::json;

use super::effects::Effect;
use super::machine::Board;
use crate::model::{Millis, Proc, TaskId};

/// How long a session may go on after its agent's own call ended it.
pub const SESSION_GRACE_MS: Millis = 3_000;

/// A session that belongs to no task any more and is waiting out its grace period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Closing {
    pub task: TaskId,
    pub attempt: u32,
    /// When it is stopped if it has not ended by then.
    pub until: Millis,
}

impl Board {
    /// Ends a task's session after its agent's own call: a pinned session stays open for
    /// the goal's next task; a running one gets the grace period, and so does one still
    /// starting (an agent can call back from its PTY before the board has heard its spawn:
    /// the spawn, when it comes, is taken as the closing session's, see
    /// [`Board::closing_spawned`]).
    pub(super) fn close_session_gently(
        &mut self,
        id: TaskId,
        why: &str,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) {
        if self.is_pinned(id) {
            self.release_pinned(id);
            return;
        }
        let Some(t) = self.task(id) else { return };
        let attempt = t.attempt;
        if !matches!(t.proc, Proc::Running { .. } | Proc::Starting) {
            self.end_session(id, fx);
            return;
        }
        self.closing.push(Closing {
            task: id,
            attempt,
            until: now + SESSION_GRACE_MS,
        });
        if let Some(t) = self.task_mut(id) {
            // The attempt moves on, so the session's exit is not taken for the task's.
            t.attempt += 1;
            t.proc = Proc::Idle;
        }
        self.touch(id);
        self.audit(
            Some(id),
            who,
            "session_closing",
            json!({"attempt": attempt, "why": why, "grace_ms": SESSION_GRACE_MS}),
            now,
        );
    }

    /// A spawn heard after its agent's own call ended the session (the call overtook the
    /// spawn): the session is left to its grace period, not stopped as a straggler.
    pub(super) fn closing_spawned(&self, id: TaskId, attempt: u32) -> bool {
        self.closing
            .iter()
            .any(|c| c.task == id && c.attempt == attempt)
    }

    /// A closing session's spawn failed (the call overtook a spawn that then failed): there
    /// is nothing to wait for, so its slot is free at once. Returns true when it was one.
    pub(super) fn closing_spawn_failed(&mut self, id: TaskId, attempt: u32) -> bool {
        self.close_ended(id, attempt)
    }

    /// Takes session `attempt` of `id` off the closing list (touched, so watchers of the
    /// goal's live count hear that it is gone); false when it was not on it.
    fn close_ended(&mut self, id: TaskId, attempt: u32) -> bool {
        let Some(pos) = self
            .closing
            .iter()
            .position(|c| c.task == id && c.attempt == attempt)
        else {
            return false;
        };
        self.closing.swap_remove(pos);
        self.touch(id);
        true
    }

    /// A process exited: when it was a closing session, records that it ended on its own
    /// and returns true.
    pub(super) fn closing_exited(
        &mut self,
        id: TaskId,
        attempt: u32,
        code: i32,
        signal: Option<&str>,
        now: Millis,
    ) -> bool {
        if !self.close_ended(id, attempt) {
            return false;
        }
        let exists = self.task(id).is_some();
        self.audit(
            exists.then_some(id),
            "board",
            "session_ended",
            json!({"task": id, "attempt": attempt, "code": code, "signal": signal}),
            now,
        );
        true
    }

    /// Closing sessions whose grace period is over are stopped.
    pub(super) fn stop_overdue_sessions(&mut self, now: Millis, fx: &mut Vec<Effect>) {
        let mut i = 0;
        while i < self.closing.len() {
            let c = self.closing[i];
            if c.until > now {
                i += 1;
                continue;
            }
            self.closing.swap_remove(i);
            self.touch(c.task);
            fx.push(Effect::Kill {
                task: c.task,
                attempt: c.attempt,
            });
            let exists = self.task(c.task).is_some();
            self.audit(
                exists.then_some(c.task),
                "timer",
                "session_stopped",
                json!({"task": c.task, "attempt": c.attempt, "after_ms": SESSION_GRACE_MS}),
                now,
            );
        }
    }

    /// Stops a task's sessions in their grace period at once (the task is being deleted).
    pub(super) fn stop_closing_now(
        &mut self,
        id: TaskId,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) {
        while let Some(pos) = self.closing.iter().position(|c| c.task == id) {
            let c = self.closing.swap_remove(pos);
            fx.push(Effect::Kill {
                task: c.task,
                attempt: c.attempt,
            });
            // Like the `delete` event itself: about a task that is gone.
            self.audit(
                None,
                who,
                "session_stopped",
                json!({"task": id, "attempt": c.attempt, "why": "task deleted"}),
                now,
            );
        }
    }

    /// Sessions of `goal` in their grace period.
    pub(super) fn closing_in(&self, goal: TaskId) -> usize {
        self.closing
            .iter()
            .filter(|c| self.task(c.task).is_some_and(|t| t.goal == goal))
            .count()
    }

    /// When the next closing session's grace period ends.
    pub(super) fn next_closing(&self) -> Option<Millis> {
        self.closing.iter().map(|c| c.until).min()
    }
}

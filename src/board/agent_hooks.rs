//! What agents report through their hooks: a tool call held for permission (asked,
//! answered by a human or an `allow` rule, or expired), "needs you", "working again",
//! "turn ended" and "session started". Part of the pure core (no IO; time is an input).

use serde_json::{json, Value};

use super::effects::Effect;
use super::machine::Board;
use crate::command::{CommandError, HookEvent};
use crate::model::{AllowRule, Kind, Millis, PermissionAsk, Status, TaskId};

type Reply = Result<Value, CommandError>;

/// The attention reason of a held tool call.
pub fn permission_reason(ask: &PermissionAsk) -> String {
    format!("permission: {}", ask.summary())
}

impl Board {
    /// The config's `allow` rules: matching requests are allowed without asking.
    pub fn set_allow_rules(&mut self, rules: Vec<AllowRule>) {
        self.allow_rules = rules;
    }

    pub(super) fn ask_permission(
        &mut self,
        task: TaskId,
        tool: String,
        input: Value,
        who: &str,
        now: Millis,
    ) -> Reply {
        let t = self.task(task).ok_or(CommandError::NotFound { id: task })?;
        if t.kind != Kind::Agent || t.status != Status::Active {
            return Err(CommandError::conflict(
                format!("task #{task} is not a running agent (it is {})", t.status),
                Some(t.status),
            ));
        }
        self.next_request += 1;
        let ask = PermissionAsk {
            request: self.next_request,
            tool,
            input,
            asked_at: now,
        };
        let summary = ask.summary();
        if let Some(rule) = self
            .allow_rules
            .iter()
            .find(|r| r.matches(&ask.tool, &ask.input))
        {
            let rule = rule.text().to_string();
            self.audit(
                Some(task),
                "auto",
                "permission",
                json!({"request": ask.request, "tool": ask.tool, "call": summary, "allow": true, "rule": rule, "asked_by": who}),
                now,
            );
            return Ok(json!({"request": ask.request, "decision": {"allow": true, "by": "auto"}}));
        }
        self.audit(
            Some(task),
            who,
            "permission_asked",
            json!({"request": ask.request, "tool": ask.tool, "call": summary, "input": ask.input}),
            now,
        );
        let reason = permission_reason(&ask);
        let request = ask.request;
        if let Some(t) = self.task_mut(task) {
            t.permission = Some(ask);
            t.turn_ended = false;
        }
        self.touch(task);
        self.flag(task, reason);
        Ok(json!({"request": request, "decision": null}))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn answer_permission(
        &mut self,
        task: TaskId,
        allow: bool,
        reason: Option<String>,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        let t = self.task(task).ok_or(CommandError::NotFound { id: task })?;
        let Some(ask) = t.permission.clone() else {
            return Err(CommandError::conflict(
                format!("task #{task} has no permission request waiting"),
                Some(t.status),
            ));
        };
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if let Some(t) = self.task_mut(task) {
            t.permission = None;
            t.attention = None;
        }
        self.touch(task);
        self.audit(
            Some(task),
            who,
            "permission",
            json!({"request": ask.request, "tool": ask.tool, "call": ask.summary(), "allow": allow, "reason": reason}),
            now,
        );
        fx.push(Effect::AnswerPermission {
            task,
            request: ask.request,
            allow,
            reason,
        });
        Ok(json!({"id": task, "request": ask.request, "allow": allow}))
    }

    /// Nobody answered in time: the hook gives up and the agent asks in its own pane.
    pub(super) fn expire_permission(
        &mut self,
        task: TaskId,
        request: u64,
        who: &str,
        now: Millis,
    ) -> Reply {
        let t = self.task(task).ok_or(CommandError::NotFound { id: task })?;
        let Some(ask) = t.permission.clone().filter(|a| a.request == request) else {
            return Ok(json!({"id": task, "expired": false}));
        };
        if let Some(t) = self.task_mut(task) {
            t.permission = None;
        }
        self.touch(task);
        self.audit(
            Some(task),
            who,
            "permission_expired",
            json!({"request": request, "call": ask.summary()}),
            now,
        );
        // Still a person's call, now in the pane's own dialog.
        self.flag(
            task,
            format!("permission (answer in the pane): {}", ask.summary()),
        );
        Ok(json!({"id": task, "expired": true}))
    }

    /// The agent went on without the board's answer (it was given in the pane).
    fn answered_in_pane(&mut self, task: TaskId, now: Millis, fx: &mut Vec<Effect>) {
        let Some(t) = self.task_mut(task) else { return };
        let Some(ask) = t.permission.take() else {
            return;
        };
        t.attention = None;
        self.touch(task);
        self.audit(
            Some(task),
            "pane",
            "permission_answered_in_pane",
            json!({"request": ask.request, "call": ask.summary()}),
            now,
        );
        fx.push(Effect::DropPermission {
            task,
            request: ask.request,
        });
    }

    pub(super) fn hook(
        &mut self,
        task: TaskId,
        event: HookEvent,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        let t = self.task(task).ok_or(CommandError::NotFound { id: task })?;
        let live = t.kind == Kind::Agent && !t.status.is_terminal();
        let held = t.permission.is_some();
        match event {
            // A held permission already says what the agent waits for, more precisely.
            HookEvent::NeedsYou { message } if live && !held => {
                let m = message.trim();
                self.needs_you(
                    task,
                    if m.is_empty() {
                        "waiting for you".into()
                    } else {
                        m.to_string()
                    },
                );
            }
            HookEvent::NeedsYou { .. } => {}
            HookEvent::ToolFinished { tool, input } => {
                let same = self
                    .task(task)
                    .and_then(|t| t.permission.as_ref())
                    .is_some_and(|a| a.tool == tool && a.input == input);
                if same {
                    self.answered_in_pane(task, now, fx);
                }
            }
            HookEvent::Working => {
                self.answered_in_pane(task, now, fx);
                if let Some(t) = self.task_mut(task) {
                    t.turn_ended = false;
                }
                self.touch(task);
                self.clear_flag(task);
            }
            HookEvent::TurnEnded => {
                self.answered_in_pane(task, now, fx);
                if let Some(t) = self.task_mut(task) {
                    t.turn_ended = true;
                }
                self.touch(task);
            }
            HookEvent::SessionStarted { session_id, source } => {
                let expected = self.task(task).and_then(|t| t.session_id.clone());
                self.audit(
                    Some(task),
                    who,
                    "session_started",
                    json!({"session_id": session_id, "source": source, "expected": expected,
                           "matches": expected.as_deref() == Some(session_id.as_str())}),
                    now,
                );
            }
        }
        Ok(json!({"id": task}))
    }

    /// A session ended or a new one starts: what its hooks said no longer holds.
    pub(super) fn forget_session_state(&mut self, task: TaskId, now: Millis) {
        let Some(t) = self.task_mut(task) else { return };
        let dropped = t.permission.take();
        let changed = dropped.is_some() || t.turn_ended;
        t.turn_ended = false;
        if let Some(ask) = dropped {
            if t.attention.as_deref() == Some(permission_reason(&ask).as_str()) {
                t.attention = None;
            }
            self.audit(
                Some(task),
                "board",
                "permission_dropped",
                json!({"request": ask.request, "call": ask.summary(), "why": "the session ended"}),
                now,
            );
        }
        if changed {
            self.touch(task);
        }
    }
}

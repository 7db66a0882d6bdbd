//! An agent splitting its own task (`subtasks`), and plan-first tasks whose breakdown is a
//! review gate: approve runs the children, request changes or reject deletes them.

use serde_json::{json, Value};

use super::effects::Effect;
use super::machine::Board;
use crate::command::CommandError;
use crate::model::{Kind, Millis, NewTask, Proc, Status, TaskId};

type Reply = Result<Value, CommandError>;

impl Board {
    pub(super) fn subtasks(
        &mut self,
        id: TaskId,
        tasks: Vec<NewTask>,
        who: &str,
        now: Millis,
        fx: &mut Vec<Effect>,
    ) -> Reply {
        let t = self.get(id)?;
        if t.kind == Kind::Group {
            return self.add_children(id, tasks, who, now);
        }
        if t.kind != Kind::Agent || t.status != Status::Active {
            return Err(CommandError::conflict(
                format!(
                    "task #{id} cannot take subtasks: it is {} ({})",
                    t.status,
                    t.kind.as_str()
                ),
                Some(t.status),
            ));
        }
        if !t.children.is_empty() {
            return Err(CommandError::conflict(
                format!("task #{id} already has subtasks waiting for review"),
                Some(t.status),
            ));
        }
        if tasks.is_empty() {
            return Err(CommandError::Invalid {
                message: "give at least one subtask".into(),
                field: Some("tasks".into()),
            });
        }
        let (goal, plan) = (t.goal, t.spec.plan);
        let ids = self.add_trees(tasks, Some(id), goal, now);
        self.audit(
            Some(id),
            who,
            "subtasks",
            json!({"children": ids, "plan": plan}),
            now,
        );
        if plan {
            let n = ids.len();
            self.set_status(
                id,
                Status::PendingReview,
                format!("plan: {n} subtask(s) to approve"),
                "",
                who,
                now,
            );
            self.flag(id, "review".into());
        } else {
            // The agent's own call must get this answer: its session ends after it.
            self.close_session_gently(id, "split into subtasks", who, now, fx);
            self.become_group(id);
        }
        Ok(json!({"id": id, "children": ids, "plan": plan}))
    }

    /// A task with pending (planned) children: approving or deciding on it is about them.
    pub(super) fn has_plan(&self, id: TaskId) -> bool {
        self.task(id)
            .is_some_and(|t| t.kind == Kind::Agent && !t.children.is_empty())
    }

    /// The task's children run now; its status is theirs from here on.
    pub(super) fn become_group(&mut self, id: TaskId) {
        if let Some(t) = self.task_mut(id) {
            t.kind = Kind::Group;
            t.proc = Proc::Idle;
            t.attention = None;
        }
        self.touch(id);
    }

    /// Deletes a planner's proposed children (request changes, reject).
    pub(super) fn drop_plan(&mut self, id: TaskId) {
        let Some(children) = self.task(id).map(|t| t.children.clone()) else {
            return;
        };
        for c in children {
            for x in self.preorder(c) {
                self.tasks[x as usize] = None;
                self.changes.dirty.remove(&x);
                self.changes.deleted.push(x);
            }
        }
        if let Some(t) = self.task_mut(id) {
            t.children.clear();
        }
        self.touch(id);
    }
}

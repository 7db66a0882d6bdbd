//! A human changing the plan: a waiting task's prompt (`e`), and new tasks under a group or
//! goal (`+`, `POST /api/tasks/:id/subtasks` on a group). Agents split their own tasks in
//! `subtasks`.

use serde_json::{json, Value};

use super::machine::Board;
use crate::command::CommandError;
use crate::model::{Kind, Millis, NewTask, Status, TaskId};

type Reply = Result<Value, CommandError>;

impl Board {
    /// A new prompt for an agent task that is not running: pending, blocked or failed (the
    /// next run, or `retry`, uses it).
    pub(super) fn edit_prompt(
        &mut self,
        id: TaskId,
        prompt: String,
        who: &str,
        now: Millis,
    ) -> Reply {
        let t = self.get(id)?;
        if prompt.trim().is_empty() {
            return Err(CommandError::Invalid {
                message: "the prompt is empty".into(),
                field: Some("prompt".into()),
            });
        }
        if t.kind != Kind::Agent {
            return Err(CommandError::conflict(
                format!(
                    "task #{id} is a {} task: only agent tasks have a prompt",
                    t.kind.as_str()
                ),
                Some(t.status),
            ));
        }
        if !matches!(t.status, Status::Pending | Status::Blocked | Status::Failed) {
            return Err(CommandError::conflict(
                format!(
                    "task #{id} is {}: a prompt can change only before it runs (or once it failed or is blocked)",
                    t.status
                ),
                Some(t.status),
            ));
        }
        let was = t.spec.prompt.clone();
        if let Some(t) = self.task_mut(id) {
            t.spec.prompt = Some(prompt.clone());
        }
        self.touch(id);
        self.audit(
            Some(id),
            who,
            "edit_prompt",
            json!({"prompt": prompt, "was": was}),
            now,
        );
        Ok(json!({"id": id, "status": self.get(id)?.status}))
    }

    /// Adds tasks as the last children of a group or goal; they run by the usual rules (a
    /// finished group is open again until they are done).
    pub(super) fn add_children(
        &mut self,
        id: TaskId,
        tasks: Vec<NewTask>,
        who: &str,
        now: Millis,
    ) -> Reply {
        let t = self.get(id)?;
        if t.kind != Kind::Group {
            return Err(CommandError::conflict(
                format!("task #{id} is not a group"),
                Some(t.status),
            ));
        }
        if tasks.is_empty() {
            return Err(CommandError::Invalid {
                message: "give at least one subtask".into(),
                field: Some("tasks".into()),
            });
        }
        let goal = t.goal;
        let ids = self.add_trees(tasks, Some(id), goal, now);
        // Its children changed: the group's own row is saved again.
        self.touch(id);
        self.audit(Some(id), who, "subtasks", json!({"children": ids}), now);
        Ok(json!({"id": id, "children": ids}))
    }
}

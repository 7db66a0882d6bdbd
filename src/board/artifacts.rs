//! Artifacts: named results an agent stores on its own task (a PR URL, a branch, a report
//! path). They live in the task's `result` object, so later prompts and signal gates read
//! them as `{result.KEY}` and the task's context shows them.

use serde_json::{json, Map, Value};

use super::machine::Board;
use crate::command::CommandError;
use crate::model::{Kind, Millis, Status, TaskId};

/// The longest artifact key accepted.
pub const MAX_KEY_LEN: usize = 64;

/// Why `key` cannot name an artifact, if it cannot. Keys appear inside `{result.KEY}`, so
/// they are kept to characters that cannot end or confuse a placeholder.
pub fn key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("the artifact key is empty: give a name like pr_url".into());
    }
    if key.len() > MAX_KEY_LEN {
        return Some(format!(
            "the artifact key is {} characters long; at most {MAX_KEY_LEN}",
            key.len()
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-.".contains(*c)))
    {
        return Some(format!(
            "the artifact key {key:?} has {c:?}: use letters, digits, `_`, `-` and `.`"
        ));
    }
    None
}

impl Board {
    /// `artifact`: an agent task that is running (or waiting for review of its work) stores
    /// one named value; the same key again replaces it.
    pub(super) fn artifact(
        &mut self,
        id: TaskId,
        key: String,
        value: Value,
        who: &str,
        now: Millis,
    ) -> Result<Value, CommandError> {
        if let Some(message) = key_problem(&key) {
            return Err(CommandError::Invalid {
                message,
                field: Some("key".into()),
            });
        }
        let t = self.get(id)?;
        if t.kind != Kind::Agent || !matches!(t.status, Status::Active | Status::PendingReview) {
            return Err(CommandError::conflict(
                format!(
                    "task #{id} cannot take artifacts: it is {} ({})",
                    t.status,
                    t.kind.as_str()
                ),
                Some(t.status),
            ));
        }
        self.audit(
            Some(id),
            who,
            "artifact",
            json!({"key": key, "value": value}),
            now,
        );
        self.put_artifact(id, key.clone(), value);
        let artifacts = self
            .task(id)
            .and_then(|t| t.result.clone())
            .unwrap_or(Value::Null);
        Ok(json!({"id": id, "key": key, "artifacts": artifacts}))
    }

    /// Stores `key` in the task's result object (made one if it was not).
    pub(super) fn put_artifact(&mut self, id: TaskId, key: String, value: Value) {
        let Some(t) = self.task_mut(id) else { return };
        if !matches!(t.result, Some(Value::Object(_))) {
            t.result = Some(Value::Object(Map::new()));
        }
        if let Some(Value::Object(m)) = &mut t.result {
            m.insert(key, value);
        }
        self.touch(id);
    }
}

//! The HTTP request (ARCHITECTURE §6) that carries each board command for an attached TUI,
//! and the command error each answer becomes, so the UI sees the same results attached or not.

use serde_json::{json, Value};

use crate::command::{Command, CommandError};
use crate::http::client::ClientError;

#[derive(Debug, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub body: Option<Value>,
}

fn post(path: String, body: Value) -> Request {
    Request {
        method: "POST",
        path,
        body: Some(body),
    }
}

/// The route for a command. A goal is added with its goal-file JSON instead
/// (`POST /api/goals`), which a `NewTask` no longer has: `None` for `AddGoal`.
pub fn request(cmd: &Command) -> Option<Request> {
    let t = |id: &u64, what: &str| format!("/api/tasks/{id}/{what}");
    Some(match cmd {
        Command::AddGoal { .. } => return None,
        Command::Decide {
            task,
            decision,
            comment,
            diff_hash,
        } => post(
            t(task, "decision"),
            json!({"decision": decision, "comment": comment, "diff_hash": diff_hash}),
        ),
        Command::Signal {
            task,
            status,
            payload,
        } => post(
            t(task, "signal"),
            json!({"status": status, "payload": payload}),
        ),
        Command::ResolveSignals {
            target,
            status,
            payload,
        } => post(
            "/api/signals/resolve".into(),
            json!({"gate": target.gate, "repo": target.repo, "pr": target.pr, "status": status, "payload": payload}),
        ),
        Command::Complete {
            task,
            summary,
            review,
            artifacts,
        } => post(
            t(task, "complete"),
            json!({"summary": summary, "review": review, "artifacts": artifacts}),
        ),
        Command::Block { task, reason } => post(t(task, "block"), json!({"reason": reason})),
        Command::Artifact { task, key, value } => {
            post(t(task, "artifact"), json!({"key": key, "value": value}))
        }
        Command::Subtasks { .. } => return None,
        Command::EditPrompt { task, prompt } => post(t(task, "prompt"), json!({"prompt": prompt})),
        Command::Retry { task } => post(t(task, "retry"), json!({})),
        Command::Skip { task } => post(t(task, "skip"), json!({})),
        Command::Stop { task } => post(t(task, "stop"), json!({})),
        Command::Delete { task } => Request {
            method: "DELETE",
            path: format!("/api/tasks/{task}"),
            body: None,
        },
        Command::Land {
            task,
            into,
            strategy,
            pr,
        } => post(
            t(task, "land"),
            json!({"into": into, "strategy": strategy, "pr": pr}),
        ),
        Command::Pause => post("/api/pause".into(), json!({})),
        Command::Resume => post("/api/resume".into(), json!({})),
        Command::AnswerPermission {
            task,
            allow,
            reason,
        } => post(
            t(task, "permission"),
            json!({"allow": allow, "reason": reason}),
        ),
        // Only agents' hooks send these, never a TUI.
        Command::AskPermission { .. } | Command::ExpirePermission { .. } | Command::Hook { .. } => {
            return None
        }
    })
}

/// The command error an HTTP answer stands for.
pub fn error(e: ClientError, task: Option<u64>) -> CommandError {
    match e {
        ClientError::Api {
            status,
            message,
            body,
        } => {
            let err = &body["error"];
            let field = err["field"].as_str().map(str::to_string);
            match status {
                404 if task.is_some() => CommandError::NotFound {
                    id: task.unwrap_or(0),
                },
                409 => CommandError::Conflict {
                    message,
                    status: err["status"].as_str().map(str::to_string),
                },
                503 => CommandError::Storage { message },
                _ => CommandError::Invalid { message, field },
            }
        }
        other => CommandError::Conflict {
            message: format!("the board did not answer: {other}"),
            status: None,
        },
    }
}

/// The task a command is about, for "no task #N".
pub fn task_of(cmd: &Command) -> Option<u64> {
    match cmd {
        Command::Decide { task, .. }
        | Command::Signal { task, .. }
        | Command::Complete { task, .. }
        | Command::Block { task, .. }
        | Command::Artifact { task, .. }
        | Command::Subtasks { task, .. }
        | Command::EditPrompt { task, .. }
        | Command::Retry { task }
        | Command::Skip { task }
        | Command::Stop { task }
        | Command::Delete { task }
        | Command::AskPermission { task, .. }
        | Command::AnswerPermission { task, .. }
        | Command::ExpirePermission { task, .. }
        | Command::Hook { task, .. }
        | Command::Land { task, .. } => Some(*task),
        Command::AddGoal { .. }
        | Command::ResolveSignals { .. }
        | Command::Pause
        | Command::Resume => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Decision;

    #[test]
    fn commands_map_onto_the_documented_routes() {
        let r = request(&Command::Decide {
            task: 7,
            decision: Decision::RequestChanges,
            comment: Some("more tests".into()),
            diff_hash: Some("abc".into()),
        })
        .expect("route");
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/tasks/7/decision");
        assert_eq!(
            r.body,
            Some(
                json!({"decision": "request_changes", "comment": "more tests", "diff_hash": "abc"})
            )
        );
        let r = request(&Command::Delete { task: 3 }).expect("route");
        assert_eq!((r.method, r.path.as_str()), ("DELETE", "/api/tasks/3"));
        assert_eq!(
            request(&Command::Pause).map(|r| r.path),
            Some("/api/pause".into())
        );
    }

    #[test]
    fn answers_map_onto_command_errors() {
        let api = |status, body: Value| ClientError::Api {
            status,
            message: "m".into(),
            body,
        };
        assert_eq!(
            error(api(404, Value::Null), Some(9)),
            CommandError::NotFound { id: 9 }
        );
        assert_eq!(
            error(api(409, json!({"error": {"status": "done"}})), Some(9)),
            CommandError::Conflict {
                message: "m".into(),
                status: Some("done".into())
            }
        );
        assert!(matches!(
            error(api(503, Value::Null), None),
            CommandError::Storage { .. }
        ));
    }
}

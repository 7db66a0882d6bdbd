//! The routes agents' hooks call (`POST /api/tasks/:id/hook`, task token) and the one that
//! answers a held tool call (`POST /api/tasks/:id/permission`). A hook body is what the
//! agent handed its hook, relayed as is by `taskboard hook`; this file reads it, so the
//! relay stays dumb and the mapping is tested here.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::errors::ApiError;
use super::routes::{parse, run, task_id, Ctx};
use super::AppState;
use crate::command::{Command, HookEvent};
use crate::model::TaskId;

#[derive(Deserialize)]
struct HookBody {
    /// `claude`, `codex` or `aider`.
    agent: String,
    /// What the agent gave its hook (Claude Code: stdin JSON; Codex: the notify argument).
    #[serde(default)]
    payload: Value,
}

/// What one hook call means to the board.
#[derive(Debug, PartialEq)]
pub enum HookCall {
    Report(HookEvent),
    Permission { tool: String, input: Value },
    Ignored,
}

/// Reads a hook's payload. Unknown events are ignored, never an error: a newer agent may
/// send events this board does not know.
pub fn read_hook(agent: &str, payload: &Value) -> Result<HookCall, String> {
    let text = |k: &str| payload[k].as_str().unwrap_or("").to_string();
    Ok(match agent {
        "claude" => match payload["hook_event_name"].as_str().unwrap_or("") {
            "Notification" => {
                let mut message = text("message");
                if message.is_empty() {
                    message = text("notification_type").replace('_', " ");
                }
                HookCall::Report(HookEvent::NeedsYou { message })
            }
            "UserPromptSubmit" => HookCall::Report(HookEvent::Working),
            "Stop" => HookCall::Report(HookEvent::TurnEnded),
            "PostToolUse" | "PostToolUseFailure" => HookCall::Report(HookEvent::ToolFinished {
                tool: text("tool_name"),
                input: payload["tool_input"].clone(),
            }),
            "SessionStart" => HookCall::Report(HookEvent::SessionStarted {
                session_id: text("session_id"),
                source: payload["source"].as_str().map(str::to_string),
            }),
            "PermissionRequest" => HookCall::Permission {
                tool: payload["tool_name"]
                    .as_str()
                    .ok_or("a PermissionRequest hook needs \"tool_name\"")?
                    .to_string(),
                input: payload["tool_input"].clone(),
            },
            _ => HookCall::Ignored,
        },
        // Codex's `notify` program gets one JSON argument; today only turn ends.
        "codex" => match payload["type"].as_str().unwrap_or("") {
            "agent-turn-complete" => HookCall::Report(HookEvent::TurnEnded),
            "" => HookCall::Ignored,
            other => HookCall::Report(HookEvent::NeedsYou {
                message: other.replace('-', " "),
            }),
        },
        // aider runs its notifications command when it waits for input; it says nothing more.
        "aider" => HookCall::Report(HookEvent::NeedsYou {
            message: "aider is waiting for your input".into(),
        }),
        other => {
            return Err(format!(
                "unknown agent {other:?} (known: claude, codex, aider)"
            ))
        }
    })
}

/// The JSON a Claude Code `PermissionRequest` hook prints for an answer.
pub fn claude_decision(allow: bool, reason: Option<&str>) -> Value {
    let decision = if allow {
        json!({"behavior": "allow"})
    } else {
        json!({"behavior": "deny", "message": reason.unwrap_or("denied from taskboard")})
    };
    json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}})
}

/// `{"output": …}` is what the hook prints (null: nothing, the agent decides itself).
pub(super) async fn hook(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: HookBody = parse(body)?;
    let call =
        read_hook(&b.agent, &b.payload).map_err(|m| ApiError::bad(m, Some("agent".into())))?;
    let who = format!("hook:{}", b.agent);
    match call {
        HookCall::Ignored => Ok(Json(json!({"output": null, "ignored": true})).into_response()),
        HookCall::Report(event) => {
            let ctx = Ctx { who, ..ctx };
            run(&state, &ctx, Command::Hook { task: id, event }, false).await
        }
        HookCall::Permission { tool, input } => {
            let output = hold_permission(&state, id, tool, input, who).await?;
            Ok(Json(json!({"output": output})).into_response())
        }
    }
}

/// Holds the agent's tool call until someone answers, the wait runs out, or the session
/// ends. Null: no answer, so the agent shows its own dialog.
async fn hold_permission(
    state: &AppState,
    task: TaskId,
    tool: String,
    input: Value,
    who: String,
) -> Result<Value, ApiError> {
    let cmd = Command::AskPermission { task, tool, input };
    let (reply, answered) = state.board.ask_permission(cmd, who.clone()).await;
    let v = reply?;
    if let Some(allow) = v["decision"]["allow"].as_bool() {
        return Ok(claude_decision(allow, None));
    }
    let request = v["request"].as_u64().unwrap_or(0);
    match tokio::time::timeout(state.permission_wait, answered).await {
        Ok(Ok(a)) => Ok(claude_decision(a.allow, a.reason.as_deref())),
        // The session ended: nobody waits for this answer any more.
        Ok(Err(_)) => Ok(Value::Null),
        Err(_) => {
            let _ = state
                .board
                .command(Command::ExpirePermission { task, request }, "timer")
                .await;
            Ok(Value::Null)
        }
    }
}

#[derive(Deserialize)]
struct PermissionBody {
    allow: bool,
    reason: Option<String>,
}

pub(super) async fn permission(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: PermissionBody = parse(body)?;
    run(
        &state,
        &ctx,
        Command::AnswerPermission {
            task: id,
            allow: b.allow,
            reason: b.reason,
        },
        false,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_events() {
        let n = json!({"hook_event_name": "Notification", "message": "Claude needs your permission", "notification_type": "permission_prompt"});
        assert_eq!(
            read_hook("claude", &n),
            Ok(HookCall::Report(HookEvent::NeedsYou {
                message: "Claude needs your permission".into()
            }))
        );
        let p = json!({"hook_event_name": "PermissionRequest", "tool_name": "Bash", "tool_input": {"command": "ls"}});
        assert_eq!(
            read_hook("claude", &p),
            Ok(HookCall::Permission {
                tool: "Bash".into(),
                input: json!({"command": "ls"})
            })
        );
        assert_eq!(
            read_hook("claude", &json!({"hook_event_name": "PreCompact"})),
            Ok(HookCall::Ignored)
        );
        assert!(read_hook("claude", &json!({"hook_event_name": "PermissionRequest"})).is_err());
        assert!(read_hook("nope", &json!({})).is_err());
        assert_eq!(
            read_hook("codex", &json!({"type": "agent-turn-complete"})),
            Ok(HookCall::Report(HookEvent::TurnEnded))
        );
    }

    #[test]
    fn decisions() {
        assert_eq!(
            claude_decision(false, Some("no")),
            json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {"behavior": "deny", "message": "no"}}})
        );
    }
}

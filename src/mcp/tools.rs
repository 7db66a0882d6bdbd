//! The five tools and their input schemas (from these types, through schemars; the doc
//! comments are the field descriptions a model reads). Each tool is one call to the
//! listener; a refusal or an unreachable board is a tool error carrying the board's message
//! (`is_error`), never a protocol error or a crash of the server.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::datadir::DataDir;
use crate::http::client::{Client, ClientError};

/// What the tools act on: the agent's task, through the board its environment names.
#[derive(Clone)]
pub struct TaskboardTools {
    data: DataDir,
    task: Option<u64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CompleteArgs {
    /// One or two sentences on what you did; shown to humans and to the tasks after this one.
    pub summary: String,
    /// Ask a human to review the work before the task counts as done.
    #[serde(default)]
    pub review: bool,
    /// The task to act on, only when your prompt names one (a session that serves several
    /// tasks in turn); by default the task this session was started for.
    #[serde(default)]
    pub task: Option<u64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct BlockArgs {
    /// Why you cannot go on, in one line a human can act on (what is missing or broken).
    pub reason: String,
    /// The task to act on, only when your prompt names one (a session that serves several
    /// tasks in turn); by default the task this session was started for.
    #[serde(default)]
    pub task: Option<u64>,
}

/// The kind of a subtask.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubtaskKind {
    /// A coding agent does the work described by `prompt` (the default).
    Agent,
    /// A human checks the work before later subtasks run; `prompt` says what to check.
    HumanReview,
}

/// One subtask of the split.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewSubtask {
    /// A short title for the board.
    pub title: String,
    /// What this subtask's agent should do (for a human_review: what to check).
    pub prompt: String,
    /// A name for this subtask, so that other subtasks can list it in `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `agent` (default) or `human_review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SubtaskKind>,
    /// Keys of subtasks that must finish before this one starts (subtasks run in the
    /// order given unless told otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<String>>,
    /// Agent subtasks only: a human reviews its work before it counts as done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SubtasksArgs {
    /// The subtasks, in the order they should run.
    pub tasks: Vec<NewSubtask>,
    /// The task to act on, only when your prompt names one (a session that serves several
    /// tasks in turn); by default the task this session was started for.
    #[serde(default)]
    pub task: Option<u64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ArtifactArgs {
    /// The artifact's name: letters, digits, `_`, `-` and `.` (e.g. pr_url, report_path).
    pub key: String,
    /// The value, as text (a URL, a branch name, a path, a short report).
    pub value: String,
    /// The task to act on, only when your prompt names one (a session that serves several
    /// tasks in turn); by default the task this session was started for.
    #[serde(default)]
    pub task: Option<u64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct StatusArgs {
    /// The task to act on, only when your prompt names one (a session that serves several
    /// tasks in turn); by default the task this session was started for.
    #[serde(default)]
    pub task: Option<u64>,
}

type ToolResult = Result<String, String>;

/// A board error as the agent should read it.
fn board_error(e: ClientError) -> String {
    match e {
        ClientError::Api {
            status, message, ..
        } => format!("the board refused ({status}): {message}"),
        ClientError::Io { url, detail } => format!(
            "cannot reach the board at {url}: {detail} (is the board still running? \
             `taskboard status` shows it)"
        ),
        other => other.to_string(),
    }
}

impl TaskboardTools {
    pub fn new(data: DataDir, task: Option<u64>) -> TaskboardTools {
        TaskboardTools { data, task }
    }

    /// The task a call is about: the one the agent named, else this session's.
    fn task(&self, named: Option<u64>) -> Result<u64, String> {
        named.or(self.task).ok_or_else(|| {
            "this session is not a taskboard task: TASKBOARD_TASK_ID is not set \
             (agents started by taskboard have it; by hand, run `taskboard mcp --task ID`)"
                .to_string()
        })
    }

    /// One call to the board, for the task's `/api/tasks/<id>/<what>`.
    async fn call(
        &self,
        task: u64,
        method: &str,
        what: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        // Found afresh on each call: a board started again (by hand) is found again.
        let client = Client::discover(&self.data)
            .map_err(board_error)?
            .named("mcp");
        let path = format!("/api/tasks/{task}/{what}");
        tracing::debug!(method, path, "board call");
        client
            .call(method, &path, body.as_ref(), None)
            .await
            .map_err(board_error)
    }
}

fn ids(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| format!("#{x}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

#[tool_router]
impl TaskboardTools {
    /// Your task is finished: say what you did. It becomes done (or waits for a human
    /// review), and tasks after it may start. Once done, your session ends a few seconds
    /// later.
    #[tool]
    async fn complete(&self, Parameters(a): Parameters<CompleteArgs>) -> ToolResult {
        let id = self.task(a.task)?;
        let body = json!({"summary": a.summary, "review": a.review});
        let v = self.call(id, "POST", "complete", Some(body)).await?;
        Ok(match v["status"].as_str() {
            Some("done") => {
                format!("Task #{id} is done. You can stop now: this session ends in a few seconds.")
            }
            Some("pending_review") => format!(
                "Task #{id} waits for a human review. Stay here: requested changes arrive in \
                 this session."
            ),
            Some(other) => format!("Task #{id} is {other}."),
            None => format!("Task #{id}: {v}"),
        })
    }

    /// You cannot go on: say why. The task becomes blocked and a human is asked to look at
    /// it.
    #[tool]
    async fn block(&self, Parameters(a): Parameters<BlockArgs>) -> ToolResult {
        let id = self.task(a.task)?;
        self.call(id, "POST", "block", Some(json!({"reason": a.reason})))
            .await?;
        Ok(format!(
            "Task #{id} is blocked: {}. A human will look at it.",
            a.reason
        ))
    }

    /// Split your task into subtasks instead of doing it all yourself. Each subtask is run
    /// by its own agent (or checked by a human), in the order given. A plan-first task's
    /// split waits for a human to approve it; otherwise the subtasks run next and your
    /// session ends a few seconds later.
    #[tool]
    async fn subtasks(&self, Parameters(a): Parameters<SubtasksArgs>) -> ToolResult {
        let id = self.task(a.task)?;
        let v = self
            .call(id, "POST", "subtasks", Some(json!({"tasks": a.tasks})))
            .await?;
        let children = ids(&v["children"]);
        Ok(if v["plan"].as_bool() == Some(true) {
            format!(
                "The plan for task #{id} ({children}) waits for a human review. Stay here: \
                 requested changes arrive in this session."
            )
        } else {
            format!(
                "Task #{id} is split into {children}; they run next. You can stop now: this \
                 session ends in a few seconds."
            )
        })
    }

    /// Where your task stands: the goal, your group, your prompt, the other tasks and why
    /// they wait, and the summaries and artifacts of what finished before you. Read it
    /// before you start and after a restart.
    #[tool]
    async fn status(&self, Parameters(a): Parameters<StatusArgs>) -> ToolResult {
        let id = self.task(a.task)?;
        let v = self.call(id, "GET", "context", None).await?;
        Ok(v["text"].as_str().unwrap_or_default().to_string())
    }

    /// Store a named result on your task (a PR URL, a branch, a report path). Later tasks
    /// get it in their prompts as {result.KEY}, and `status` shows it.
    #[tool]
    async fn artifact(&self, Parameters(a): Parameters<ArtifactArgs>) -> ToolResult {
        let id = self.task(a.task)?;
        let body = json!({"key": a.key, "value": a.value});
        self.call(id, "POST", "artifact", Some(body)).await?;
        Ok(format!(
            "Stored artifact `{}` on task #{id}; later prompts read it as {{result.{}}}.",
            a.key, a.key
        ))
    }
}

#[tool_handler(
    name = "taskboard",
    instructions = "Tools for the taskboard task this agent works on. Call `status` to see where \
                    the task stands, `artifact` to leave results for later tasks, then exactly \
                    one of `complete` (finished), `block` (cannot go on) or `subtasks` (split \
                    the work)."
)]
impl ServerHandler for TaskboardTools {}

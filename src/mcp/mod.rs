//! `taskboard mcp`: the taskboard tools served to an agent over the Model Context Protocol
//! on stdin/stdout (the official Rust SDK, `rmcp`). A thin client of the listener: every tool
//! is one HTTP call with the agent's own task-scoped token, so the board's rules, scopes and
//! audit apply unchanged. stdout carries the protocol only; logs go to stderr.

mod tools;

use rmcp::ServiceExt;

use crate::datadir::DataDir;
pub use tools::{NewSubtask, SubtaskKind, TaskboardTools};

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the MCP session could not start: {0}")]
    Start(String),
    #[error("the MCP session ended with an error: {0}")]
    Serve(String),
}

/// Serves the tools until the client closes stdin. `task`: `--task` or `TASKBOARD_TASK_ID`.
pub fn run(data: DataDir, task: Option<u64>) -> Result<i32, McpError> {
    init_stderr_logs();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(McpError::Runtime)?;
    rt.block_on(async move {
        tracing::info!(task, "taskboard mcp: serving on stdio");
        let server = TaskboardTools::new(data, task)
            .serve(rmcp::transport::stdio_pipes())
            .await
            .map_err(|e| McpError::Start(e.to_string()))?;
        let reason = server
            .waiting()
            .await
            .map_err(|e| McpError::Serve(e.to_string()))?;
        tracing::info!(?reason, "taskboard mcp: session over");
        Ok(0)
    })
}

/// Tracing to stderr (stdout is the protocol's), `warn` unless `RUST_LOG` says otherwise.
fn init_stderr_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}

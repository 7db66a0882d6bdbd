//! Why an attempt could not start. The text is the blocked task's reason ("agent 'claude'
//! not found on PATH ..."), so each variant words it for the user.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// A spawn request without a program.
    #[error("empty command")]
    EmptyCommand,
    /// A profile or task command that fills to nothing.
    #[error("the command is empty")]
    EmptyTemplate,
    #[error("unknown agent profile '{name}' (known: {known})")]
    UnknownProfile { name: String, known: String },
    /// `what`: "agent" (named by its profile) or "command" (named by its program).
    #[error("{what} '{name}' not found on PATH ({program})")]
    NotFound {
        what: &'static str,
        name: String,
        program: String,
    },
    #[error("working directory {} does not exist", .0.display())]
    NoWorkDir(PathBuf),
    #[error("cannot open the log {}: {source}", .path.display())]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The PTY layer failed (`what`: "open a PTY", "start PROGRAM", ...); portable-pty's
    /// errors carry no type worth keeping, so their text is kept.
    #[error("cannot {what}: {detail}")]
    Pty { what: String, detail: String },
    /// `which`: "reader" or "waiter".
    #[error("cannot start the {which} thread: {source}")]
    Thread {
        which: &'static str,
        source: std::io::Error,
    },
    /// The agent's session files (hooks, MCP config) could not be written.
    #[error(transparent)]
    Wiring(#[from] super::wiring::WiringError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

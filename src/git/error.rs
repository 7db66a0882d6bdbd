//! Why a worktree or a review diff could not be made. The text is what a blocked task's
//! reason shows, so each variant words it for the user (git2's own message, no codes).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not a git repository: {} (run `git init` and commit, or set worktree = false)", .0.display())]
    NotARepo(PathBuf),
    #[error("cannot open the git repository {}: {}", .path.display(), .source.message())]
    Open { path: PathBuf, source: git2::Error },
    #[error("the repository {} has no commits yet: make a first commit", .0.display())]
    NoCommits(PathBuf),
    /// `what`: "HEAD" or "branch NAME".
    #[error("cannot read {what}: {}", .source.message())]
    Read { what: String, source: git2::Error },
    #[error("the worktree {} is damaged: {}", .path.display(), .source.message())]
    Damaged { path: PathBuf, source: git2::Error },
    #[error("the worktree {} is on {head}, not {branch}: remove it to start over", .path.display())]
    WrongBranch {
        path: PathBuf,
        head: String,
        branch: String,
    },
    #[error(
        "branch {branch} exists but points elsewhere ({tip}): delete or rename it, then retry"
    )]
    BranchElsewhere { branch: String, tip: String },
    #[error("cannot create branch {branch}: {}", .source.message())]
    CreateBranch { branch: String, source: git2::Error },
    #[error("cannot create {}: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot add the worktree {}: {}", .path.display(), .source.message())]
    AddWorktree { path: PathBuf, source: git2::Error },
    /// Making a worktree failed (and what was made was undone): the step and its cause.
    #[error("{0}")]
    Worktree(String),
    /// Any other libgit2 failure, as its message.
    #[error("{}", .0.message())]
    Git(#[from] git2::Error),
}

//! git2 work, always off the UI and board threads: worktrees and branches for agent tasks,
//! review diffs, and naming a repo as CI does (from `origin`).

use std::path::{Path, PathBuf};

use git2::{BranchType, Repository, WorktreeAddOptions};
use sha2::{Digest, Sha256};

use crate::model::{Kind, NewTask};
use crate::signal_match::repo_from_remote;

/// `owner/name` from the repository's `origin` remote, if it has one.
pub fn origin_repo(path: &Path) -> Option<String> {
    let repo = Repository::discover(path).ok()?;
    let remote = repo.find_remote("origin").ok()?;
    repo_from_remote(remote.url()?)
}

/// Fills `repo` of signal tasks that left it out, from the goal repo's `origin`.
pub fn fill_signal_repos(goal: &mut NewTask) {
    let Some(path) = goal.spec.goal.as_ref().map(|g| g.repo.clone()) else {
        return;
    };
    let mut origin: Option<Option<String>> = None;
    let mut stack: Vec<&mut NewTask> = vec![goal];
    while let Some(t) = stack.pop() {
        if t.kind == Kind::Signal && t.spec.repo.is_none() {
            t.spec.repo = origin.get_or_insert_with(|| origin_repo(&path)).clone();
        }
        stack.extend(t.children.iter_mut());
    }
}

/// A lower-case, dash-separated short form of a title for branch names.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 32 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "task".into()
    } else {
        out
    }
}

/// `taskboard/<board>/<task>-<slug>`
pub fn branch_name(board: &str, task: u64, title: &str) -> String {
    format!("taskboard/{board}/{task}-{}", slug(title))
}

/// Where a task's work lives.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Worktree {
    pub path: PathBuf,
    pub branch: String,
    /// The commit the branch started from (the review diff's base).
    pub base: String,
}

fn open(repo: &Path) -> Result<Repository, String> {
    let r = Repository::open(repo).map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            format!(
                "not a git repository: {} (run `git init` and commit, or set worktree = false)",
                repo.display()
            )
        } else {
            format!(
                "cannot open the git repository {}: {}",
                repo.display(),
                e.message()
            )
        }
    })?;
    if r.head().is_err() || r.head().ok().and_then(|h| h.target()).is_none() {
        return Err(format!(
            "the repository {} has no commits yet: make a first commit",
            repo.display()
        ));
    }
    Ok(r)
}

/// Held while worktrees are added or removed: libgit2 does not expect two at once in one
/// repository (two tasks of a parallel group starting together both try to create
/// `.git/worktrees` and one fails with "directory exists").
static WORKTREES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn worktrees_lock() -> std::sync::MutexGuard<'static, ()> {
    WORKTREES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Makes (or reuses, for a retry) the worktree of a task: a new branch from `base_branch`
/// (the nearest finished dependency's branch) or else the repository's HEAD.
pub fn ensure_worktree(
    repo_path: &Path,
    path: &Path,
    branch: &str,
    base_branch: Option<&str>,
) -> Result<Worktree, String> {
    let _one_at_a_time = worktrees_lock();
    let repo = open(repo_path)?;
    let base_commit = match base_branch.and_then(|b| repo.find_branch(b, BranchType::Local).ok()) {
        Some(b) => b.get().peel_to_commit().map_err(|e| {
            format!(
                "cannot read branch {}: {}",
                base_branch.unwrap_or(""),
                e.message()
            )
        })?,
        None => repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|e| format!("cannot read HEAD: {}", e.message()))?,
    };
    if path.join(".git").exists() {
        // A retry: the worktree and its work are still there.
        let wt = Repository::open(path).map_err(|e| {
            format!(
                "the worktree {} is damaged: {}",
                path.display(),
                e.message()
            )
        })?;
        let head = wt
            .head()
            .ok()
            .and_then(|h| h.shorthand().map(str::to_string))
            .unwrap_or_default();
        if head != branch {
            return Err(format!(
                "the worktree {} is on {head}, not {branch}: remove it to start over",
                path.display()
            ));
        }
        let base = merge_base_hex(&repo, branch, base_commit.id());
        return Ok(Worktree {
            path: path.to_path_buf(),
            branch: branch.to_string(),
            base,
        });
    }
    let existing = repo.find_branch(branch, BranchType::Local).ok();
    let branch_ref = match existing {
        Some(b) => {
            let tip = b
                .get()
                .peel_to_commit()
                .map_err(|e| e.message().to_string())?
                .id();
            let ok = tip == base_commit.id()
                || repo
                    .graph_descendant_of(tip, base_commit.id())
                    .unwrap_or(false);
            if !ok {
                return Err(format!("branch {branch} exists but points elsewhere ({}): delete or rename it, then retry", &tip.to_string()[..10]));
            }
            b.into_reference()
        }
        None => repo
            .branch(branch, &base_commit, false)
            .map_err(|e| format!("cannot create branch {branch}: {}", e.message()))?
            .into_reference(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("taskboard")
        .to_string();
    // A stale registration (directory removed by hand) would block the add: prune it.
    if let Ok(old) = repo.find_worktree(&name) {
        let _ = old.prune(Some(
            git2::WorktreePruneOptions::new()
                .valid(true)
                .working_tree(true),
        ));
    }
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(&branch_ref));
    repo.worktree(&name, path, Some(&opts)).map_err(|e| {
        format!(
            "cannot add the worktree {}: {}",
            path.display(),
            e.message()
        )
    })?;
    Ok(Worktree {
        path: path.to_path_buf(),
        branch: branch.to_string(),
        base: base_commit.id().to_string(),
    })
}

fn merge_base_hex(repo: &Repository, branch: &str, base: git2::Oid) -> String {
    repo.find_branch(branch, BranchType::Local)
        .ok()
        .and_then(|b| b.get().target())
        .and_then(|tip| repo.merge_base(tip, base).ok())
        .unwrap_or(base)
        .to_string()
}

/// The commit HEAD points at, if any.
pub fn head(repo_path: &Path) -> Option<String> {
    let repo = Repository::open(repo_path).ok()?;
    let oid = repo.head().ok()?.target()?;
    Some(oid.to_string())
}

/// The head commit of a branch, if it exists.
pub fn branch_head(repo_path: &Path, branch: &str) -> Option<String> {
    let repo = Repository::open(repo_path).ok()?;
    let b = repo.find_branch(branch, BranchType::Local).ok()?;
    b.get().target().map(|o| o.to_string())
}

/// A review diff: the patch text, its SHA-256, and a `git diff --stat`-like summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    pub patch: String,
    pub hash: String,
    pub stat: String,
}

/// The diff base..branch (committed work), plus what is not committed yet in the worktree.
pub fn diff(repo_path: &Path, base: &str, branch: &str) -> Result<Diff, String> {
    let repo = Repository::open(repo_path).map_err(|e| e.message().to_string())?;
    let base = repo
        .find_commit(git2::Oid::from_str(base).map_err(|e| e.message().to_string())?)
        .map_err(|e| e.message().to_string())?;
    let tip = repo
        .find_branch(branch, BranchType::Local)
        .and_then(|b| b.get().peel_to_commit())
        .map_err(|e| format!("cannot read branch {branch}: {}", e.message()))?;
    let d = repo
        .diff_tree_to_tree(
            Some(&base.tree().map_err(|e| e.message().to_string())?),
            Some(&tip.tree().map_err(|e| e.message().to_string())?),
            None,
        )
        .map_err(|e| e.message().to_string())?;
    let mut patch = Vec::new();
    d.print(git2::DiffFormat::Patch, |_, _, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            patch.push(line.origin() as u8);
        }
        patch.extend_from_slice(line.content());
        true
    })
    .map_err(|e| e.message().to_string())?;
    let stats = d.stats().map_err(|e| e.message().to_string())?;
    let stat = stats
        .to_buf(git2::DiffStatsFormat::FULL, 80)
        .ok()
        .and_then(|b| b.as_str().map(str::to_string))
        .unwrap_or_default();
    let hash = hex::encode(Sha256::digest(&patch));
    Ok(Diff {
        patch: String::from_utf8_lossy(&patch).into_owned(),
        hash,
        stat,
    })
}

/// Removes the worktrees under `dir` whose names start with `<goal>-` (branches stay).
pub fn remove_worktrees(repo_path: &Path, dir: &Path, goal: u64) -> Vec<String> {
    let _one_at_a_time = worktrees_lock();
    let mut errors = Vec::new();
    let prefix = format!("{goal}-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return errors;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with(&prefix) {
            continue;
        }
        if let Err(err) = std::fs::remove_dir_all(e.path()) {
            errors.push(format!("{}: {err}", e.path().display()));
        }
        if let Ok(repo) = Repository::open(repo_path) {
            if let Ok(wt) = repo.find_worktree(&name) {
                let _ = wt.prune(Some(git2::WorktreePruneOptions::new().valid(true)));
            }
        }
    }
    errors
}

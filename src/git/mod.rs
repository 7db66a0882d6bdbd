//! git2 work, always off the UI and board threads: worktrees and branches for agent tasks,
//! review diffs, and naming a repo as CI does (from `origin`). Worktrees are made and
//! cleaned in `worktree`; conflict checks, landing and pull requests live in the other
//! submodules.

pub mod checkout;
pub mod conflicts;
mod error;
pub mod land;
pub mod pr;
pub mod watch;
mod worktree;

use std::path::{Path, PathBuf};

use git2::{BranchType, Repository};
use sha2::{Digest, Sha256};

pub use error::GitError;

use crate::model::{Kind, NewTask};
use crate::signal_match::repo_from_remote;
pub use worktree::{ensure_worktree, reconcile, remove_worktrees, Reconciled, Worktree};

/// `owner/name` from the repository's `origin` remote, if it has one.
pub fn origin_repo(path: &Path) -> Option<String> {
    let repo = Repository::discover(path).ok()?;
    let remote = repo.find_remote("origin").ok()?;
    repo_from_remote(remote.url()?)
}

/// The branch a repository (or worktree) has checked out, if HEAD names one.
pub fn current_branch(path: &Path) -> Option<String> {
    let repo = Repository::open(path).ok()?;
    let head = repo.find_reference("HEAD").ok()?;
    head.symbolic_target()?
        .strip_prefix("refs/heads/")
        .map(str::to_string)
}

/// Fills in what a goal learns from its repository when it is added: `repo` of signal
/// tasks that left it out (from `origin`), and the branch checked out now (where `land`
/// tasks merge by default, and what the conflict watcher compares branches against).
pub fn fill_signal_repos(goal: &mut NewTask) {
    let Some(path) = goal.spec.goal.as_ref().map(|g| g.repo.clone()) else {
        return;
    };
    if let Some(g) = goal.spec.goal.as_mut().filter(|g| g.branch.is_none()) {
        g.branch = current_branch(&path);
    }
    let mut origin: Option<Option<String>> = None;
    let mut stack: Vec<&mut NewTask> = vec![goal];
    while let Some(t) = stack.pop() {
        // A `pr_url` filled from a result names its own repository when the gate arms.
        let from_result = t
            .spec
            .pr_url
            .as_deref()
            .is_some_and(|u| u.contains("{result."));
        if t.kind == Kind::Signal && t.spec.repo.is_none() && !from_result {
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

pub(crate) fn open(repo: &Path) -> Result<Repository, GitError> {
    let r = Repository::open(repo).map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            GitError::NotARepo(repo.to_path_buf())
        } else {
            GitError::Open {
                path: repo.to_path_buf(),
                source: e,
            }
        }
    })?;
    if r.head().is_err() || r.head().ok().and_then(|h| h.target()).is_none() {
        return Err(GitError::NoCommits(repo.to_path_buf()));
    }
    Ok(r)
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
pub fn diff(repo_path: &Path, base: &str, branch: &str) -> Result<Diff, GitError> {
    let repo = Repository::open(repo_path)?;
    let base = repo.find_commit(git2::Oid::from_str(base)?)?;
    let tip = repo
        .find_branch(branch, BranchType::Local)
        .and_then(|b| b.get().peel_to_commit())
        .map_err(|source| GitError::Read {
            what: format!("branch {branch}"),
            source,
        })?;
    let d = repo.diff_tree_to_tree(Some(&base.tree()?), Some(&tip.tree()?), None)?;
    let mut patch = Vec::new();
    d.print(git2::DiffFormat::Patch, |_, _, line| {
        if matches!(line.origin(), '+' | '-' | ' ') {
            patch.push(line.origin() as u8);
        }
        patch.extend_from_slice(line.content());
        true
    })?;
    let stats = d.stats()?;
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

/// Saves a review diff as `<dir>/<task>-<hash prefix>.patch`: written to a temp file and
/// synced, then renamed, so a reviewer never reads a patch cut short by a crash (a temp
/// file left by one is removed at the next start, see [`clear_temp_patches`]).
pub fn save_patch(dir: &Path, task: u64, d: &Diff) -> Result<PathBuf, String> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = format!("{task}-{}.patch", &d.hash[..16.min(d.hash.len())]);
    let (file, tmp) = (dir.join(&name), dir.join(format!("{name}.tmp")));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(d.patch.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", tmp.display()));
    }
    crate::fault::point(crate::fault::DIFF_SAVE);
    std::fs::rename(&tmp, &file)
        .map_err(|e| format!("cannot rename {} into place: {e}", tmp.display()))?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(file)
}

/// Removes the temp files of patches whose saving a crash interrupted; how many.
pub fn clear_temp_patches(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".patch.tmp"))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

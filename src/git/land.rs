//! Landing: merging the branches of a goal's agent tasks into a target branch, or onto a
//! branch for a pull request. Merges are made in memory (git2 merges the trees into an
//! in-memory index, which is written as a tree and a commit), so no checkout is ever used to
//! merge: not the user's, not a worktree's. Moving the target afterwards is
//! `checkout::advance`'s job, which never loses an uncommitted change.

use std::path::PathBuf;

use git2::{Oid, Repository, Signature};

use super::checkout::{self, Checkout};
use crate::model::{LandStrategy, TaskId};

/// One branch to land: the task it belongs to, for messages and commit texts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LandBranch {
    pub task: TaskId,
    pub title: String,
    pub branch: String,
}

#[derive(Clone, Debug)]
pub struct LandRequest {
    pub repo: PathBuf,
    /// `None`: the branch the repository has checked out now.
    pub into: Option<String>,
    pub strategy: LandStrategy,
    /// In tree order.
    pub branches: Vec<LandBranch>,
    /// The land task, for commit messages.
    pub task: TaskId,
    pub title: String,
    /// For a pull request: put the result on this branch and leave `into` alone.
    pub pr_branch: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Landed {
    pub into: String,
    /// `into` before landing.
    pub before: String,
    /// The result: the new tip of `into` (or of `pr_branch`).
    pub commit: String,
    pub merged: Vec<String>,
    /// Branches not merged, with why ("already in main", "in a later branch").
    pub skipped: Vec<String>,
    pub checkout: Checkout,
}

/// Why landing stopped. Each message is the blocked task's reason: what to do next.
#[derive(Debug, thiserror::Error)]
pub enum LandError {
    #[error("cannot open the repository {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("{0}")]
    NoTarget(String),
    #[error("branch {branch} of #{task} is gone: restore it, or skip that task, then retry (R)")]
    Gone { task: TaskId, branch: String },
    #[error("merging {branch} (#{task}) into {into} conflicts in {}: resolve it on that branch (or add a task with +), then retry (R)", files.join(", "))]
    Conflict {
        task: TaskId,
        branch: String,
        into: String,
        files: Vec<String>,
    },
    #[error("cannot fast-forward {into} to {branch} (#{task}): they have diverged; use strategy = \"merge\" or \"squash\"")]
    Diverged {
        task: TaskId,
        branch: String,
        into: String,
    },
    #[error("landing on {into} would touch uncommitted work in {}: {}; commit, stash or move it, then retry (R) (nothing was changed; the merged work is commit {commit})", path.display(), files.join(", "))]
    WouldTouch {
        into: String,
        path: PathBuf,
        files: Vec<String>,
        commit: String,
    },
    #[error("{path} has {op} in progress on {into}: finish or abort it, then retry (R) (nothing was changed; the merged work is commit {commit})", path = path.display())]
    Busy {
        into: String,
        path: PathBuf,
        op: &'static str,
        commit: String,
    },
    #[error("{into} moved while landing ({detail}): retry (R)")]
    Moved { into: String, detail: String },
    #[error("nothing to propose: {into} already has all of this work")]
    NothingToPropose { into: String },
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
}

/// Lands one request at a time per process: two land tasks racing for one branch would
/// otherwise both read the same tip.
static LANDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Merges the branches by `strategy` and moves `into` (or writes `pr_branch`).
pub fn land(req: &LandRequest) -> Result<Landed, LandError> {
    let _one_at_a_time = LANDING.lock().unwrap_or_else(|p| p.into_inner());
    let repo = Repository::open(&req.repo).map_err(|e| LandError::Open {
        path: req.repo.clone(),
        message: e.message().to_string(),
    })?;
    let into = match &req.into {
        Some(b) => b.clone(),
        None => super::current_branch(&req.repo).ok_or_else(|| {
            LandError::NoTarget(format!(
                "no branch to land on: {} has no branch checked out; set `into`",
                req.repo.display()
            ))
        })?,
    };
    let old = repo
        .find_reference(&format!("refs/heads/{into}"))
        .ok()
        .and_then(|r| r.resolve().ok())
        .and_then(|r| r.target())
        .ok_or_else(|| {
            LandError::NoTarget(format!(
                "branch {into} does not exist in {}: create it, or set `into` to another branch",
                req.repo.display()
            ))
        })?;
    let mut tips = Vec::with_capacity(req.branches.len());
    for b in &req.branches {
        let tip = repo
            .find_reference(&format!("refs/heads/{}", b.branch))
            .ok()
            .and_then(|r| r.target())
            .ok_or_else(|| LandError::Gone {
                task: b.task,
                branch: b.branch.clone(),
            })?;
        tips.push((b, tip));
    }
    let sig = signature(&repo);
    let (mut tip, mut merged, mut skipped) = (old, Vec::new(), Vec::new());
    for (i, (b, theirs)) in tips.iter().enumerate() {
        if *theirs == tip || repo.graph_descendant_of(tip, *theirs)? {
            skipped.push(format!("{} (already in {into})", b.branch));
            continue;
        }
        // A stacked chain lands once: through its last branch, which contains the others.
        let later = tips[i + 1..]
            .iter()
            .find(|(_, t)| *t == *theirs || repo.graph_descendant_of(*t, *theirs).unwrap_or(false));
        if let Some((l, _)) = later {
            skipped.push(format!("{} (in {})", b.branch, l.branch));
            continue;
        }
        tip = match req.strategy {
            LandStrategy::Ff if repo.graph_descendant_of(*theirs, tip)? => *theirs,
            LandStrategy::Ff => {
                return Err(LandError::Diverged {
                    task: b.task,
                    branch: b.branch.clone(),
                    into,
                })
            }
            LandStrategy::Merge | LandStrategy::Squash => {
                merge(&repo, &sig, tip, *theirs, b, &into, req.task)?
            }
        };
        merged.push(b.branch.clone());
    }
    if req.strategy == LandStrategy::Squash && tip != old {
        let tree = repo.find_commit(tip)?.tree()?;
        let parent = repo.find_commit(old)?;
        let list: Vec<String> = req
            .branches
            .iter()
            .filter(|b| merged.contains(&b.branch))
            .map(|b| format!("- #{} {} ({})", b.task, b.title, b.branch))
            .collect();
        let message = format!(
            "{}\n\nSquashed by taskboard (task #{}):\n{}\n",
            req.title,
            req.task,
            list.join("\n")
        );
        tip = repo.commit(None, &sig, &sig, &message, &tree, &[&parent])?;
    }
    let checkout = match &req.pr_branch {
        Some(branch) => {
            if tip == old {
                return Err(LandError::NothingToPropose { into });
            }
            repo.reference(
                &format!("refs/heads/{branch}"),
                tip,
                true,
                &format!("taskboard: land #{} for a pull request", req.task),
            )?;
            Checkout::Untouched
        }
        None if tip == old => Checkout::Untouched,
        None => checkout::advance(
            &repo,
            &into,
            old,
            tip,
            &format!("taskboard: land #{}", req.task),
        )?,
    };
    Ok(Landed {
        into,
        before: old.to_string(),
        commit: tip.to_string(),
        merged,
        skipped,
        checkout,
    })
}

/// A merge commit of `theirs` into `ours`, or the files that conflict.
fn merge(
    repo: &Repository,
    sig: &Signature,
    ours: Oid,
    theirs: Oid,
    b: &LandBranch,
    into: &str,
    task: TaskId,
) -> Result<Oid, LandError> {
    let (o, t) = (repo.find_commit(ours)?, repo.find_commit(theirs)?);
    let mut index = repo.merge_commits(&o, &t, None)?;
    if index.has_conflicts() {
        return Err(LandError::Conflict {
            task: b.task,
            branch: b.branch.clone(),
            into: into.to_string(),
            files: super::conflicts::index_conflicts(&index)?,
        });
    }
    let tree = repo.find_tree(index.write_tree_to(repo)?)?;
    let message = format!(
        "Merge {} into {into}\n\n#{} {}\nLanded by taskboard (task #{task}).\n",
        b.branch, b.task, b.title
    );
    Ok(repo.commit(None, sig, sig, &message, &tree, &[&o, &t])?)
}

/// The repository's configured identity, else taskboard's own.
fn signature(repo: &Repository) -> Signature<'static> {
    repo.signature()
        .map(|s| s.to_owned())
        .or_else(|_| Signature::now("taskboard", "taskboard@localhost"))
        .unwrap_or_else(|_| {
            // Only fails for names with angle brackets or newlines, which these have not.
            unreachable!("a fixed, valid signature")
        })
}

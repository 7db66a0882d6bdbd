//! Moving a branch that a person may have checked out, without ever losing their work.
//!
//! `advance` moves `refs/heads/<into>` from `old` to `new` (a descendant made by landing).
//! When `into` is no longer at `old` (someone committed while landing ran), nothing is
//! written. Then:
//! - not checked out anywhere: only the ref moves (compare-and-swap on `old`);
//! - checked out (the main checkout or a linked worktree): the paths that differ between
//!   `old` and `new` are checked against the checkout's status first. Any of them modified,
//!   staged, deleted, untracked or ignored in the way (or under / over a directory in the
//!   way) → nothing is written and the reason names them. Otherwise only those paths are
//!   written (git2 safe checkout, which refuses to overwrite anything it did not expect),
//!   then the ref moves. Uncommitted changes to other paths, staged or not, stay as they are.
//!   A checkout in the middle of a merge, rebase, cherry-pick, revert or `git am` is not
//!   touched at all: moving its branch would change what that operation finishes with.
//!
//! A landing cut short between writing the checkout and moving the ref (a crash, a kill:
//! the `land` fault point) leaves the landed files in the checkout and its index with the
//! ref where it was. Landing again (the task does after a restart) takes them as already
//! landed, not in the way: a changed path whose file already holds exactly what landing
//! writes there (or is absent where landing deletes it), and whose index entry is the old or
//! the new one, loses nothing when the ref moves. Its index entry is set from the file (the
//! file is never written) and the ref moves.

use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{Delta, Oid, Repository, RepositoryState, Status, StatusOptions, Tree};

use super::land::LandError;

/// What happened to the user's checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checkout {
    /// `into` is not checked out anywhere: only its ref moved.
    RefOnly,
    /// The checkout at `path` was brought up to date; `dirty` when it had uncommitted
    /// changes elsewhere, which were left as they were.
    Updated { path: PathBuf, dirty: bool },
    /// Nothing moved (nothing to land, or a branch for a pull request).
    Untouched,
}

impl Checkout {
    /// One word for the result JSON: `ref_only`, `updated`, `updated_dirty`, `untouched`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Checkout::RefOnly => "ref_only",
            Checkout::Updated { dirty: false, .. } => "updated",
            Checkout::Updated { dirty: true, .. } => "updated_dirty",
            Checkout::Untouched => "untouched",
        }
    }
}

/// Moves `into` from `old` to `new`, bringing a checkout of it along when that is safe.
pub fn advance(
    repo: &Repository,
    into: &str,
    old: Oid,
    new: Oid,
    message: &str,
) -> Result<Checkout, LandError> {
    let refname = format!("refs/heads/{into}");
    // Checked before any file is written, not only when the ref moves.
    match repo.refname_to_id(&refname) {
        Ok(now) if now == old => {}
        Ok(now) => {
            return Err(LandError::Moved {
                into: into.to_string(),
                detail: format!("it is at {now} now, not at {old}"),
            })
        }
        Err(e) => {
            return Err(LandError::Moved {
                into: into.to_string(),
                detail: e.message().to_string(),
            })
        }
    }
    let Some(wt) = checkout_of(repo, &refname) else {
        // The merged commits exist; the ref has not moved yet.
        crate::fault::point(crate::fault::LAND);
        move_ref(repo, into, &refname, old, new, message)?;
        return Ok(Checkout::RefOnly);
    };
    let path = wt.workdir().map(Path::to_path_buf).unwrap_or_default();
    if let Some(op) = operation(wt.state()) {
        return Err(LandError::Busy {
            into: into.to_string(),
            path,
            op,
            commit: new.to_string(),
        });
    }
    let old_tree = repo.find_commit(old)?.tree()?;
    let new_tree = repo.find_commit(new)?.tree()?;
    let changed = changed_paths(repo, &old_tree, &new_tree)?;
    let (in_the_way, landed, dirty) = in_the_way(&wt, &changed, &old_tree, &new_tree)?;
    if !in_the_way.is_empty() {
        return Err(LandError::WouldTouch {
            into: into.to_string(),
            path,
            files: in_the_way,
            commit: new.to_string(),
        });
    }
    let rest: Vec<&String> = changed.iter().filter(|p| !landed.contains(p)).collect();
    if !rest.is_empty() {
        let mut co = CheckoutBuilder::new();
        // Safe, never forced: libgit2 checks every path against the checkout before
        // writing any, and refuses if one changed since the check above.
        co.safe()
            .overwrite_ignored(false)
            .disable_pathspec_match(true);
        for p in &rest {
            co.path(p.as_str());
        }
        // The tree as the checkout's own repository object (libgit2 wants them to match).
        let target = wt.find_tree(new_tree.id())?;
        wt.checkout_tree(target.as_object(), Some(&mut co))
            .map_err(|e| match e.code() {
                git2::ErrorCode::Conflict => LandError::WouldTouch {
                    into: into.to_string(),
                    path: path.clone(),
                    files: vec![e.message().to_string()],
                    commit: new.to_string(),
                },
                _ => LandError::Git(e),
            })?;
    }
    if !landed.is_empty() {
        // What a landing cut short already wrote: the index follows the files.
        let mut index = wt.index()?;
        for p in &landed {
            if wt.workdir().is_some_and(|d| d.join(p).exists()) {
                index.add_path(Path::new(p))?;
            } else {
                index.remove_path(Path::new(p))?;
            }
        }
        index.write()?;
    }
    // The checkout holds the landed work; the ref has not moved yet.
    crate::fault::point(crate::fault::LAND);
    move_ref(repo, into, &refname, old, new, message)?;
    Ok(Checkout::Updated { path, dirty })
}

/// The main checkout or linked worktree whose HEAD is `refname`, if any (bare ones aside).
fn checkout_of(repo: &Repository, refname: &str) -> Option<Repository> {
    let mut all: Vec<Repository> = Vec::new();
    if let Ok(main) = Repository::open(repo.commondir()) {
        all.push(main);
    }
    if let Ok(names) = repo.worktrees() {
        for name in names.iter().flatten() {
            if let Ok(r) = repo
                .find_worktree(name)
                .and_then(|w| Repository::open_from_worktree(&w))
            {
                all.push(r);
            }
        }
    }
    all.into_iter().find(|r| {
        !r.is_bare()
            && (r
                .find_reference("HEAD")
                .ok()
                .is_some_and(|h| h.symbolic_target() == Some(refname))
                || rebasing(r).as_deref() == Some(refname))
    })
}

/// The branch a rebase in this checkout will write when it finishes (HEAD is detached
/// meanwhile, but the branch is still the user's).
fn rebasing(r: &Repository) -> Option<String> {
    ["rebase-merge/head-name", "rebase-apply/head-name"]
        .iter()
        .find_map(|f| std::fs::read_to_string(r.path().join(f)).ok())
        .map(|s| s.trim().to_string())
}

/// The operation a checkout is in the middle of, if any.
fn operation(state: RepositoryState) -> Option<&'static str> {
    use RepositoryState as S;
    match state {
        // A bisect only looks at commits; `git bisect reset` goes back to the branch by name.
        S::Clean | S::Bisect => None,
        S::Merge => Some("a merge"),
        S::Revert | S::RevertSequence => Some("a revert"),
        S::CherryPick | S::CherryPickSequence => Some("a cherry-pick"),
        S::Rebase | S::RebaseInteractive | S::RebaseMerge => Some("a rebase"),
        S::ApplyMailbox | S::ApplyMailboxOrRebase => Some("git am"),
    }
}

/// Compare-and-swap: the ref moves only if it still points at `old`.
fn move_ref(
    repo: &Repository,
    into: &str,
    refname: &str,
    old: Oid,
    new: Oid,
    message: &str,
) -> Result<(), LandError> {
    repo.reference_matching(refname, new, true, old, message)
        .map(|_| ())
        .map_err(|e| LandError::Moved {
            into: into.to_string(),
            detail: e.message().to_string(),
        })
}

/// Every path that differs between the two trees (both sides of a rename).
fn changed_paths(repo: &Repository, old: &Tree, new: &Tree) -> Result<Vec<String>, git2::Error> {
    let diff = repo.diff_tree_to_tree(Some(old), Some(new), None)?;
    let mut out = Vec::new();
    for d in diff.deltas() {
        if d.status() == Delta::Unmodified {
            continue;
        }
        for f in [d.old_file(), d.new_file()] {
            if let Some(p) = f.path() {
                let p = p.to_string_lossy().into_owned();
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    Ok(out)
}

/// The checkout's entries that overlap `changed` ("path (modified)", …), the changed paths
/// that already hold what landing writes (see the module docs), and whether the checkout has
/// any other uncommitted change.
fn in_the_way(
    wt: &Repository,
    changed: &[String],
    old: &Tree,
    new: &Tree,
) -> Result<(Vec<String>, Vec<String>, bool), git2::Error> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(true)
        .recurse_ignored_dirs(false)
        .exclude_submodules(false);
    let statuses = wt.statuses(Some(&mut opts))?;
    let index = wt.index()?;
    let mut hits = Vec::new();
    let mut landed = Vec::new();
    let mut dirty = false;
    for e in statuses.iter() {
        let st = e.status();
        if st == Status::CURRENT {
            continue;
        }
        let path = String::from_utf8_lossy(e.path_bytes()).into_owned();
        if changed.contains(&path) && already_landed(wt, &index, &path, old, new) {
            landed.push(path);
            continue;
        }
        if !st.contains(Status::IGNORED) {
            dirty = true;
        }
        if changed.iter().any(|c| overlaps(&path, c)) {
            hits.push(format!("{path} ({})", what(st)));
        }
    }
    Ok((hits, landed, dirty))
}

/// The blob a tree holds at `path` (`None`: no file there).
fn blob_at(tree: &Tree, path: &str) -> Option<Oid> {
    tree.get_path(Path::new(path))
        .ok()
        .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
        .map(|e| e.id())
}

/// Does the checkout's `path` already hold what landing writes there (see the module docs)?
fn already_landed(
    wt: &Repository,
    index: &git2::Index,
    path: &str,
    old: &Tree,
    new: &Tree,
) -> bool {
    let (was, will) = (blob_at(old, path), blob_at(new, path));
    let staged = index.get_path(Path::new(path), 0).map(|e| e.id);
    if staged != was && staged != will {
        return false;
    }
    let Some(file) = wt.workdir().map(|d| d.join(path)) else {
        return false;
    };
    let on_disk = match std::fs::symlink_metadata(&file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Ok(m) if m.is_file() => match Oid::hash_file(git2::ObjectType::Blob, &file) {
            Ok(id) => Some(id),
            Err(_) => return false,
        },
        // A directory, a symlink, an unreadable file: left to the usual checks.
        _ => return false,
    };
    on_disk == will
}

/// Does a status entry (a file, or a directory ending in `/`) stand where `changed` goes?
fn overlaps(entry: &str, changed: &str) -> bool {
    let e = entry.trim_end_matches('/');
    e == changed || changed.starts_with(&format!("{e}/")) || e.starts_with(&format!("{changed}/"))
}

fn what(st: Status) -> &'static str {
    if st.contains(Status::CONFLICTED) {
        "unmerged"
    } else if st.intersects(
        Status::INDEX_NEW | Status::INDEX_MODIFIED | Status::INDEX_DELETED | Status::INDEX_RENAMED,
    ) {
        "staged"
    } else if st.contains(Status::WT_DELETED) {
        "deleted"
    } else if st.contains(Status::WT_NEW) {
        "untracked"
    } else if st.contains(Status::IGNORED) {
        "ignored"
    } else {
        "modified"
    }
}

#[cfg(test)]
mod tests {
    use super::overlaps;

    #[test]
    fn entries_overlap_paths_above_and_below_them() {
        assert!(overlaps("a.txt", "a.txt"));
        assert!(overlaps("docs/", "docs/a.md"));
        assert!(overlaps("docs", "docs/a.md"));
        assert!(overlaps("docs/a.md", "docs"));
        assert!(!overlaps("doc", "docs/a.md"));
        assert!(!overlaps("a.txt", "b.txt"));
        assert!(!overlaps("docs2/x", "docs"));
    }
}

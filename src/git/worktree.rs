//! Task worktrees: made (locked until complete, undone entirely when making fails), removed
//! (registration first, then the directory), and put back in order at start after a crash:
//! what a kill left half-made or no longer belonging to a task is removed, and stale lock
//! files in the board's own namespace are deleted. `git worktree list` then shows exactly
//! the complete worktrees of tasks still on the board.

use std::path::{Path, PathBuf};

use git2::{BranchType, Repository, WorktreeAddOptions};

use super::{open, GitError};
use crate::fault;

/// Held while worktrees are added or removed: libgit2 does not expect two at once in one
/// repository (two tasks of a parallel group starting together both try to create
/// `.git/worktrees` and one fails with "directory exists").
static WORKTREES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn worktrees_lock() -> std::sync::MutexGuard<'static, ()> {
    WORKTREES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where a task's work lives.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Worktree {
    pub path: PathBuf,
    pub branch: String,
    /// The commit the branch started from (the review diff's base).
    pub base: String,
}

/// A worktree's registration in its repository: `<common dir>/worktrees/<name>`.
fn admin_dir(repo: &Repository, name: &str) -> PathBuf {
    repo.commondir().join("worktrees").join(name)
}

/// The registration named by a worktree directory's `.git` file (`gitdir: …`), if any.
fn admin_of(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join(".git")).ok()?;
    let p = text.strip_prefix("gitdir:")?.trim();
    Some(PathBuf::from(p))
}

/// The repository's common dir, from a registration path (`<common>/worktrees/<name>`).
fn common_of(admin: &Path) -> Option<PathBuf> {
    admin.parent()?.parent().map(Path::to_path_buf)
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Finished: registered (gitdir, commondir, HEAD) where its `.git` file says, and not
/// locked the way we lock a worktree while making it (an empty `locked` file; a lock with
/// a reason is a person's `git worktree lock --reason` and leaves it alone).
fn complete(dir: &Path, admin: &Path) -> bool {
    let making = std::fs::read(admin.join("locked"))
        .map(|c| c.iter().all(u8::is_ascii_whitespace))
        .unwrap_or(false);
    dir.join(".git").is_file()
        && admin_of(dir).is_some_and(|a| same_path(&a, admin))
        && ["gitdir", "commondir", "HEAD"]
            .iter()
            .all(|f| admin.join(f).is_file())
        && !making
}

/// Removes a worktree: its registration first (so that nothing in the repository points at a
/// half-removed directory), then the directory. A kill in between leaves a directory the
/// next start removes.
fn remove_both(admin: Option<&Path>, dir: &Path) -> Result<(), String> {
    if let Some(a) = admin.filter(|a| a.exists()) {
        std::fs::remove_dir_all(a).map_err(|e| format!("{}: {e}", a.display()))?;
        if dir.exists() {
            fault::point(fault::WORKTREE_REMOVE);
        }
    }
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", dir.display())),
    }
}

/// Makes (or reuses, for a retry) the worktree of a task: a new branch from `base_branch`
/// (the nearest finished dependency's branch) or else the repository's HEAD. The worktree
/// is locked while it is being made; when making it fails (a full disk, say) everything
/// made by this call is undone: the directory, the registration, and the branch if it is
/// new.
pub fn ensure_worktree(
    repo_path: &Path,
    path: &Path,
    branch: &str,
    base_branch: Option<&str>,
) -> Result<Worktree, GitError> {
    let _one_at_a_time = worktrees_lock();
    let repo = open(repo_path)?;
    make_worktree(&repo, path, branch, base_branch).map_err(GitError::Worktree)
}

/// [`ensure_worktree`]'s work once the repository is open; the text says what failed and
/// what was undone.
fn make_worktree(
    repo: &Repository,
    path: &Path,
    branch: &str,
    base_branch: Option<&str>,
) -> Result<Worktree, String> {
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
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("taskboard")
        .to_string();
    let admin = admin_of(path).unwrap_or_else(|| admin_dir(repo, &name));
    if complete(path, &admin) {
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
        let base = merge_base_hex(repo, branch, base_commit.id());
        return Ok(Worktree {
            path: path.to_path_buf(),
            branch: branch.to_string(),
            base,
        });
    }
    // Half made by a run that was killed (no agent ever worked in it), or a stale
    // registration of a directory removed by hand: start over.
    remove_both(Some(&admin), path)
        .map_err(|e| format!("cannot clear a half-made worktree: {e}"))?;
    let admin = admin_dir(repo, &name);
    remove_both(Some(&admin), path)
        .map_err(|e| format!("cannot clear a stale worktree registration: {e}"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let existing = repo.find_branch(branch, BranchType::Local).ok();
    let is_new = existing.is_none();
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
        None => {
            let r = repo
                .branch(branch, &base_commit, false)
                .map_err(|e| format!("cannot create branch {branch}: {}", e.message()))?
                .into_reference();
            fault::point(fault::WORKTREE_BRANCH);
            r
        }
    };
    let undo = |why: String| -> String {
        let mut notes = Vec::new();
        if let Err(e) = remove_both(Some(&admin), path) {
            notes.push(e);
        }
        if is_new {
            if let Ok(mut b) = repo.find_branch(branch, BranchType::Local) {
                if let Err(e) = b.delete() {
                    notes.push(format!("branch {branch}: {}", e.message()));
                }
            }
        }
        if notes.is_empty() {
            why
        } else {
            format!("{why} (and cleaning up failed: {})", notes.join("; "))
        }
    };
    let mut opts = WorktreeAddOptions::new();
    opts.reference(Some(&branch_ref)).lock(true);
    let wt = match repo.worktree(&name, path, Some(&opts)) {
        Ok(wt) => wt,
        Err(e) => {
            return Err(undo(format!(
                "cannot add the worktree {}: {}",
                path.display(),
                e.message()
            )))
        }
    };
    fault::point(fault::WORKTREE_ADD);
    if let Err(e) = wt.unlock() {
        return Err(undo(format!(
            "cannot finish the worktree {}: {}",
            path.display(),
            e.message()
        )));
    }
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

/// Removes the worktrees under `dir` whose names start with `<goal>-` (branches stay).
pub fn remove_worktrees(repo_path: &Path, dir: &Path, goal: u64) -> Vec<String> {
    let _one_at_a_time = worktrees_lock();
    let mut errors = Vec::new();
    let prefix = format!("{goal}-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return errors;
    };
    let repo = Repository::open(repo_path).ok();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with(&prefix) {
            continue;
        }
        let admin = admin_of(&e.path()).or_else(|| repo.as_ref().map(|r| admin_dir(r, &name)));
        if let Err(err) = remove_both(admin.as_deref(), &e.path()) {
            errors.push(err);
        }
    }
    errors
}

/// What `reconcile` did, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub removed: Vec<String>,
    pub unlocked: Vec<String>,
    pub errors: Vec<String>,
}

/// Puts the board's worktrees in order at start (nothing else runs yet): in `dir` (the data
/// dir's `worktrees/`) and in each of `repos`, removes every worktree of ours that is
/// half-made or whose task is gone (`keep(name)` is false), registrations of ours whose
/// directory is gone, and lock files a killed run left in our namespace (our worktrees'
/// registrations, and `refs/heads/taskboard/<board>/` with its reflogs). Repository-wide
/// lock files that no process has open are removed too (see [`clear_abandoned`]): the
/// agents' `git` commands killed with the earlier run, or by the start's sweep of its
/// processes, leave them (e.g. `objects/maintenance.lock` of a detached auto maintenance).
/// Runs after that sweep.
pub fn reconcile(
    dir: &Path,
    repos: &[PathBuf],
    board: &str,
    keep: &dyn Fn(&str) -> bool,
) -> Reconciled {
    let _one_at_a_time = worktrees_lock();
    let mut out = Reconciled::default();
    let dir = &std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut commons: Vec<PathBuf> = repos
        .iter()
        .filter_map(|r| Repository::open(r).ok())
        .map(|r| r.commondir().to_path_buf())
        .collect();
    // Directories first: each names its registration (and so its repository).
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let (path, name) = (e.path(), e.file_name().to_string_lossy().to_string());
        let admin = admin_of(&path);
        if let Some(c) = admin.as_deref().and_then(common_of) {
            commons.push(c);
        }
        let whole = admin.as_deref().is_some_and(|a| complete(&path, a));
        if !whole || !keep(&name) {
            match remove_both(admin.as_deref(), &path) {
                Ok(()) => out.removed.push(path.display().to_string()),
                Err(err) => out.errors.push(err),
            }
        }
    }
    commons.sort();
    commons.dedup();
    for common in &commons {
        // Registrations of ours whose directory is gone or half-made.
        for e in std::fs::read_dir(common.join("worktrees"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let admin = e.path();
            let target = std::fs::read_to_string(admin.join("gitdir"))
                .ok()
                .map(|t| PathBuf::from(t.trim()));
            let ours = match &target {
                Some(t) => t.starts_with(dir),
                // Killed before libgit2 wrote it: a registration git itself would prune;
                // ours when it has our names' shape.
                None => our_name_shape(&e.file_name()),
            };
            if !ours {
                continue;
            }
            let wt = dir.join(e.file_name());
            if !wt.join(".git").is_file() || !complete(&wt, &admin) {
                match remove_both(Some(&admin), &wt) {
                    Ok(()) => out.removed.push(admin.display().to_string()),
                    Err(err) => out.errors.push(err),
                }
            } else {
                clear_locks(&admin, &mut out);
            }
        }
        for ns in ["refs/heads/taskboard", "logs/refs/heads/taskboard"] {
            clear_locks(&common.join(ns).join(board), &mut out);
        }
        for lock in repo_wide_locks(common) {
            clear_abandoned(&lock, &mut out);
        }
    }
    out
}

/// The repository-wide lock files a `git` of an agent may hold (refs packing, config,
/// auto maintenance, gc, commit-graph and pack writing): `packed-refs.lock`, `config.lock`,
/// `shallow.lock`, `gc.log.lock` and every `*.lock` under `objects/`. Not the main
/// checkout's `index.lock` or `HEAD.lock`, nor locks of refs outside our namespace: those
/// are the user's work in their checkout.
fn repo_wide_locks(common: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = [
        "packed-refs.lock",
        "config.lock",
        "shallow.lock",
        "gc.log.lock",
    ]
    .iter()
    .map(|n| common.join(n))
    .filter(|p| p.exists())
    .collect();
    let mut stack = vec![common.join("objects")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                // Loose object fan-out dirs hold no locks; packs and info do.
                let name = e.file_name();
                let fanout = name.len() == 2
                    && name
                        .to_string_lossy()
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit());
                if !fanout {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "lock") {
                out.push(p);
            }
        }
    }
    out
}

/// Removes a repository-wide lock file that no process has open: git keeps a lock file
/// open from making it until renaming it into place, so it was abandoned by a process
/// killed while it held it (an agent's git killed with the earlier run, or by the start's
/// sweep of that run's processes), and it would block every later git command that needs it.
fn clear_abandoned(lock: &Path, out: &mut Reconciled) {
    if open_by_anyone(lock) {
        return;
    }
    match std::fs::remove_file(lock) {
        Ok(()) => out.unlocked.push(lock.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => out.errors.push(format!("{}: {err}", lock.display())),
    }
}

/// Whether any process (that this user may look at) has `path` open.
fn open_by_anyone(path: &Path) -> bool {
    let want = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .any(|e| {
            std::fs::read_dir(e.path().join("fd"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == want))
        })
}

/// `<goal>-<task>`: how our worktrees are named.
fn our_name_shape(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .and_then(|n| n.split_once('-'))
        .is_some_and(|(g, t)| {
            !g.is_empty()
                && !t.is_empty()
                && g.bytes().all(|b| b.is_ascii_digit())
                && t.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Deletes `*.lock` files under `dir` (only called on paths only this board writes).
fn clear_locks(dir: &Path, out: &mut Reconciled) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "lock") {
                match std::fs::remove_file(&p) {
                    Ok(()) => out.unlocked.push(p.display().to_string()),
                    Err(err) => out.errors.push(format!("{}: {err}", p.display())),
                }
            }
        }
    }
}

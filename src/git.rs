//! git2 work: reading a repo's `origin` to name it as CI does. (Worktrees come here too.)

use std::path::Path;

use crate::model::{Kind, NewTask};
use crate::signal_match::repo_from_remote;

/// `owner/name` from the repository's `origin` remote, if it has one.
pub fn origin_repo(path: &Path) -> Option<String> {
    let repo = git2::Repository::discover(path).ok()?;
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

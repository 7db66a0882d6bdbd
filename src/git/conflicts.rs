//! In-memory merge checks: would two commits merge cleanly, and which paths would stop the
//! merge? git2 merges the two trees into an index held in memory: no checkout, worktree or
//! ref is touched, so this is safe to run while agents commit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use git2::{Index, Oid, Repository};

use crate::model::{Conflict, TaskId};

/// The paths a merge of `a` and `b` would stop on, sorted; empty when it merges cleanly
/// (or when one already contains the other).
pub fn conflicting_paths(repo: &Repository, a: Oid, b: Oid) -> Result<Vec<String>, git2::Error> {
    if a == b || repo.graph_descendant_of(a, b)? || repo.graph_descendant_of(b, a)? {
        return Ok(Vec::new());
    }
    let ours = repo.find_commit(a)?;
    let theirs = repo.find_commit(b)?;
    let index = repo.merge_commits(&ours, &theirs, None)?;
    index_conflicts(&index)
}

/// The conflicted paths of a merged index, sorted and without repeats.
pub fn index_conflicts(index: &Index) -> Result<Vec<String>, git2::Error> {
    let mut out = BTreeSet::new();
    for c in index.conflicts()? {
        let c = c?;
        for e in [c.ancestor, c.our, c.their].into_iter().flatten() {
            out.insert(String::from_utf8_lossy(&e.path).into_owned());
        }
    }
    Ok(out.into_iter().collect())
}

/// One side of a goal's check: a task's branch at a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    pub task: TaskId,
    pub branch: String,
    pub tip: Oid,
}

/// Results of earlier pair checks, so a new commit on one branch re-checks only its pairs.
#[derive(Default)]
pub struct PairCache {
    pairs: HashMap<(Oid, Oid), Vec<String>>,
}

impl PairCache {
    fn get(&mut self, repo: &Repository, a: Oid, b: Oid) -> Result<Vec<String>, git2::Error> {
        let key = if a <= b { (a, b) } else { (b, a) };
        if let Some(hit) = self.pairs.get(&key) {
            return Ok(hit.clone());
        }
        let paths = conflicting_paths(repo, key.0, key.1)?;
        self.pairs.insert(key, paths.clone());
        Ok(paths)
    }

    /// Keeps only the pairs of these commits (the cache never grows past one goal's pairs).
    fn retain(&mut self, tips: &BTreeSet<Oid>) {
        self.pairs
            .retain(|(a, b), _| tips.contains(a) && tips.contains(b));
    }
}

/// Every task's conflicts with the other tasks' branches and with the target branch
/// (`(name, tip)`); tasks without any are left out.
pub fn check_goal(
    repo: &Repository,
    sides: &[Side],
    target: Option<(&str, Oid)>,
    cache: &mut PairCache,
) -> Result<BTreeMap<TaskId, Vec<Conflict>>, git2::Error> {
    let mut out: BTreeMap<TaskId, Vec<Conflict>> = BTreeMap::new();
    for (i, a) in sides.iter().enumerate() {
        for b in &sides[i + 1..] {
            let files = cache.get(repo, a.tip, b.tip)?;
            if files.is_empty() {
                continue;
            }
            out.entry(a.task).or_default().push(Conflict {
                task: Some(b.task),
                branch: b.branch.clone(),
                files: files.clone(),
            });
            out.entry(b.task).or_default().push(Conflict {
                task: Some(a.task),
                branch: a.branch.clone(),
                files,
            });
        }
        if let Some((name, tip)) = target {
            let files = cache.get(repo, a.tip, tip)?;
            if !files.is_empty() {
                out.entry(a.task).or_default().push(Conflict {
                    task: None,
                    branch: name.to_string(),
                    files,
                });
            }
        }
    }
    for list in out.values_mut() {
        // Other tasks first, the target branch last.
        list.sort_by(|x, y| {
            (x.task.is_none(), x.task, &x.branch).cmp(&(y.task.is_none(), y.task, &y.branch))
        });
    }
    let mut tips: BTreeSet<Oid> = sides.iter().map(|s| s.tip).collect();
    tips.extend(target.map(|(_, t)| t));
    cache.retain(&tips);
    Ok(out)
}

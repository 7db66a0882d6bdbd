//! The conflict watcher: a thread of its own that polls the branch refs of the live agent
//! tasks (a ref read each, cheap) and, when one moved, checks that goal's branches against
//! each other and its target branch in memory (`conflicts`). Commits made between two polls
//! cost one check, so a burst of commits is coalesced. It reports through a callback and
//! never names the board's types; it never runs on the UI or the board's thread.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use git2::{Oid, Repository};

use super::conflicts::{check_goal, PairCache, Side};
use crate::model::{Conflict, TaskId};

/// What to watch of one goal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchGoal {
    pub goal: TaskId,
    pub repo: PathBuf,
    /// The branch the work lands on (compared against too), if known.
    pub target: Option<String>,
    /// Live agent tasks and their branches, in tree order.
    pub tasks: Vec<(TaskId, String)>,
}

/// Called with a goal and every conflict found among its tasks (tasks without any are left
/// out; an empty list clears the goal). Called only when the answer changed.
pub type Report = Box<dyn Fn(TaskId, Vec<(TaskId, Vec<Conflict>)>) + Send>;

/// The handle of the watcher thread; dropping it ends the thread.
pub struct Watcher {
    tx: mpsc::Sender<Vec<WatchGoal>>,
}

impl Watcher {
    /// Starts the thread; it polls every `every` while it has something to watch.
    pub fn start(every: Duration, report: Report) -> std::io::Result<Watcher> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("conflicts".into())
            .spawn(move || run(rx, every, report))?;
        Ok(Watcher { tx })
    }

    /// Replaces what is watched.
    pub fn watch(&self, goals: Vec<WatchGoal>) {
        let _ = self.tx.send(goals);
    }
}

struct Watched {
    spec: WatchGoal,
    /// The tips seen at the last check (tasks in order, then the target): a check runs
    /// only when they differ.
    seen: Option<Vec<Option<Oid>>>,
    /// The last answer reported; `None` before the first (so a restart re-says it).
    said: Option<Vec<(TaskId, Vec<Conflict>)>>,
    cache: PairCache,
}

fn run(rx: mpsc::Receiver<Vec<WatchGoal>>, every: Duration, report: Report) {
    let mut goals: BTreeMap<TaskId, Watched> = BTreeMap::new();
    let mut repos: HashMap<PathBuf, Repository> = HashMap::new();
    loop {
        // Idle (nothing live): sleep until told otherwise, no polling at all.
        let got = if goals.is_empty() {
            rx.recv().map(Some).map_err(|_| ())
        } else {
            match rx.recv_timeout(every) {
                Ok(l) => Ok(Some(l)),
                Err(RecvTimeoutError::Timeout) => Ok(None),
                Err(RecvTimeoutError::Disconnected) => Err(()),
            }
        };
        let Ok(mut latest) = got else { return };
        while let Ok(l) = rx.try_recv() {
            latest = Some(l);
        }
        if let Some(list) = latest {
            replace(&mut goals, list, &report);
            repos.retain(|p, _| goals.values().any(|g| &g.spec.repo == p));
        }
        for w in goals.values_mut() {
            poll(w, &mut repos, &report);
        }
    }
}

/// Takes a new watch list: goals that left are cleared (if they had conflicts), changed
/// ones are checked afresh on the next poll.
fn replace(goals: &mut BTreeMap<TaskId, Watched>, list: Vec<WatchGoal>, report: &Report) {
    let keep: Vec<TaskId> = list.iter().map(|g| g.goal).collect();
    goals.retain(|id, w| {
        let stays = keep.contains(id);
        if !stays && w.said.as_ref().is_some_and(|s| !s.is_empty()) {
            report(*id, Vec::new());
        }
        stays
    });
    for spec in list {
        match goals.get_mut(&spec.goal) {
            Some(w) if w.spec == spec => {}
            Some(w) => {
                w.spec = spec;
                w.seen = None;
            }
            None => {
                goals.insert(
                    spec.goal,
                    Watched {
                        spec,
                        seen: None,
                        said: None,
                        cache: PairCache::default(),
                    },
                );
            }
        }
    }
}

fn tip(repo: &Repository, branch: &str) -> Option<Oid> {
    repo.find_reference(&format!("refs/heads/{branch}"))
        .ok()?
        .resolve()
        .ok()?
        .target()
}

fn poll(w: &mut Watched, repos: &mut HashMap<PathBuf, Repository>, report: &Report) {
    if !repos.contains_key(&w.spec.repo) {
        match Repository::open(&w.spec.repo) {
            Ok(r) => {
                repos.insert(w.spec.repo.clone(), r);
            }
            Err(e) => {
                tracing::debug!(
                    goal = w.spec.goal,
                    "conflict watch: cannot open the repo: {e}"
                );
                return;
            }
        }
    }
    let Some(repo) = repos.get(&w.spec.repo) else {
        return;
    };
    let mut seen: Vec<Option<Oid>> = w.spec.tasks.iter().map(|(_, b)| tip(repo, b)).collect();
    seen.push(w.spec.target.as_deref().and_then(|b| tip(repo, b)));
    if w.seen.as_ref() == Some(&seen) {
        return;
    }
    let sides: Vec<Side> = w
        .spec
        .tasks
        .iter()
        .zip(&seen)
        .filter_map(|((task, branch), tip)| {
            tip.map(|tip| Side {
                task: *task,
                branch: branch.clone(),
                tip,
            })
        })
        .collect();
    let target = w.spec.target.as_deref().zip(seen.last().copied().flatten());
    let started = Instant::now();
    let found = match check_goal(repo, &sides, target, &mut w.cache) {
        Ok(f) => f,
        Err(e) => {
            // Objects may be half-written while an agent commits: try again next poll.
            tracing::debug!(goal = w.spec.goal, "conflict check failed: {e}");
            return;
        }
    };
    tracing::debug!(
        goal = w.spec.goal,
        branches = sides.len(),
        ms = started.elapsed().as_millis() as u64,
        "conflict check"
    );
    w.seen = Some(seen);
    let found: Vec<(TaskId, Vec<Conflict>)> = found.into_iter().collect();
    if w.said.as_ref() != Some(&found) {
        report(w.spec.goal, found.clone());
        w.said = Some(found);
    }
}

//! Tree queries and growth: adding goals, walking subtrees, finding a gate's rework target.

use serde_json::json;

use super::machine::Board;
use crate::command::CommandError;
use crate::model::{Kind, Millis, NewTask, Proc, Status, Task, TaskId};

impl Board {
    /// Adds a validated goal tree; ids are given in file (pre)order. Returns the goal's id.
    pub(super) fn add_goal(&mut self, goal: NewTask, who: &str, now: Millis) -> TaskId {
        let root = self.tasks.len() as TaskId;
        self.add_trees(vec![goal], None, root, now);
        self.goals.push(root);
        let title = self
            .task(root)
            .map(|t| t.spec.title.clone())
            .unwrap_or_default();
        let count = self.tasks.len() as u64 - root;
        self.audit(
            Some(root),
            who,
            "add_goal",
            json!({"title": title, "tasks": count}),
            now,
        );
        root
    }

    /// Adds trees under `parent` (or as a goal) in preorder ids; `after` names resolve
    /// among the new tasks first, then the goal's existing keys. Returns the new roots.
    pub(super) fn add_trees(
        &mut self,
        trees: Vec<NewTask>,
        parent: Option<TaskId>,
        goal: TaskId,
        now: Millis,
    ) -> Vec<TaskId> {
        let mut keys: Vec<(String, TaskId)> = Vec::new();
        let mut afters: Vec<(TaskId, Vec<String>)> = Vec::new();
        let mut roots = Vec::new();
        let mut added = Vec::new();
        // (node, parent) in preorder, with an explicit stack.
        let mut stack: Vec<(NewTask, Option<TaskId>)> =
            trees.into_iter().rev().map(|t| (t, parent)).collect();
        while let Some((node, parent_id)) = stack.pop() {
            let id = self.tasks.len() as TaskId;
            let NewTask {
                kind,
                spec,
                after,
                children,
            } = node;
            if let Some(k) = &spec.key {
                keys.push((k.clone(), id));
            }
            if !after.is_empty() {
                afters.push((id, after));
            }
            if parent_id == parent {
                roots.push(id);
            }
            if kind == Kind::Land {
                added.push(id);
            }
            let mut task = Task::new(id, parent_id, goal, kind, spec, now);
            task.session_id =
                Some(uuid::Uuid::new_v5(&self.session_seed, &id.to_le_bytes()).to_string());
            self.tasks.push(Some(task));
            if let Some(p) = parent_id.and_then(|p| self.task_mut(p)) {
                p.children.push(id);
            }
            self.changes.dirty.insert(id);
            for child in children.into_iter().rev() {
                stack.push((child, Some(id)));
            }
        }
        if parent.is_some() {
            let existing: Vec<(String, TaskId)> = self
                .preorder(goal)
                .into_iter()
                .filter_map(|x| {
                    self.task(x)
                        .and_then(|t| t.spec.key.clone().map(|k| (k, x)))
                })
                .collect();
            keys.extend(existing);
        }
        for (id, names) in afters {
            let ids: Vec<TaskId> = names
                .iter()
                .filter_map(|n| keys.iter().find(|(k, _)| k == n).map(|(_, i)| *i))
                .collect();
            if let Some(t) = self.task_mut(id) {
                t.after = ids;
            }
        }
        // A land task's `tasks` names keys too: the same ids, kept as what it lands.
        for &id in &added {
            let names = self
                .task(id)
                .and_then(|t| t.spec.land.as_ref())
                .map(|l| l.tasks.clone())
                .unwrap_or_default();
            if names.is_empty() {
                continue;
            }
            let ids: Vec<TaskId> = names
                .iter()
                .filter_map(|n| keys.iter().find(|(k, _)| k == n).map(|(_, i)| *i))
                .collect();
            if let Some(l) = self.task_mut(id).and_then(|t| t.spec.land.as_mut()) {
                l.task_ids = ids;
            }
        }
        roots
    }

    /// Inserts tasks loaded from the store (restart); ids and links are as stored.
    pub fn insert_loaded(&mut self, task: Task) {
        let id = task.id as usize;
        if self.tasks.len() <= id {
            self.tasks.resize_with(id + 1, || None);
        }
        if task.parent.is_none() {
            self.goals.push(task.id);
        }
        self.tasks[id] = Some(task);
    }

    /// The ids of a subtree in preorder, or 404.
    pub(super) fn subtree(&self, id: TaskId) -> Result<Vec<TaskId>, CommandError> {
        self.get(id)?;
        Ok(self.preorder(id))
    }

    /// Preorder ids below and including `root` (explicit stack).
    pub fn preorder(&self, root: TaskId) -> Vec<TaskId> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            let Some(t) = self.task(id) else { continue };
            out.push(id);
            stack.extend(t.children.iter().rev().copied());
        }
        out
    }

    /// Everything `id` waits for, directly or through what those wait for: `after` targets,
    /// the previous sibling in a sequential group, and what its ancestors wait for. Waiting
    /// for a group means waiting for its whole subtree.
    pub(super) fn upstream(&self, id: TaskId) -> std::collections::HashSet<TaskId> {
        let mut seen = std::collections::HashSet::new();
        let mut queue = vec![id];
        while let Some(x) = queue.pop() {
            let mut node = Some(x);
            while let Some(t) = node.and_then(|n| self.task(n)) {
                let prev = t
                    .parent
                    .and_then(|p| self.task(p))
                    .filter(|p| !p.spec.parallel)
                    .and_then(|p| {
                        let pos = p.children.iter().position(|c| *c == t.id)?;
                        pos.checked_sub(1).map(|i| p.children[i])
                    });
                for d in t.after.iter().copied().chain(prev) {
                    // A task in `seen` came with its whole subtree.
                    if !seen.contains(&d) {
                        for y in self.preorder(d) {
                            if seen.insert(y) {
                                queue.push(y);
                            }
                        }
                    }
                }
                node = t.parent;
            }
        }
        seen
    }

    /// Waiting signal tasks that a `signals/resolve` request names.
    pub fn matching_signals(&self, target: &crate::signal_match::SignalTarget) -> Vec<TaskId> {
        self.tasks()
            .filter(|t| {
                t.kind == Kind::Signal && matches!(t.status, Status::Active | Status::PendingReview)
            })
            .filter(|t| {
                target.matches(
                    t.spec.gate.as_deref().unwrap_or(""),
                    t.spec.repo.as_deref(),
                    t.spec.pr,
                )
            })
            .map(|t| t.id)
            .collect()
    }

    /// Where the code a gate judges lives: the goal repo and its rework target's branch
    /// (`None` when that task works in the repository itself).
    pub fn judged_code(&self, gate: TaskId) -> Option<(std::path::PathBuf, Option<String>)> {
        let repo = self.goal_repo(self.task(gate)?.goal)?;
        let branch = self
            .rework_target(gate)
            .and_then(|t| self.task(t))
            .and_then(|t| t.workdir.as_ref().map(|w| w.branch.clone()));
        Some((repo, branch))
    }

    /// The agent task a gate sends work back to (ARCHITECTURE §2, "rework target").
    pub fn rework_target(&self, gate: TaskId) -> Option<TaskId> {
        let t = self.task(gate)?;
        if !t.after.is_empty() {
            // The latest-finished agent task among the dependencies (and their descendants).
            return t
                .after
                .iter()
                .flat_map(|d| self.preorder(*d))
                .filter_map(|x| self.task(x))
                .filter(|x| x.kind == Kind::Agent)
                .max_by_key(|x| (x.completed_at.unwrap_or(i64::MIN), x.id))
                .map(|x| x.id);
        }
        // The last agent task before it: earlier siblings (and their descendants), going up
        // through sequential ancestors.
        let mut node = gate;
        while let Some(parent) = self.task(node).and_then(|n| n.parent) {
            let p = self.task(parent)?;
            if !p.spec.parallel {
                let pos = p.children.iter().position(|c| *c == node)?;
                for sib in p.children[..pos].iter().rev() {
                    let found = self
                        .preorder(*sib)
                        .into_iter()
                        .rev()
                        .find(|x| self.task(*x).is_some_and(|t| t.kind == Kind::Agent));
                    if found.is_some() {
                        return found;
                    }
                }
            }
            node = parent;
        }
        None
    }

    /// Restart recovery: interrupted agents go back to pending (or resume), gates re-arm.
    /// Returns the tasks whose process was lost, for the driver's orphan sweep.
    pub fn recover(&mut self, can_resume: &dyn Fn(&Task) -> bool, now: Millis) -> Vec<TaskId> {
        let ids: Vec<TaskId> = self.tasks().map(|t| t.id).collect();
        let mut lost = Vec::new();
        for id in ids {
            let Some(t) = self.task(id) else { continue };
            let (kind, status, proc) = (t.kind, t.status, t.proc);
            if proc != Proc::Idle {
                lost.push(id);
            }
            let resume = can_resume(t);
            if let Some(t) = self.task_mut(id) {
                t.proc = Proc::Idle;
                t.poll_in_flight = false;
                if t.kind == Kind::Signal && t.status == Status::Active && t.spec.poll.is_some() {
                    t.next_poll = Some(now);
                }
            }
            self.touch(id);
            // A held permission request died with the hook call that held it.
            self.forget_session_state(id, now);
            // A land job died with the board (landing again finds what already landed);
            // an agent's session did too (it spawns again, resumed where it can be).
            if status == Status::Active && matches!(kind, Kind::Land | Kind::Agent) {
                if kind == Kind::Agent {
                    if let Some(t) = self.task_mut(id) {
                        t.free_spawn = true;
                        t.resume = resume;
                        t.deadline = None;
                    }
                }
                self.set_status(
                    id,
                    Status::Pending,
                    "interrupted by restart",
                    "",
                    "board",
                    now,
                );
            }
        }
        // A review whose diff a crash cut short (never recorded): compute it again.
        let reviews: Vec<(TaskId, Kind)> = self
            .tasks()
            .filter(|t| t.status == Status::PendingReview && t.diff_hash.is_none())
            .map(|t| (t.id, t.kind))
            .collect();
        for (id, kind) in reviews {
            let of = match kind {
                Kind::Agent => Some(id),
                _ => self.rework_target(id),
            };
            if let Some(of) = of {
                self.rediff.push((id, of));
            }
        }
        self.audit(
            None,
            "board",
            "recovered",
            json!({"interrupted": lost}),
            now,
        );
        lost
    }
}

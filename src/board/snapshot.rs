//! The board's read model: a copy of the tasks taken between drains (through
//! `BoardHandle::query`, or `GET /api/goals?view=full` when attached, its wire format), plus
//! the few derived facts the views need. No IO.

use std::collections::HashMap;

use super::delta::Delta;
use super::machine::Board;
use crate::model::{Kind, Millis, Status, Task, TaskId};

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    pub tasks: HashMap<TaskId, Task>,
    pub goals: Vec<TaskId>,
    pub paused: bool,
    /// For each task waiting on a decision: the agent task a "request changes" re-runs.
    pub rework: HashMap<TaskId, TaskId>,
    /// The board summary's version this shows (attached: deltas apply on top of it).
    #[serde(default)]
    pub version: u64,
}

impl Snapshot {
    pub fn from_board(b: &Board) -> Snapshot {
        Snapshot {
            tasks: b.tasks().map(|t| (t.id, t.clone())).collect(),
            goals: b.goals().to_vec(),
            paused: b.paused(),
            rework: crate::board::delta::rework(b),
            version: 0,
        }
    }

    /// Applies the next batch's changes; false (and nothing changed) when `d` is not the
    /// next version: a change was missed, so a full snapshot is needed. An older or the
    /// same version was already seen and is skipped (true).
    pub fn apply(&mut self, d: &Delta) -> bool {
        if d.version <= self.version {
            return true;
        }
        if d.version != self.version + 1 {
            return false;
        }
        for t in &d.tasks {
            self.tasks.insert(t.id, t.clone());
        }
        for id in &d.deleted {
            self.tasks.remove(id);
        }
        self.goals.clone_from(&d.goals);
        self.paused = d.paused;
        self.rework.clone_from(&d.rework);
        self.version = d.version;
        true
    }

    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.tasks.get(&id)
    }

    /// The path from the goal down to `id` (inclusive).
    pub fn ancestors(&self, id: TaskId) -> Vec<TaskId> {
        let mut out = Vec::new();
        let mut cur = self.task(id);
        while let Some(t) = cur {
            out.push(t.id);
            cur = t.parent.and_then(|p| self.task(p));
        }
        out.reverse();
        out
    }

    /// Preorder ids of a subtree (explicit stack).
    pub fn subtree(&self, id: TaskId) -> Vec<TaskId> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(x) = stack.pop() {
            if let Some(t) = self.task(x) {
                out.push(x);
                stack.extend(t.children.iter().rev().copied());
            }
        }
        out
    }

    /// Agent tasks with a live process.
    pub fn running(&self) -> usize {
        self.tasks
            .values()
            .filter(|t| t.kind == Kind::Agent && t.status == Status::Active)
            .count()
    }

    /// Why a task needs a human, if it does (the inbox's rule).
    pub fn needs_you(&self, t: &Task) -> Option<String> {
        if t.kind == Kind::Group {
            return None;
        }
        if let Some(a) = &t.attention {
            return Some(a.clone());
        }
        if t.awaits_decision() {
            return Some(if t.reason.is_empty() {
                "review".into()
            } else {
                t.reason.clone()
            });
        }
        (t.status == Status::Blocked).then(|| format!("blocked: {}", t.reason))
    }

    /// The rolled-up note a row shows next to its title ("2 need you", "waiting on gh_ci").
    pub fn note(&self, t: &Task) -> String {
        if t.kind != Kind::Group {
            return leaf_note(t);
        }
        let below: Vec<&Task> = self
            .subtree(t.id)
            .into_iter()
            .skip(1)
            .filter_map(|x| self.task(x))
            .filter(|x| x.kind != Kind::Group)
            .collect();
        let need = below.iter().filter(|x| self.needs_you(x).is_some()).count();
        if need > 0 {
            return format!("{need} need{} you", if need == 1 { "s" } else { "" });
        }
        let by = |s: Status| below.iter().find(|x| x.status == s);
        if let Some(x) = by(Status::Failed).or(by(Status::Blocked)) {
            return format!("#{} {}: {}", x.id, x.status, x.reason);
        }
        if let Some(x) = below
            .iter()
            .find(|x| x.kind == Kind::Signal && x.status == Status::Active)
        {
            return leaf_note(x);
        }
        let running = below
            .iter()
            .filter(|x| x.kind == Kind::Agent && x.status == Status::Active)
            .count();
        if running > 0 {
            return format!("{running} running");
        }
        if t.status == Status::Pending {
            if let Some(x) = below
                .iter()
                .find(|x| !x.reason.is_empty() && x.status == Status::Pending)
            {
                return x.reason.clone();
            }
        }
        String::new()
    }

    /// Items that need a human, oldest first (by when each started needing one).
    /// The first task with conflicts, preferring `prefer`: what the status line shows.
    pub fn conflicted(&self, prefer: Option<TaskId>) -> Option<&Task> {
        prefer
            .and_then(|p| self.task(p))
            .filter(|t| !t.conflicts.is_empty())
            .or_else(|| {
                self.tasks
                    .values()
                    .filter(|t| !t.conflicts.is_empty())
                    .min_by_key(|t| t.id)
            })
    }

    pub fn inbox(&self, since: &HashMap<TaskId, Millis>) -> Vec<InboxItem> {
        let mut items: Vec<InboxItem> = self
            .tasks
            .values()
            .filter_map(|t| {
                let why = self.needs_you(t)?;
                let at = since.get(&t.id).copied().unwrap_or_else(|| guess_since(t));
                Some(InboxItem {
                    task: t.id,
                    why,
                    since: at,
                })
            })
            .collect();
        items.sort_by_key(|i| (i.since, i.task));
        items
    }
}

/// When a task probably started needing a human, for items found at start-up.
fn guess_since(t: &Task) -> Millis {
    t.started_at.or(t.completed_at).unwrap_or(t.created_at)
}

fn leaf_note(t: &Task) -> String {
    let note = status_note(t);
    match t.conflicts.first() {
        None => note,
        Some(c) if note.is_empty() => format!("⚠ {}", c.line()),
        Some(c) => format!("{note} · ⚠ {}", c.line()),
    }
}

fn status_note(t: &Task) -> String {
    if t.kind == Kind::Signal && t.status == Status::Active && t.reason.is_empty() {
        let gate = t.spec.gate.as_deref().unwrap_or("signal");
        return match t.spec.pr {
            Some(pr) => format!("waiting on {gate} #{pr}"),
            None => format!("waiting on {gate}"),
        };
    }
    match (&t.attention, t.status) {
        (Some(a), _) => format!("needs you: {a}"),
        (None, Status::Blocked) => format!("blocked: {}", t.reason),
        _ => t.reason.clone(),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct InboxItem {
    pub task: TaskId,
    pub why: String,
    pub since: Millis,
}

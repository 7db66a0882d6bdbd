//! What comes back from the board and from background jobs: snapshots (inbox, bell, stale
//! decisions), new panes, command replies, search results, logs, diffs and goal files.

use super::modal::{DiffState, Modal, ReviewDiff, TextView};
use super::pane_view::PaneView;
use super::tui_model::Model;
use super::update::{Then, UiEffect};
use crate::agent::PaneRef;
use crate::board::snapshot::Snapshot;
use crate::command::CommandError;
use crate::model::{NewTask, TaskId};

/// A new board snapshot: new inbox items ring the bell; an open decision that no longer
/// applies is marked stale.
pub fn on_snapshot(m: &mut Model, snap: Snapshot, out: &mut Vec<UiEffect>) {
    let fresh = m.set_snapshot(snap);
    if m.info.bell {
        if let Some(i) = fresh.first() {
            let title = m
                .snap
                .task(i.task)
                .map(|t| t.spec.title.clone())
                .unwrap_or_default();
            out.push(UiEffect::Bell {
                text: format!("#{} {title}: {}", i.task, i.why),
            });
        }
    }
    let snap = &m.snap;
    match &mut m.modal {
        Some(Modal::Approval(a)) => {
            if let Some(hash) = recorded_since(snap, a.task, &a.diff_hash) {
                // Opened before the board recorded the review's diff: that diff is the one
                // under review, so it is shown now instead of calling the decision stale.
                a.diff_hash = Some(hash);
                a.diff = DiffState::Loading;
                out.push(UiEffect::LoadDiff { task: a.task });
            }
            a.stale = stale(snap, a.task, &a.diff_hash)
        }
        Some(Modal::Comment(c)) => {
            if let Some(hash) = recorded_since(snap, c.task, &c.diff_hash) {
                c.diff_hash = Some(hash);
            }
            c.stale = stale(snap, c.task, &c.diff_hash)
        }
        _ => {}
    }
    if m.input && !m.focused().is_some_and(PaneView::running) {
        m.input = false;
    }
}

/// The diff hash the board recorded for `task`, still awaiting a decision, when a modal was
/// opened before there was one (`seen` is `None`).
fn recorded_since(snap: &Snapshot, task: TaskId, seen: &Option<String>) -> Option<String> {
    let t = snap.task(task).filter(|t| t.awaits_decision())?;
    t.diff_hash.clone().filter(|_| seen.is_none())
}

/// Why a decision prepared for `task` with `seen` diff hash no longer applies.
pub fn stale(snap: &Snapshot, task: TaskId, seen: &Option<String>) -> Option<String> {
    let Some(t) = snap.task(task) else {
        return Some(format!("#{task} was deleted"));
    };
    if !t.awaits_decision() {
        return Some(format!(
            "#{task} is now {}: this decision no longer applies",
            t.status
        ));
    }
    if t.diff_hash != *seen {
        return Some(format!(
            "the diff of #{task} changed since this opened: close and reopen to see it"
        ));
    }
    None
}

/// A session started (or a new attempt of one). Focus is not moved: until the user picks a
/// pane, the focused one is the first running pane in task order.
pub fn on_pane_opened(m: &mut Model, pane: PaneRef) {
    m.put_pane(PaneView::live(pane));
}

pub fn on_reply(
    m: &mut Model,
    label: String,
    then: Then,
    result: Result<serde_json::Value, CommandError>,
) {
    match (result, then) {
        (Ok(v), Then::CloseForm) => {
            if matches!(m.modal, Some(Modal::Goal(_) | Modal::Open(_))) {
                m.modal = None;
            }
            if let (Some(parent), Some(id)) = (v["id"].as_u64(), v["children"][0].as_u64()) {
                m.want = Some(id);
                m.say(format!("task #{id} added to #{parent}"));
            } else if let Some(id) = v["id"].as_u64() {
                if m.snap.task(id).is_some() {
                    m.reveal(id);
                } else {
                    m.want = Some(id);
                }
                m.say(format!("goal #{id} added"));
            } else {
                m.say(label);
            }
        }
        (Ok(_), Then::Nothing) => m.say(label),
        (Err(e), Then::CloseForm) => match &mut m.modal {
            Some(Modal::Goal(g)) => g.error = Some(e.to_string()),
            Some(Modal::Open(o)) => {
                o.error = Some(e.to_string());
                o.busy = false;
            }
            _ => m.warn(e.to_string()),
        },
        (Err(e), Then::Nothing) => m.warn(e.to_string()),
    }
}

pub fn on_search_done(m: &mut Model, query: String, hits: Vec<super::modal::Hit>, truncated: bool) {
    if let Some(Modal::Search(s)) = &mut m.modal {
        s.running = false;
        s.ran = Some(query);
        s.hits = hits;
        s.truncated = truncated;
        s.selected = 0;
    }
}

pub fn on_log_loaded(m: &mut Model, task: TaskId, lines: Vec<String>, mark: Option<usize>) {
    let title = m
        .snap
        .task(task)
        .map(|t| t.spec.title.clone())
        .unwrap_or_default();
    m.modal = Some(Modal::Log(TextView::new(
        task,
        format!("Output of #{task} {title}"),
        lines,
        mark,
    )));
}

/// A task's audit trail, oldest first (or why it could not be read).
pub fn on_audit_loaded(m: &mut Model, task: TaskId, lines: Result<Vec<String>, String>) {
    let lines = match lines {
        Ok(l) if l.is_empty() => vec!["nothing recorded yet".into()],
        Ok(l) => l,
        Err(e) => vec![format!("cannot read the audit trail: {e}")],
    };
    m.modal = Some(Modal::Log(TextView::new(
        task,
        format!("Audit trail of #{task}"),
        lines,
        None,
    )));
}

pub fn on_diff_loaded(m: &mut Model, task: TaskId, diff: Result<ReviewDiff, String>) {
    match &mut m.modal {
        Some(Modal::Approval(a)) if a.task == task => {
            a.diff = match diff {
                Ok(d) => DiffState::Ready(d),
                Err(why) => DiffState::Missing(why),
            }
        }
        Some(Modal::Diff(v)) if v.task == task => {
            v.lines = match diff {
                Ok(d) => d.lines(),
                Err(why) => vec![why],
            }
        }
        _ => {}
    }
}

/// A goal file was read: the goal, and its JSON form for `POST /api/goals`.
pub type LoadedGoal = (Box<NewTask>, serde_json::Value);

pub fn on_goal_loaded(m: &mut Model, goal: Result<LoadedGoal, String>, out: &mut Vec<UiEffect>) {
    let Some(Modal::Open(o)) = &mut m.modal else {
        return;
    };
    match goal {
        Ok((goal, body)) => out.push(UiEffect::AddGoal { goal, body }),
        Err(e) => {
            o.error = Some(e);
            o.busy = false;
        }
    }
}

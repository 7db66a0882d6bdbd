//! A task's context, as its agent needs it before it starts and after a restart: the goal,
//! the group it sits in, its own prompt, its siblings in order and why they wait, and what
//! finished before it (summaries and artifacts). One read model, pure (no IO), shared by
//! `GET /api/tasks/:id/context`, `taskboard context`, the MCP `status` tool and the first
//! prompt (in its compact form).

use serde::Serialize;
use serde_json::Value;

use super::machine::Board;
use crate::model::{Kind, Status, Task, TaskId};

/// Summaries longer than this are cut (full form and JSON).
pub const SUMMARY_CUT: usize = 2_000;
/// In the compact form (the first prompt), summaries are cut shorter.
const COMPACT_SUMMARY_CUT: usize = 300;
/// One artifact value is cut to this many characters when shown.
const VALUE_CUT: usize = 500;
/// Finished tasks listed at most (the latest ones); the compact form lists fewer.
const FINISHED_MAX: usize = 20;
const COMPACT_FINISHED_MAX: usize = 8;

/// A task named in a context: id, title and where it stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskRef {
    pub id: TaskId,
    pub title: String,
    pub kind: &'static str,
    pub status: Status,
    /// Why it waits, failed or is blocked ("" when there is nothing to say).
    pub reason: String,
}

/// A finished task whose work this one may build on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finished {
    #[serde(flatten)]
    pub task: TaskRef,
    /// `sibling` (same group) or `dependency` (what this task waits for, further away).
    pub relation: &'static str,
    /// Its `complete` summary, cut to about [`SUMMARY_CUT`] characters.
    pub summary: Option<String>,
    /// Its artifacts (agent tasks) or signal payload (gates).
    pub result: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskContext {
    #[serde(flatten)]
    pub task: TaskRef,
    pub goal: TaskRef,
    /// The group it belongs to, when that is not the goal itself.
    pub parent: Option<TaskRef>,
    /// Whether its group runs its tasks in parallel (else in order).
    pub parallel: bool,
    /// Its prompt as the agent gets it (`{result.KEY}` filled, feedback appended).
    pub prompt: String,
    /// Every task of its group in order, itself included.
    pub siblings: Vec<TaskRef>,
    /// Its own subtasks (a split task, or a plan waiting for review).
    pub children: Vec<TaskRef>,
    /// Finished siblings and dependencies, in file order (the latest [`FINISHED_MAX`]).
    pub finished: Vec<Finished>,
    /// Finished tasks left out of `finished` because there were too many.
    pub finished_omitted: usize,
    /// Its own artifacts so far.
    pub artifacts: Option<Value>,
}

fn task_ref(t: &Task) -> TaskRef {
    TaskRef {
        id: t.id,
        title: t.spec.title.clone(),
        kind: t.kind.as_str(),
        status: t.status,
        reason: t.reason.clone(),
    }
}

/// `s` cut to about `max` characters, saying how much was left out.
fn cut(s: &str, max: usize) -> String {
    let s = s.trim();
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({} more characters)", n - max)
}

impl Board {
    /// The context of task `id`, or `None` when there is no such task.
    pub fn context(&self, id: TaskId) -> Option<TaskContext> {
        let t = self.task(id)?;
        let goal = self.task(t.goal)?;
        let parent = t.parent.and_then(|p| self.task(p));
        let siblings: Vec<TaskId> = parent.map(|p| p.children.clone()).unwrap_or_default();
        // What it waits for, plus its finished siblings (a parallel group's work counts too).
        let upstream = self.upstream(id);
        let order = self.preorder(t.goal);
        let mut finished: Vec<Finished> = order
            .iter()
            .filter(|x| **x != id)
            .filter_map(|x| self.task(*x))
            .filter(|x| x.kind != Kind::Group && x.completed_at.is_some())
            .filter_map(|x| {
                let relation = if siblings.contains(&x.id) {
                    "sibling"
                } else if upstream.contains(&x.id) {
                    "dependency"
                } else {
                    return None;
                };
                Some(Finished {
                    task: task_ref(x),
                    relation,
                    summary: x
                        .summary
                        .as_deref()
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| cut(s, SUMMARY_CUT)),
                    result: x.result.clone().filter(|r| !r.is_null()),
                })
            })
            .collect();
        let finished_omitted = finished.len().saturating_sub(FINISHED_MAX);
        finished.drain(..finished_omitted);
        let refs = |ids: &[TaskId]| -> Vec<TaskRef> {
            ids.iter()
                .filter_map(|c| self.task(*c))
                .map(task_ref)
                .collect()
        };
        Some(TaskContext {
            task: task_ref(t),
            goal: task_ref(goal),
            parent: parent.filter(|p| !p.is_goal()).map(task_ref),
            parallel: parent.is_some_and(|p| p.spec.parallel),
            prompt: self.prompt_for(id),
            siblings: refs(&siblings),
            children: refs(&t.children),
            finished,
            finished_omitted,
            artifacts: t.result.clone().filter(|r| !r.is_null()),
        })
    }
}

/// `KEY: value` lines of a result object (or the JSON of anything else), values cut.
fn result_lines(result: &Value, indent: &str) -> String {
    let show = |v: &Value| match v {
        Value::String(s) => cut(s, VALUE_CUT),
        other => cut(&other.to_string(), VALUE_CUT),
    };
    match result {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{indent}{k}: {}\n", show(v)))
            .collect(),
        other => format!("{indent}{}\n", show(other)),
    }
}

fn status_line(r: &TaskRef) -> String {
    if r.reason.is_empty() {
        r.status.as_str().to_string()
    } else {
        format!("{}: {}", r.status, r.reason)
    }
}

fn indent(text: &str, pad: &str) -> String {
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

impl TaskContext {
    /// The JSON form: the structured context plus its full `text`.
    pub fn json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("text".into(), Value::String(self.text()));
        }
        v
    }

    /// The full text (the `status` tool, `taskboard context`, the route's `text`).
    pub fn text(&self) -> String {
        let mut out = format!(
            "Task #{} \"{}\" ({}, {})\n",
            self.task.id,
            self.task.title,
            self.task.kind,
            status_line(&self.task)
        );
        out.push_str(&format!(
            "Goal #{} \"{}\" ({})\n",
            self.goal.id,
            self.goal.title,
            status_line(&self.goal)
        ));
        if let Some(p) = &self.parent {
            out.push_str(&format!("In group #{} \"{}\"\n", p.id, p.title));
        }
        if !self.prompt.trim().is_empty() {
            out.push_str("\nPrompt:\n");
            out.push_str(&indent(&self.prompt, "  "));
        }
        if self.siblings.len() > 1 {
            let how = if self.parallel {
                "run in parallel"
            } else {
                "run in this order"
            };
            out.push_str(&format!("\nTasks of this group ({how}):\n"));
            for s in &self.siblings {
                let me = if s.id == self.task.id {
                    "  <- this task"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "  #{} {} [{}]{me}\n",
                    s.id,
                    s.title,
                    status_line(s)
                ));
            }
        }
        if !self.children.is_empty() {
            out.push_str("\nIts subtasks:\n");
            for c in &self.children {
                out.push_str(&format!("  #{} {} [{}]\n", c.id, c.title, status_line(c)));
            }
        }
        if !self.finished.is_empty() {
            out.push_str("\nFinished before it (summaries and artifacts):\n");
            if self.finished_omitted > 0 {
                out.push_str(&format!(
                    "  ({} earlier finished tasks not shown)\n",
                    self.finished_omitted
                ));
            }
            for f in &self.finished {
                out.push_str(&format!(
                    "  #{} {} [{}, {}]\n",
                    f.task.id,
                    f.task.title,
                    status_line(&f.task),
                    f.relation
                ));
                if let Some(s) = &f.summary {
                    out.push_str(&indent(&format!("summary: {s}"), "    "));
                }
                if let Some(r) = &f.result {
                    out.push_str(&result_lines(r, "    "));
                }
            }
        }
        if let Some(a) = &self.artifacts {
            out.push_str("\nArtifacts of this task:\n");
            out.push_str(&result_lines(a, "  "));
        }
        out
    }

    /// The compact form that ends a first prompt: where the task stands, without its prompt
    /// (the prompt is right above it) and with shorter summaries.
    pub fn compact(&self) -> String {
        let mut out = String::from("Where this task stands (taskboard):\n");
        let within = match &self.parent {
            Some(p) => format!(" in group #{} \"{}\"", p.id, p.title),
            None => String::new(),
        };
        out.push_str(&format!(
            "- You are task #{} \"{}\"{within} of goal #{} \"{}\".\n",
            self.task.id, self.task.title, self.goal.id, self.goal.title
        ));
        let others: Vec<String> = self
            .siblings
            .iter()
            .filter(|s| s.id != self.task.id)
            .map(|s| format!("#{} {} ({})", s.id, s.title, status_line(s)))
            .collect();
        if !others.is_empty() {
            let how = if self.parallel {
                "in parallel"
            } else {
                "in order"
            };
            out.push_str(&format!(
                "- Other tasks of this group ({how}): {}.\n",
                others.join("; ")
            ));
        }
        let skip = self.finished.len().saturating_sub(COMPACT_FINISHED_MAX);
        for f in &self.finished[skip..] {
            let mut line = format!(
                "- Finished: #{} {} ({})",
                f.task.id, f.task.title, f.task.status
            );
            if let Some(s) = &f.summary {
                line.push_str(&format!(
                    ": {}",
                    cut(s, COMPACT_SUMMARY_CUT).replace('\n', " ")
                ));
            }
            if let Some(Value::Object(m)) = &f.result {
                let kv: Vec<String> = m
                    .iter()
                    .map(|(k, v)| {
                        let v = v
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string());
                        format!("{k}={}", cut(&v, 200).replace('\n', " "))
                    })
                    .collect();
                if !kv.is_empty() {
                    line.push_str(&format!(" [artifacts: {}]", kv.join(", ")));
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        if skip + self.finished_omitted > 0 {
            out.push_str(&format!(
                "- ({} earlier finished tasks: `taskboard context` shows them.)\n",
                skip + self.finished_omitted
            ));
        }
        out
    }
}

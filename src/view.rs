//! Read-only views of the board: the stable `status --json` shape and the text tree.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use crate::board::Board;
use crate::model::{Kind, Status, Task, TaskId};

/// One task and its subtree in the documented JSON shape (README "status --json").
pub fn task_json(board: &Board, id: TaskId) -> Value {
    board
        .task(id)
        .and_then(|task| serde_json::to_value(Node { board, task }).ok())
        .unwrap_or(Value::Null)
}

/// `{"goals": [...], "paused": ...}`: every goal's tree (`task_json`'s shape).
pub fn goals_json(board: &Board) -> Value {
    serde_json::to_value(Goals(board)).unwrap_or_else(|_| json!({"goals": []}))
}

/// `goals_json` written straight to bytes, without building a `Value` of every task (a
/// board of 10,000 tasks answers in a few milliseconds instead of a few hundred).
pub fn goals_bytes(board: &Board) -> Vec<u8> {
    serde_json::to_vec(&Goals(board)).unwrap_or_else(|_| b"{\"goals\":[]}".to_vec())
}

/// The board's goals as `{"goals", "paused"}`.
pub struct Goals<'a>(pub &'a Board);

impl Serialize for Goals<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(
            "goals",
            &Children {
                board: self.0,
                ids: self.0.goals(),
            },
        )?;
        m.serialize_entry("paused", &self.0.paused())?;
        m.end()
    }
}

struct Children<'a> {
    board: &'a Board,
    ids: &'a [TaskId],
}

impl Serialize for Children<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for task in self.ids.iter().filter_map(|id| self.board.task(*id)) {
            seq.serialize_element(&Node {
                board: self.board,
                task,
            })?;
        }
        seq.end()
    }
}

/// One task with its subtree. Keys are written in sorted order, as a `Value` would hold
/// them; a later kind-specific field wins over an earlier one of the same name (a goal's
/// `into` over a land task's, a signal's `pr` over a land task's).
struct Node<'a> {
    board: &'a Board,
    task: &'a Task,
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.task;
        let signal = t.kind == Kind::Signal;
        let land = t.spec.land.as_ref();
        let goal = t.spec.goal.as_ref();
        let work = t.workdir.as_ref();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("attempt", &t.attempt)?;
        m.serialize_entry("attention", &attention(t))?;
        if let Some(w) = work {
            m.serialize_entry("base", &w.base)?;
            m.serialize_entry("branch", &w.branch)?;
        }
        let children = Children {
            board: self.board,
            ids: &t.children,
        };
        m.serialize_entry("children", &children)?;
        m.serialize_entry("completed_at", &t.completed_at)?;
        if t.kind == Kind::Agent {
            m.serialize_entry("conflicts", &conflicts_json(&t.conflicts))?;
        }
        m.serialize_entry("created_at", &t.created_at)?;
        if signal {
            m.serialize_entry("deadline", &t.deadline)?;
        }
        if t.diff_hash.is_some() {
            m.serialize_entry("diff_hash", &t.diff_hash)?;
            m.serialize_entry("diff_stat", &t.diff_stat)?;
        }
        if signal {
            m.serialize_entry("gate", &t.spec.gate)?;
        }
        m.serialize_entry("goal", &t.goal)?;
        m.serialize_entry("id", &t.id)?;
        if let Some(g) = goal {
            m.serialize_entry("into", &g.branch)?;
        } else if let Some(l) = land {
            m.serialize_entry("into", &l.into)?;
        }
        m.serialize_entry("key", &t.spec.key)?;
        m.serialize_entry("kind", t.kind.as_str())?;
        m.serialize_entry("parent", &t.parent)?;
        if t.kind == Kind::Agent {
            m.serialize_entry("permission", &permission_json(t))?;
        }
        if signal {
            m.serialize_entry("pr", &t.spec.pr)?;
        } else if let Some(l) = land {
            m.serialize_entry("pr", &l.pr)?;
        }
        m.serialize_entry("reason", &t.reason)?;
        if signal {
            m.serialize_entry("repo", &t.spec.repo)?;
        }
        if let Some(g) = goal {
            m.serialize_entry("repo_path", &g.repo)?;
        }
        m.serialize_entry("result", &t.result)?;
        m.serialize_entry("retries_used", &t.retries_used)?;
        m.serialize_entry("started_at", &t.started_at)?;
        m.serialize_entry("status", t.status.as_str())?;
        if let Some(l) = land {
            m.serialize_entry("strategy", &l.strategy)?;
        }
        m.serialize_entry("summary", &t.summary)?;
        m.serialize_entry("title", &t.spec.title)?;
        if t.kind == Kind::Agent {
            m.serialize_entry("turn_ended", &t.turn_ended)?;
        }
        if let Some(w) = work {
            m.serialize_entry("worktree", &w.path)?;
        }
        m.end()
    }
}

/// `[{"task": 5, "branch": "…", "files": [...]}, …]`; `task` is null for the target branch.
pub fn conflicts_json(c: &[crate::model::Conflict]) -> Value {
    json!(c
        .iter()
        .map(|x| json!({"task": x.task, "branch": x.branch, "files": x.files}))
        .collect::<Vec<_>>())
}

/// An agent's open permission request, or null.
fn permission_json(t: &Task) -> Value {
    match &t.permission {
        Some(a) => {
            json!({"request": a.request, "tool": a.tool, "input": a.input, "summary": a.summary(), "asked_at": a.asked_at})
        }
        None => Value::Null,
    }
}

fn attention(t: &Task) -> Option<&str> {
    match (&t.attention, t.awaits_decision()) {
        (Some(a), _) => Some(a),
        (None, true) => Some("decision"),
        _ => None,
    }
}

/// One audit row as `taskboard audit` and the TUI's `A` show it (local time).
pub fn audit_line(e: &crate::board::AuditEvent) -> String {
    let at = chrono::DateTime::from_timestamp_millis(e.at)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    format!("{at}  {:<12} {:<14} {}", e.who, e.kind, e.payload)
}

pub fn glyph(status: Status) -> &'static str {
    match status {
        Status::Pending => "○",
        Status::Active => "◐",
        Status::PendingReview => "⚑",
        Status::Blocked => "⊘",
        Status::Done => "✔",
        Status::Failed => "✘",
        Status::Skipped => "↷",
    }
}

/// The tree as text, one task a line, with the commands that would resolve waiting gates.
pub fn tree_text(
    board: &Board,
    data_dir: Option<&std::path::Path>,
    endpoint: Option<&str>,
) -> String {
    let mut out = String::new();
    if board.paused() {
        out.push_str("(paused: no new work starts; `taskboard resume` to go on)\n");
    }
    for &g in board.goals() {
        let mut stack = vec![(g, 0usize)];
        while let Some((id, depth)) = stack.pop() {
            let Some(t) = board.task(id) else { continue };
            let reason = if t.reason.is_empty() {
                String::new()
            } else {
                format!("  {}", t.reason)
            };
            out.push_str(&format!(
                "{}{} #{} {}  [{}]{}\n",
                "  ".repeat(depth),
                glyph(t.status),
                t.id,
                t.spec.title,
                t.status,
                reason
            ));
            for c in &t.conflicts {
                out.push_str(&format!("{}    ⚠ {}\n", "  ".repeat(depth), c.line()));
            }
            if let (true, Some(stat)) = (t.awaits_decision(), &t.diff_stat) {
                for line in stat.lines() {
                    out.push_str(&format!("{}    {}\n", "  ".repeat(depth), line.trim_end()));
                }
            }
            if t.kind == Kind::Signal && t.status == Status::Active {
                out.push_str(&resolve_hint(t, depth + 2, data_dir, endpoint));
            }
            stack.extend(t.children.iter().rev().map(|c| (*c, depth + 1)));
        }
    }
    if out.is_empty() {
        out.push_str("no goals yet: `taskboard run FILE` or `taskboard add FILE`\n");
    }
    out
}

fn resolve_hint(
    t: &Task,
    depth: usize,
    data_dir: Option<&std::path::Path>,
    endpoint: Option<&str>,
) -> String {
    let pad = "  ".repeat(depth);
    let dd = data_dir
        .map(|d| format!(" --data-dir {}", shell_quote(&d.display().to_string())))
        .unwrap_or_default();
    let gate = t.spec.gate.clone().unwrap_or_default();
    let mut s = format!(
        "{pad}resolve: taskboard{dd} signal --task {} --status pass\n",
        t.id
    );
    if let (Some(repo), Some(pr)) = (&t.spec.repo, t.spec.pr) {
        s.push_str(&format!("{pad}     or: taskboard{dd} signal --gate {gate} --repo {repo} --pr {pr} --status pass\n"));
    }
    let url = endpoint.unwrap_or("$(head -1 <data>/endpoint)");
    let token = data_dir
        .map(|d| {
            format!(
                "$(cat {})",
                shell_quote(&d.join("token").display().to_string())
            )
        })
        .unwrap_or("$TOKEN".into());
    s.push_str(&format!(
        "{pad}     or: curl -sS -X POST -H \"Authorization: Bearer {token}\" -H 'Content-Type: application/json' -d '{{\"status\":\"pass\"}}' {url}/api/tasks/{}/signal\n",
        t.id
    ));
    s
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::{Event, Limits};
    use crate::command::{Command, SignalStatus};

    /// The `Value`-building shape this serializer replaced (kept to compare with).
    fn old_one(t: &Task, children: Vec<Value>) -> Value {
        let mut v = json!({
            "id": t.id, "title": t.spec.title, "kind": t.kind.as_str(), "status": t.status.as_str(),
            "reason": t.reason, "attention": attention(t), "children": children, "key": t.spec.key,
            "goal": t.goal, "parent": t.parent, "created_at": t.created_at, "started_at": t.started_at,
            "completed_at": t.completed_at, "attempt": t.attempt, "retries_used": t.retries_used,
            "summary": t.summary, "result": t.result,
        });
        if t.kind == Kind::Agent {
            v["conflicts"] = conflicts_json(&t.conflicts);
        }
        if let Some(l) = &t.spec.land {
            v["into"] = json!(l.into);
            v["strategy"] = json!(l.strategy);
            v["pr"] = json!(l.pr);
        }
        if t.diff_hash.is_some() {
            v["diff_hash"] = json!(t.diff_hash);
            v["diff_stat"] = json!(t.diff_stat);
        }
        if t.kind == Kind::Agent {
            v["turn_ended"] = json!(t.turn_ended);
            v["permission"] = permission_json(t);
        }
        if let Some(w) = &t.workdir {
            v["branch"] = json!(w.branch);
            v["worktree"] = json!(w.path);
            v["base"] = json!(w.base);
        }
        if t.kind == Kind::Signal {
            v["gate"] = json!(t.spec.gate);
            v["repo"] = json!(t.spec.repo);
            v["pr"] = json!(t.spec.pr);
            v["deadline"] = json!(t.deadline);
        }
        if let Some(g) = &t.spec.goal {
            v["repo_path"] = json!(g.repo);
            v["into"] = json!(g.branch);
        }
        v
    }

    fn old_tree(b: &Board, id: TaskId) -> Value {
        let t = b.task(id).expect("task");
        let children = t.children.iter().map(|c| old_tree(b, *c)).collect();
        old_one(t, children)
    }

    #[test]
    fn the_written_shape_is_the_documented_one() {
        let mut b = Board::new(
            Limits {
                max_agents: 4,
                spawns_per_minute: 60,
            },
            uuid::Uuid::nil(),
        );
        let toml = r#"
title = "shape"
parallel = true
[[task]]
key = "fix"
title = "Fix"
command = ["true"]
worktree = false
[[task]]
title = "CI"
kind = "signal"
gate = "gh_ci"
pr = 42
repo = "o/r"
[[task]]
title = "Checks"
parallel = true
  [[task.task]]
  title = "Look"
  kind = "human_review"
  after = ["fix"]
[[task]]
title = "Ship"
kind = "land"
after = ["fix"]
"#;
        let goal = crate::goalfile::parse_str(
            toml,
            "t.toml",
            std::path::Path::new("/tmp"),
            &Default::default(),
        )
        .expect("goal");
        let cmd = |cmd| Event::Command {
            cmd,
            who: "cli".into(),
        };
        b.handle(
            cmd(Command::AddGoal {
                goal: Box::new(goal),
            }),
            1_000,
        );
        b.handle(
            cmd(Command::Signal {
                task: 3,
                status: SignalStatus::Fail,
                payload: json!({"summary": "red"}),
            }),
            2_000,
        );
        let old = json!({"goals": b.goals().iter().map(|g| old_tree(&b, *g)).collect::<Vec<_>>(), "paused": b.paused()});
        assert_eq!(goals_json(&b), old);
        let bytes: Value = serde_json::from_slice(&goals_bytes(&b)).expect("json");
        assert_eq!(bytes, old);
        assert_eq!(task_json(&b, 3), old_tree(&b, 3));
        assert!(old.to_string().contains("\"gate\":\"gh_ci\""), "{old}");
    }
}

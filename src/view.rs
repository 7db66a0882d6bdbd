//! Read-only views of the board: the stable `status --json` shape and the text tree.

use serde_json::{json, Value};

use crate::board::Board;
use crate::model::{Kind, Status, Task, TaskId};

/// One task and its subtree in the documented JSON shape (README "status --json").
pub fn task_json(board: &Board, id: TaskId) -> Value {
    // Post-order build with an explicit stack: children before parents.
    let order = board.preorder(id);
    let mut built: std::collections::HashMap<TaskId, Value> =
        std::collections::HashMap::with_capacity(order.len());
    for &x in order.iter().rev() {
        let Some(t) = board.task(x) else { continue };
        let children: Vec<Value> = t.children.iter().filter_map(|c| built.remove(c)).collect();
        built.insert(x, one(t, children));
    }
    built.remove(&id).unwrap_or(Value::Null)
}

fn one(t: &Task, children: Vec<Value>) -> Value {
    let mut v = json!({
        "id": t.id,
        "title": t.spec.title,
        "kind": t.kind.as_str(),
        "status": t.status.as_str(),
        "reason": t.reason,
        "attention": attention(t),
        "children": children,
        "key": t.spec.key,
        "goal": t.goal,
        "parent": t.parent,
        "created_at": t.created_at,
        "started_at": t.started_at,
        "completed_at": t.completed_at,
        "attempt": t.attempt,
        "retries_used": t.retries_used,
        "summary": t.summary,
        "result": t.result,
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
        v["permission"] = match &t.permission {
            Some(a) => {
                json!({"request": a.request, "tool": a.tool, "input": a.input, "summary": a.summary(), "asked_at": a.asked_at})
            }
            None => Value::Null,
        };
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

/// `[{"task": 5, "branch": "…", "files": [...]}, …]`; `task` is null for the target branch.
pub fn conflicts_json(c: &[crate::model::Conflict]) -> Value {
    json!(c
        .iter()
        .map(|x| json!({"task": x.task, "branch": x.branch, "files": x.files}))
        .collect::<Vec<_>>())
}

fn attention(t: &Task) -> Value {
    match (&t.attention, t.awaits_decision()) {
        (Some(a), _) => json!(a),
        (None, true) => json!("decision"),
        _ => Value::Null,
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

pub fn goals_json(board: &Board) -> Value {
    json!({"goals": board.goals().iter().map(|g| task_json(board, *g)).collect::<Vec<_>>(), "paused": board.paused()})
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

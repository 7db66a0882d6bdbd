//! The first pass over a goal file's TOML tree: each task's kind, each entry against the
//! fields its kind accepts (unknown ones get a "did you mean"), and each value against its
//! type. Every mistake is reported and its entry dropped, so what is left reads as a
//! [`RawTask`] and the later checks still run on the rest of the file.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::raw::{allowed_fields, RawTask, FIELDS};
use super::Cx;
use crate::model::Kind;
use crate::tomlcheck;

/// The kind names a goal file may use, in the order messages list them.
pub const KINDS: [&str; 5] = ["agent", "human_review", "signal", "land", "group"];

pub fn parse_kind(s: &str) -> Option<Kind> {
    match s {
        "agent" => Some(Kind::Agent),
        "human_review" => Some(Kind::HumanReview),
        "signal" => Some(Kind::Signal),
        "land" => Some(Kind::Land),
        "group" => Some(Kind::Group),
        _ => None,
    }
}

/// What a table is, as far as its fields go.
#[derive(Clone, Copy)]
enum Shape {
    Goal,
    Task(Kind),
    /// A task whose `kind` is a mistake: only fields no kind has are reported.
    Unknown,
}

/// Checks the whole tree; the cleaned tree as a [`RawTask`], or `None` when even that cannot
/// be read (which is reported).
pub(super) fn check(cx: &mut Cx, mut doc: Spanned<DeTable<'_>>) -> Option<RawTask> {
    let span = doc.span();
    walk(cx, doc.get_mut(), span.clone(), None, "");
    let de = toml::de::Deserializer::from(doc);
    match <RawTask as serde::Deserialize>::deserialize(de) {
        Ok(raw) => Some(raw),
        Err(e) => {
            // The sweep leaves nothing serde refuses; this is a guard, still reported.
            cx.report(
                e.span().unwrap_or(span),
                e.message().trim().to_string(),
                None,
            );
            None
        }
    }
}

fn path_of(path: &str, name: &str) -> Option<String> {
    Some(if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    })
}

/// Whether `task` holds a list of tables (possibly empty).
fn is_task_list(v: &DeValue<'_>) -> bool {
    matches!(v, DeValue::Array(a) if a.iter().all(|v| v.get_ref().is_table()))
}

/// The tables of `task` (the children), when it is a list of tables.
fn child_tables<'a, 'i>(table: &'a mut DeTable<'i>) -> Vec<&'a mut Spanned<DeValue<'i>>> {
    match table.get_mut("task").map(|v| v.get_mut()) {
        Some(DeValue::Array(a)) => a.iter_mut().filter(|v| v.get_ref().is_table()).collect(),
        _ => Vec::new(),
    }
}

fn has_children(table: &DeTable<'_>) -> bool {
    matches!(table.get("task").map(|v| v.get_ref()), Some(DeValue::Array(a)) if !a.is_empty())
        && table.get("task").is_some_and(|t| is_task_list(t.get_ref()))
}

fn walk(cx: &mut Cx, table: &mut DeTable<'_>, span: Range<usize>, id: Option<usize>, path: &str) {
    let field = |name: &str| path_of(path, name);
    let shape = match id {
        None => Shape::Goal,
        Some(_) => kind_of(cx, table, id, &field),
    };
    let (allowed, what): (&[&str], String) = match shape {
        Shape::Goal => (allowed_fields(None), "a goal".into()),
        Shape::Task(Kind::Agent) => (allowed_fields(Some(Kind::Agent)), "an agent task".into()),
        Shape::Task(k) => (allowed_fields(Some(k)), format!("a {} task", k.as_str())),
        Shape::Unknown => (FIELDS, "a task".into()),
    };
    let keys: Vec<(String, Range<usize>)> = table
        .iter()
        .map(|(k, _)| (k.get_ref().to_string(), k.span()))
        .collect();
    for (name, key_span) in keys {
        // `task` holds the children; a kind that has none says so later, with its reason.
        if name == "task" || allowed.contains(&name.as_str()) {
            continue;
        }
        let close = tomlcheck::suggest(&name, allowed.iter().copied());
        let hint = match close {
            Some(s) => format!(" (did you mean `{s}`?)"),
            None => format!(" (allowed: {})", allowed.join(", ")),
        };
        cx.report(
            key_span,
            format!("unknown field `{name}` on {what}{hint}"),
            field(&name),
        );
        drop_key(cx, table, id, &name);
        // `titel` was meant as `title`: its absence is not another mistake.
        if let Some(meant) = close.filter(|m| !table.contains_key(*m)) {
            cx.dropped.insert((id, meant.to_string()));
        }
    }
    if let Some(t) = table.get("task").filter(|t| !is_task_list(t.get_ref())) {
        cx.report(
            t.span(),
            format!(
                "`task` is a {}; write tasks as [[task]] sections (or task = [{{ title = \"…\" }}])",
                t.get_ref().type_str()
            ),
            field("task"),
        );
        drop_key(cx, table, id, "task");
    }
    let swept = tomlcheck::sweep::<RawTask>(table, span, &["task"]);
    for (key, problem) in swept {
        let message = match &key {
            Some(k) => format!("`{k}`: {}", problem.message),
            None => problem.message,
        };
        cx.report(problem.span, message, key.as_deref().and_then(field));
        if let Some(k) = key {
            cx.dropped.insert((id, k));
        }
    }
    for (i, child) in child_tables(table).into_iter().enumerate() {
        let child_span = child.span();
        let child_path = if path.is_empty() {
            format!("task[{i}]")
        } else {
            format!("{path}.task[{i}]")
        };
        if let DeValue::Table(t) = child.get_mut() {
            walk(
                cx,
                t,
                child_span.clone(),
                Some(child_span.start),
                &child_path,
            );
        }
    }
}

fn drop_key(cx: &mut Cx, table: &mut DeTable<'_>, id: Option<usize>, name: &str) {
    table.remove(name);
    cx.dropped.insert((id, name.to_string()));
}

/// The task's kind: written, or inferred (children → group, else agent). A kind that is not
/// one is reported with the nearest name and dropped.
fn kind_of(
    cx: &mut Cx,
    table: &mut DeTable<'_>,
    id: Option<usize>,
    field: &dyn Fn(&str) -> Option<String>,
) -> Shape {
    let Some(v) = table.get("kind") else {
        return Shape::Task(if has_children(table) {
            Kind::Group
        } else {
            Kind::Agent
        });
    };
    let span = v.span();
    let message = match v.get_ref() {
        DeValue::String(s) => match parse_kind(s) {
            Some(k) => return Shape::Task(k),
            None => format!(
                "unknown kind \"{s}\"{}: use agent, human_review, signal, land or group",
                tomlcheck::did_you_mean(s, KINDS, "\"")
            ),
        },
        other => format!(
            "`kind` is a {}; write it as a string: agent, human_review, signal, land or group",
            other.type_str()
        ),
    };
    cx.report(span, message, field("kind"));
    drop_key(cx, table, id, "kind");
    Shape::Unknown
}

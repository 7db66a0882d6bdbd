//! Goal files (TOML, or the same schema as JSON) → a validated task tree. Every mistake in a
//! file is found in one go (`schema` on the TOML tree, then `build` and `deps`), each with
//! file:line:col and a sentence a user can act on; this module never touches the store.

mod build;
mod deps;
mod errors;
mod land;
mod raw;
mod schema;
mod signal;
mod vars;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::{NewTask, SessionPolicy};
use build::{Builder, Inherited};
pub(crate) use errors::Cx;
pub use errors::{line_col, GoalError, GoalErrors};

/// Reads and validates a goal file; `vars` fill its `{{var}}` placeholders.
pub fn load_file(path: &Path, vars: &BTreeMap<String, String>) -> Result<NewTask, GoalErrors> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        GoalErrors::one(GoalError {
            file: label.clone(),
            line: 1,
            col: 1,
            message: format!("cannot read the goal file: {e}"),
            field: None,
        })
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let mut goal = parse_str(&text, &label, &dir, vars)?;
    if let Some(g) = goal.spec.goal.as_mut() {
        g.source = Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    }
    Ok(goal)
}

/// The goal file as the JSON body of `POST /api/goals`: `repo` made absolute and the given
/// vars set as the values of their declarations.
pub fn json_body(
    path: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<serde_json::Value, GoalErrors> {
    let goal = load_file(path, vars)?;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut table: toml::Table = toml::from_str(&text).unwrap_or_default();
    if let Some(g) = &goal.spec.goal {
        table.insert(
            "repo".into(),
            toml::Value::String(g.repo.display().to_string()),
        );
    }
    if let Some(toml::Value::Table(decl)) = table.get_mut("vars") {
        for (k, v) in vars {
            decl.insert(k.clone(), toml::Value::String(v.clone()));
        }
    }
    serde_json::to_value(&table).map_err(|e| {
        GoalErrors::one(GoalError {
            file: path.display().to_string(),
            line: 1,
            col: 1,
            message: e.to_string(),
            field: None,
        })
    })
}

/// Parses `{"tasks": [...]}` (the body of `POST /api/tasks/:id/subtasks`): each entry has
/// the goal file's task schema.
pub fn parse_subtasks(value: &serde_json::Value) -> Result<Vec<NewTask>, GoalErrors> {
    let tasks = value
        .get("tasks")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    if !tasks.is_array() {
        return Err(GoalErrors::one(GoalError {
            file: "<json>".into(),
            line: 1,
            col: 1,
            message: "give `tasks`: a list of tasks (the goal file's [[task]] schema)".into(),
            field: Some("tasks".into()),
        }));
    }
    let goal = serde_json::json!({"title": "subtasks", "repo": "/", "task": tasks});
    parse_json(&goal).map(|g| g.children).map_err(|errors| {
        errors.map_each(|e| {
            e.field = e.field.take().map(|f| f.replacen("task[", "tasks[", 1));
            e.message = e.message.replacen("task[", "tasks[", 1);
        })
    })
}

/// Parses the JSON form (`POST /api/goals`): the same schema; `repo` must be absolute and
/// `vars` gives the template values.
pub fn parse_json(value: &serde_json::Value) -> Result<NewTask, GoalErrors> {
    let err = |message: String, field: Option<String>| {
        GoalErrors::one(GoalError {
            file: "<json>".into(),
            line: 1,
            col: 1,
            message,
            field,
        })
    };
    let obj = value
        .as_object()
        .ok_or_else(|| err("the body must be a JSON object".into(), None))?;
    if let Some(repo) = obj.get("repo") {
        let ok = repo
            .as_str()
            .map(|r| Path::new(r).is_absolute())
            .unwrap_or(false);
        if !ok {
            return Err(err(
                "`repo` must be an absolute path in JSON".into(),
                Some("repo".into()),
            ));
        }
    }
    let table: toml::Table = serde_json::from_value(value.clone())
        .map_err(|e| err(format!("cannot use this JSON as a goal: {e}"), None))?;
    let text = toml::to_string(&table)
        .map_err(|e| err(format!("cannot use this JSON as a goal: {e}"), None))?;
    let mut goal = parse_str(&text, "<json>", Path::new("/"), &BTreeMap::new())?;
    if !obj.contains_key("repo") {
        if let Some(g) = goal.spec.goal.as_mut() {
            g.repo = std::env::current_dir().unwrap_or_default();
        }
    }
    Ok(goal)
}

/// Parses goal-file text. `base_dir` resolves a relative `repo`. Every mistake is found in
/// one go; after a syntax error other than a repeated key nothing else is checked, since the
/// parser's reading of the rest is a guess.
pub fn parse_str(
    text: &str,
    file: &str,
    base_dir: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<NewTask, GoalErrors> {
    let mut cx = Cx::new(text, file);
    let (doc, problems) = crate::tomlcheck::parse(text);
    let sound = crate::tomlcheck::tree_is_sound(&problems);
    for p in problems {
        cx.report(p.span, p.message, None);
    }
    if !sound {
        return Err(cx.fail());
    }
    let Some(raw) = schema::check(&mut cx, doc) else {
        return Err(cx.fail());
    };
    let values = vars::resolve(&cx, &raw, vars);
    let mut b = Builder {
        cx: &cx,
        vars: values,
        nodes: Vec::new(),
        lands: Vec::new(),
    };
    let inherited = Inherited {
        session: SessionPolicy::Spawn,
        agent: None,
        worktree: true,
    };
    let mut goal = b.build(&raw, 0..0, None, inherited, "");
    goal.spec.goal = Some(b.goal_settings(&raw, base_dir));
    let mut nodes = b.nodes;
    let lands = b.lands;
    if goal.children.is_empty() && !cx.was_dropped(None, "task") {
        cx.report(
            0..0,
            "a goal needs at least one [[task]]".into(),
            Some("task".into()),
        );
    }
    land::check_tasks(&cx, &mut nodes, &lands);
    deps::check(&cx, &nodes);
    cx.finish()?;
    Ok(goal)
}

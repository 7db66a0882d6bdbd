//! Goal files (TOML, or the same schema as JSON) → a validated task tree. Errors carry
//! file:line:col and a sentence a user can act on; this module never touches the store.

mod deps;
mod land;
mod raw;
mod signal;
mod vars;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::model::{
    GoalSettings, Kind, NewTask, OnTimeout, SessionPolicy, SpawnFallback, TaskSpec,
};
use raw::{allowed_fields, RawTask};

/// A goal file problem, located in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct GoalError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    /// Dotted path of the field at fault (`task[1].timeout`), for JSON callers.
    pub field: Option<String>,
}

/// Reads and validates a goal file; `vars` fill its `{{var}}` placeholders.
pub fn load_file(path: &Path, vars: &BTreeMap<String, String>) -> Result<NewTask, GoalError> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| GoalError {
        file: label.clone(),
        line: 1,
        col: 1,
        message: format!("cannot read the goal file: {e}"),
        field: None,
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
) -> Result<serde_json::Value, GoalError> {
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
    serde_json::to_value(&table).map_err(|e| GoalError {
        file: path.display().to_string(),
        line: 1,
        col: 1,
        message: e.to_string(),
        field: None,
    })
}

/// Parses `{"tasks": [...]}` (the body of `POST /api/tasks/:id/subtasks`): each entry has
/// the goal file's task schema.
pub fn parse_subtasks(value: &serde_json::Value) -> Result<Vec<NewTask>, GoalError> {
    let tasks = value
        .get("tasks")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    if !tasks.is_array() {
        return Err(GoalError {
            file: "<json>".into(),
            line: 1,
            col: 1,
            message: "give `tasks`: a list of tasks (the goal file's [[task]] schema)".into(),
            field: Some("tasks".into()),
        });
    }
    let goal = serde_json::json!({"title": "subtasks", "repo": "/", "task": tasks});
    parse_json(&goal).map(|g| g.children).map_err(|mut e| {
        e.field = e.field.map(|f| f.replacen("task[", "tasks[", 1));
        e.message = e.message.replacen("task[", "tasks[", 1);
        e
    })
}

/// Parses the JSON form (`POST /api/goals`): the same schema; `repo` must be absolute and
/// `vars` gives the template values.
pub fn parse_json(value: &serde_json::Value) -> Result<NewTask, GoalError> {
    let err = |message: String, field: Option<String>| GoalError {
        file: "<json>".into(),
        line: 1,
        col: 1,
        message,
        field,
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

/// Parses goal-file text. `base_dir` resolves a relative `repo`.
pub fn parse_str(
    text: &str,
    file: &str,
    base_dir: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<NewTask, GoalError> {
    let cx = Cx { text, file };
    let raw: RawTask = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let msg = e.message().trim().replace('\n', " ");
        cx.err(span, friendly_toml_message(&msg), None)
    })?;
    let values = vars::resolve(&cx, &raw, vars)?;
    let mut b = Builder {
        cx,
        vars: values,
        nodes: Vec::new(),
        lands: Vec::new(),
    };
    let inherited = Inherited {
        session: SessionPolicy::Spawn,
        agent: None,
        worktree: true,
    };
    let mut goal = b.build(&raw, 0..0, None, inherited, "")?;
    let settings = b.goal_settings(&raw, base_dir)?;
    goal.spec.goal = Some(settings);
    if goal.children.is_empty() {
        return Err(b.cx.err(
            0..0,
            "a goal needs at least one [[task]]".into(),
            Some("task".into()),
        ));
    }
    land::check_tasks(&b.cx, &b.nodes, &b.lands)?;
    deps::check(&b.cx, &b.nodes)?;
    Ok(goal)
}

fn friendly_toml_message(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        return format!("unknown field {rest}");
    }
    msg.to_string()
}

/// Where errors point: the text (for line/col) and the file's name.
pub(crate) struct Cx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Cx<'_> {
    pub(crate) fn err(
        &self,
        span: Range<usize>,
        message: String,
        field: Option<String>,
    ) -> GoalError {
        let (line, col) = line_col(self.text, span.start);
        GoalError {
            file: self.file.to_string(),
            line,
            col,
            message,
            field,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// The key of the `key = value` whose value sits at `value`, so an unknown-field error points
/// where toml's own unknown-field errors do; the value itself when the text is not that shape.
fn key_span(text: &str, value: Range<usize>) -> Range<usize> {
    let before = &text[..text.floor_char_boundary(value.start.min(text.len()))];
    let Some(key) = before.trim_end_matches([' ', '\t']).strip_suffix('=') else {
        return value;
    };
    let key = key.trim_end_matches([' ', '\t']);
    let start = key
        .trim_end_matches(|c: char| {
            c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'')
        })
        .len();
    if start == key.len() {
        return value;
    }
    start..key.len()
}

#[derive(Clone)]
struct Inherited {
    session: SessionPolicy,
    agent: Option<String>,
    worktree: bool,
}

/// What the dependency checker needs to know about each node, in preorder.
pub(crate) struct NodeInfo {
    pub key: Option<Spanned<String>>,
    pub after: Vec<Spanned<String>>,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub parallel: bool,
    pub path: String,
}

struct Builder<'a> {
    cx: Cx<'a>,
    vars: BTreeMap<String, String>,
    nodes: Vec<NodeInfo>,
    /// Land tasks (node index) and the keys their `tasks` names: checked after the tree.
    lands: Vec<(usize, Vec<Spanned<String>>)>,
}

impl Builder<'_> {
    fn fill(&self, s: &str) -> String {
        vars::fill(&self.vars, s)
    }

    fn build(
        &mut self,
        raw: &RawTask,
        table_span: Range<usize>,
        parent: Option<usize>,
        inherited: Inherited,
        path: &str,
    ) -> Result<NewTask, GoalError> {
        let is_goal = parent.is_none();
        let field = |name: &str| {
            Some(if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            })
        };
        let children_raw = raw.task.as_deref().unwrap_or(&[]);
        let kind = if is_goal {
            Kind::Group
        } else {
            match &raw.kind {
                None if children_raw.is_empty() => Kind::Agent,
                None => Kind::Group,
                Some(k) => match k.get_ref().as_str() {
                    "agent" => Kind::Agent,
                    "human_review" => Kind::HumanReview,
                    "signal" => Kind::Signal,
                    "land" => Kind::Land,
                    "group" => Kind::Group,
                    other => {
                        return Err(self.cx.err(
                            k.span(),
                            format!(
                            "unknown kind \"{other}\": use agent, human_review, signal, land or group"
                        ),
                            field("kind"),
                        ))
                    }
                },
            }
        };
        let allowed = allowed_fields(if is_goal { None } else { Some(kind) });
        for (name, span) in raw.fields_set() {
            if !allowed.contains(&name) {
                let what = match kind {
                    _ if is_goal => "a goal".to_string(),
                    Kind::Agent => "an agent task".to_string(),
                    other => format!("a {} task", other.as_str()),
                };
                return Err(self.cx.err(
                    key_span(self.cx.text, span),
                    format!(
                        "unknown field `{name}` on {what} (allowed: {})",
                        allowed.join(", ")
                    ),
                    field(name),
                ));
            }
        }
        if kind != Kind::Group && !children_raw.is_empty() {
            let span = raw
                .kind
                .as_ref()
                .map(|k| k.span())
                .unwrap_or(table_span.clone());
            return Err(self.cx.err(
                span,
                format!(
                    "a {} task cannot have [[task.task]] children",
                    kind.as_str()
                ),
                field("task"),
            ));
        }
        if kind == Kind::Group && children_raw.is_empty() && !is_goal {
            return Err(self.cx.err(
                table_span,
                "a group needs at least one [[task.task]] child".into(),
                field("task"),
            ));
        }
        let title = match &raw.title {
            Some(t) if !t.get_ref().trim().is_empty() => self.fill(t.get_ref()),
            Some(t) => {
                return Err(self.cx.err(
                    t.span(),
                    "`title` must not be empty".into(),
                    field("title"),
                ))
            }
            None => {
                let what = if is_goal { "the goal" } else { "this task" };
                return Err(self.cx.err(
                    table_span,
                    format!("{what} has no `title`: add title = \"…\""),
                    field("title"),
                ));
            }
        };
        let mut spec = TaskSpec {
            title,
            ..TaskSpec::default()
        };
        spec.key = raw.key.as_ref().map(|k| k.get_ref().clone());
        spec.priority = raw.priority.as_ref().map(|p| *p.get_ref()).unwrap_or(0);
        spec.parallel = raw.parallel.as_ref().map(|p| *p.get_ref()).unwrap_or(false);
        spec.session = match &raw.session {
            None => inherited.session,
            Some(s) => match self.fill(s.get_ref()).as_str() {
                "spawn" => SessionPolicy::Spawn,
                "pinned" => SessionPolicy::Pinned,
                other => {
                    return Err(self.cx.err(
                        s.span(),
                        format!("unknown session \"{other}\": use spawn or pinned"),
                        field("session"),
                    ))
                }
            },
        };
        spec.agent = raw
            .agent
            .as_ref()
            .map(|a| self.fill(a.get_ref()))
            .or(inherited.agent.clone());
        spec.worktree = raw
            .worktree
            .as_ref()
            .map(|w| *w.get_ref())
            .unwrap_or(inherited.worktree);
        spec.prompt = raw.prompt.as_ref().map(|p| self.fill(p.get_ref()));
        if let Some(c) = &raw.command {
            if c.get_ref().is_empty() {
                return Err(self.cx.err(
                    c.span(),
                    "`command` must name a program: command = [\"sh\", \"-c\", \"…\"]".into(),
                    field("command"),
                ));
            }
            spec.command = Some(c.get_ref().iter().map(|s| self.fill(s)).collect());
        }
        spec.review = raw.review.as_ref().map(|r| *r.get_ref()).unwrap_or(false);
        spec.plan = raw.plan.as_ref().map(|r| *r.get_ref()).unwrap_or(false);
        spec.retries = raw.retries.as_ref().map(|r| *r.get_ref()).unwrap_or(0);
        spec.timeout = self.duration(&raw.timeout, field("timeout"))?;
        spec.poll_every = self.duration(&raw.poll_every, field("poll_every"))?;
        spec.on_timeout = match &raw.on_timeout {
            None => OnTimeout::Fail,
            Some(o) => match self.fill(o.get_ref()).as_str() {
                "fail" => OnTimeout::Fail,
                "pass" => OnTimeout::Pass,
                "escalate" => OnTimeout::Escalate,
                other => {
                    return Err(self.cx.err(
                        o.span(),
                        format!("unknown on_timeout \"{other}\": use fail, pass or escalate"),
                        field("on_timeout"),
                    ))
                }
            },
        };
        spec.poll = raw.poll.as_ref().map(|p| self.fill(p.get_ref()));
        if kind == Kind::Signal {
            self.signal_fields(raw, &mut spec, table_span.clone(), &field)?;
        }
        // What a land task lands, it also waits for.
        let lands: Vec<Spanned<String>> = match kind {
            Kind::Land => self.land_fields(raw, &mut spec, &field)?,
            _ => Vec::new(),
        };

        let index = self.nodes.len();
        if !lands.is_empty() {
            self.lands.push((index, lands.clone()));
        }
        self.nodes.push(NodeInfo {
            key: raw.key.clone(),
            after: raw
                .after
                .as_ref()
                .map(|a| a.get_ref().clone())
                .unwrap_or_default()
                .into_iter()
                .chain(lands.iter().cloned())
                .collect(),
            parent,
            children: Vec::new(),
            parallel: spec.parallel,
            path: path.to_string(),
        });
        if let Some(p) = parent {
            self.nodes[p].children.push(index);
        }
        let next = Inherited {
            session: spec.session,
            agent: spec.agent.clone(),
            worktree: spec.worktree,
        };
        let mut children = Vec::with_capacity(children_raw.len());
        for (i, child) in children_raw.iter().enumerate() {
            let child_path = if path.is_empty() {
                format!("task[{i}]")
            } else {
                format!("{path}.task[{i}]")
            };
            children.push(self.build(
                child.get_ref(),
                child.span(),
                Some(index),
                next.clone(),
                &child_path,
            )?);
        }
        let mut after: Vec<String> = raw
            .after
            .as_ref()
            .map(|a| a.get_ref().iter().map(|s| s.get_ref().clone()).collect())
            .unwrap_or_default();
        for k in &lands {
            if !after.contains(k.get_ref()) {
                after.push(k.get_ref().clone());
            }
        }
        Ok(NewTask {
            kind,
            spec,
            after,
            children,
        })
    }

    fn duration(
        &self,
        raw: &raw::S<String>,
        field: Option<String>,
    ) -> Result<Option<u64>, GoalError> {
        let Some(d) = raw else { return Ok(None) };
        let text = self.fill(d.get_ref());
        match humantime::parse_duration(text.trim()) {
            Ok(v) if v.as_secs() > 0 => Ok(Some(v.as_secs())),
            _ => Err(self.cx.err(
                d.span(),
                format!("bad duration \"{text}\": write it like \"30s\", \"45m\" or \"2h\""),
                field,
            )),
        }
    }

    fn goal_settings(&self, raw: &RawTask, base_dir: &Path) -> Result<GoalSettings, GoalError> {
        let repo_rel = raw
            .repo
            .as_ref()
            .map(|r| self.fill(r.get_ref()))
            .unwrap_or_else(|| ".".into());
        let joined = base_dir.join(&repo_rel);
        let repo = joined
            .canonicalize()
            .unwrap_or_else(|_| std::path::absolute(&joined).unwrap_or(joined));
        let spawn_fallback = match &raw.spawn_fallback {
            None => SpawnFallback::Block,
            Some(s) => match self.fill(s.get_ref()).as_str() {
                "block" => SpawnFallback::Block,
                "pinned" => SpawnFallback::Pinned,
                other => {
                    return Err(self.cx.err(
                        s.span(),
                        format!("unknown spawn_fallback \"{other}\": use block or pinned"),
                        Some("spawn_fallback".into()),
                    ))
                }
            },
        };
        if let Some(m) = &raw.max_agents {
            if *m.get_ref() == 0 {
                return Err(self.cx.err(
                    m.span(),
                    "`max_agents` must be at least 1".into(),
                    Some("max_agents".into()),
                ));
            }
        }
        if let Some(m) = &raw.spawns_per_minute {
            if *m.get_ref() == 0 {
                return Err(self.cx.err(
                    m.span(),
                    "`spawns_per_minute` must be at least 1".into(),
                    Some("spawns_per_minute".into()),
                ));
            }
        }
        Ok(GoalSettings {
            repo,
            spawn_fallback,
            max_agents: raw.max_agents.as_ref().map(|m| *m.get_ref()),
            spawns_per_minute: raw.spawns_per_minute.as_ref().map(|m| *m.get_ref()),
            vars: self.vars.clone(),
            source: None,
            branch: None,
        })
    }
}

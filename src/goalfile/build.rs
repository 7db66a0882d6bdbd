//! The second pass: a checked [`RawTask`] tree → the task tree, with the rules between fields
//! (a title, children only on groups, durations, enumerated values, goal settings). Each
//! broken rule is reported and a neutral value stands in, so the rest is still checked.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::raw::{self, RawTask};
use super::Cx;
use crate::model::{
    GoalSettings, Kind, NewTask, OnTimeout, SessionPolicy, SpawnFallback, TaskSpec,
};
use crate::tomlcheck::did_you_mean;

#[derive(Clone)]
pub(super) struct Inherited {
    pub session: SessionPolicy,
    pub agent: Option<String>,
    pub worktree: bool,
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

pub(super) struct Builder<'c, 'a> {
    pub cx: &'c Cx<'a>,
    pub vars: BTreeMap<String, String>,
    pub nodes: Vec<NodeInfo>,
    /// Land tasks (node index) and the keys their `tasks` names: checked after the tree.
    pub lands: Vec<(usize, Vec<Spanned<String>>)>,
}

/// One of `names` (`fail`, `pass`, …) for an enumerated field; a mistake is reported with
/// the nearest name and `None` comes back.
pub(super) fn choice<T: Copy>(
    cx: &Cx,
    what: &str,
    value: &str,
    span: Range<usize>,
    options: &[(&str, T)],
    field: Option<String>,
) -> Option<T> {
    if let Some((_, v)) = options.iter().find(|(n, _)| *n == value) {
        return Some(*v);
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let listed = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    };
    cx.report(
        span,
        format!(
            "unknown {what} \"{value}\"{}: use {listed}",
            did_you_mean(value, names.iter().copied(), "\"")
        ),
        field,
    );
    None
}

impl Builder<'_, '_> {
    pub fn fill(&self, s: &str) -> String {
        super::vars::fill(&self.vars, s)
    }

    /// `id`: where the task's table starts (`None`: the goal), to know what the first pass
    /// already dropped.
    pub fn build(
        &mut self,
        raw: &RawTask,
        table_span: Range<usize>,
        parent: Option<usize>,
        inherited: Inherited,
        path: &str,
    ) -> NewTask {
        let is_goal = parent.is_none();
        let id = (!is_goal).then_some(table_span.start);
        let field = |name: &str| {
            Some(if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            })
        };
        let cx = self.cx;
        let children_raw = raw.task.as_deref().unwrap_or(&[]);
        // The first pass dropped a kind that is not one; rules that depend on it are skipped.
        let kind_known = is_goal || !cx.was_dropped(id, "kind");
        let kind = if is_goal {
            Kind::Group
        } else {
            match raw
                .kind
                .as_ref()
                .and_then(|k| super::schema::parse_kind(k.get_ref()))
            {
                Some(k) => k,
                None if children_raw.is_empty() => Kind::Agent,
                None => Kind::Group,
            }
        };
        if kind_known && kind != Kind::Group && !children_raw.is_empty() {
            let span = raw
                .kind
                .as_ref()
                .map(|k| k.span())
                .unwrap_or(table_span.clone());
            cx.report(
                span,
                format!(
                    "a {} task cannot have [[task.task]] children",
                    kind.as_str()
                ),
                field("task"),
            );
        }
        if kind_known && kind == Kind::Group && children_raw.is_empty() && !is_goal {
            cx.report(
                table_span.clone(),
                "a group needs at least one [[task.task]] child".into(),
                field("task"),
            );
        }
        let title = match &raw.title {
            Some(t) if !t.get_ref().trim().is_empty() => self.fill(t.get_ref()),
            Some(t) => {
                cx.report(t.span(), "`title` must not be empty".into(), field("title"));
                String::new()
            }
            None => {
                if !cx.was_dropped(id, "title") {
                    let what = if is_goal { "the goal" } else { "this task" };
                    cx.report(
                        table_span.clone(),
                        format!("{what} has no `title`: add title = \"…\""),
                        field("title"),
                    );
                }
                String::new()
            }
        };
        let mut spec = TaskSpec {
            title,
            ..TaskSpec::default()
        };
        spec.key = raw.key.as_ref().map(|k| k.get_ref().clone());
        spec.priority = raw.priority.as_ref().map(|p| *p.get_ref()).unwrap_or(0);
        spec.parallel = raw.parallel.as_ref().map(|p| *p.get_ref()).unwrap_or(false);
        spec.session = raw
            .session
            .as_ref()
            .and_then(|s| {
                let options = [
                    ("spawn", SessionPolicy::Spawn),
                    ("pinned", SessionPolicy::Pinned),
                ];
                choice(
                    cx,
                    "session",
                    &self.fill(s.get_ref()),
                    s.span(),
                    &options,
                    field("session"),
                )
            })
            .unwrap_or(inherited.session);
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
                cx.report(
                    c.span(),
                    "`command` must name a program: command = [\"sh\", \"-c\", \"…\"]".into(),
                    field("command"),
                );
            } else {
                spec.command = Some(c.get_ref().iter().map(|s| self.fill(s)).collect());
            }
        }
        spec.review = raw.review.as_ref().map(|r| *r.get_ref()).unwrap_or(false);
        spec.plan = raw.plan.as_ref().map(|r| *r.get_ref()).unwrap_or(false);
        spec.retries = raw.retries.as_ref().map(|r| *r.get_ref()).unwrap_or(0);
        spec.timeout = self.duration(&raw.timeout, field("timeout"));
        spec.poll_every = self.duration(&raw.poll_every, field("poll_every"));
        spec.on_timeout = raw
            .on_timeout
            .as_ref()
            .and_then(|o| {
                let options = [
                    ("fail", OnTimeout::Fail),
                    ("pass", OnTimeout::Pass),
                    ("escalate", OnTimeout::Escalate),
                ];
                let value = self.fill(o.get_ref());
                choice(
                    cx,
                    "on_timeout",
                    &value,
                    o.span(),
                    &options,
                    field("on_timeout"),
                )
            })
            .unwrap_or(OnTimeout::Fail);
        spec.poll = raw.poll.as_ref().map(|p| self.fill(p.get_ref()));
        if kind == Kind::Signal && kind_known {
            self.signal_fields(raw, &mut spec, table_span.clone(), id, &field);
        }
        // What a land task lands, it also waits for.
        let lands: Vec<Spanned<String>> = match kind {
            Kind::Land if kind_known => self.land_fields(raw, &mut spec, &field),
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
            ));
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
        NewTask {
            kind,
            spec,
            after,
            children,
        }
    }

    fn duration(&self, raw: &raw::S<String>, field: Option<String>) -> Option<u64> {
        let d = raw.as_ref()?;
        let text = self.fill(d.get_ref());
        match humantime::parse_duration(text.trim()) {
            Ok(v) if v.as_secs() > 0 => Some(v.as_secs()),
            _ => {
                self.cx.report(
                    d.span(),
                    format!("bad duration \"{text}\": write it like \"30s\", \"45m\" or \"2h\""),
                    field,
                );
                None
            }
        }
    }

    pub fn goal_settings(&self, raw: &RawTask, base_dir: &Path) -> GoalSettings {
        let cx = self.cx;
        let repo_rel = raw
            .repo
            .as_ref()
            .map(|r| self.fill(r.get_ref()))
            .unwrap_or_else(|| ".".into());
        let joined = base_dir.join(&repo_rel);
        let repo = joined
            .canonicalize()
            .unwrap_or_else(|_| std::path::absolute(&joined).unwrap_or(joined));
        let spawn_fallback = raw
            .spawn_fallback
            .as_ref()
            .and_then(|s| {
                let options = [
                    ("block", SpawnFallback::Block),
                    ("pinned", SpawnFallback::Pinned),
                ];
                let value = self.fill(s.get_ref());
                let field = Some("spawn_fallback".to_string());
                choice(cx, "spawn_fallback", &value, s.span(), &options, field)
            })
            .unwrap_or(SpawnFallback::Block);
        for (name, zero) in [
            (
                "max_agents",
                raw.max_agents
                    .as_ref()
                    .filter(|m| *m.get_ref() == 0)
                    .map(|m| m.span()),
            ),
            (
                "spawns_per_minute",
                raw.spawns_per_minute
                    .as_ref()
                    .filter(|m| *m.get_ref() == 0)
                    .map(|m| m.span()),
            ),
        ] {
            if let Some(span) = zero {
                cx.report(
                    span,
                    format!("`{name}` must be at least 1"),
                    Some(name.into()),
                );
            }
        }
        GoalSettings {
            repo,
            spawn_fallback,
            max_agents: raw
                .max_agents
                .as_ref()
                .map(|m| *m.get_ref())
                .filter(|m| *m > 0),
            spawns_per_minute: raw
                .spawns_per_minute
                .as_ref()
                .map(|m| *m.get_ref())
                .filter(|m| *m > 0),
            vars: self.vars.clone(),
            source: None,
            branch: None,
        }
    }
}

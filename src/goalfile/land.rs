//! A `land` task's own fields (`into`, `strategy`, `tasks`, `pr`, `remote`, `pr_command`) and
//! the check that `tasks` names tasks of the goal. Landing itself is the git adapter's job.
//! Each mistake is reported into the collector and a neutral value stands in, so the rest of
//! the file is still checked.

use toml::Spanned;

use super::build::{choice, Builder, NodeInfo};
use super::raw::{RawPr, RawTask};
use super::Cx;
use crate::model::{LandSpec, LandStrategy, TaskSpec};

impl Builder<'_, '_> {
    /// Fills `spec.land`; returns the keys `tasks` names (the task waits for them too).
    pub(super) fn land_fields(
        &self,
        raw: &RawTask,
        spec: &mut TaskSpec,
        field: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<Spanned<String>> {
        let cx = self.cx;
        let mut land = LandSpec::default();
        let text = |name: &str, v: &Option<Spanned<String>>| -> Option<String> {
            let s = v.as_ref()?;
            let filled = self.fill(s.get_ref());
            if filled.trim().is_empty() {
                cx.report(s.span(), format!("`{name}` must not be empty"), field(name));
                return None;
            }
            Some(filled.trim().to_string())
        };
        land.into = text("into", &raw.into);
        land.remote = text("remote", &raw.remote);
        if let Some(s) = &raw.strategy {
            let options = [
                ("ff", LandStrategy::Ff),
                ("merge", LandStrategy::Merge),
                ("squash", LandStrategy::Squash),
            ];
            let value = self.fill(s.get_ref());
            if let Some(v) = choice(
                cx,
                "strategy",
                &value,
                s.span(),
                &options,
                field("strategy"),
            ) {
                land.strategy = v;
            }
        }
        // Whether `pr` was written at all, mistaken or not (stray PR settings go unsaid then).
        let pr_written = raw.pr.is_some();
        if let Some(pr) = &raw.pr {
            match pr.get_ref() {
                RawPr::Other(toml::Value::Boolean(b)) => land.pr = *b,
                RawPr::Text(t) if matches!(self.fill(t).as_str(), "true" | "false") => {
                    land.pr = self.fill(t) == "true";
                }
                _ => cx.report(
                    pr.span(),
                    "`pr` on a land task is true (push and open a pull request) or false".into(),
                    field("pr"),
                ),
            }
        }
        if let Some(c) = &raw.pr_command {
            if c.get_ref().is_empty() {
                cx.report(
                    c.span(),
                    "`pr_command` must name a program: pr_command = [\"gh\", \"pr\", \"create\", …]"
                        .into(),
                    field("pr_command"),
                );
            } else {
                land.pr_command = Some(c.get_ref().iter().map(|s| self.fill(s)).collect());
            }
        }
        // Pull-request settings without a pull request are a mistake worth saying.
        if !land.pr && !pr_written {
            for (name, span) in [
                ("remote", raw.remote.as_ref().map(|r| r.span())),
                ("pr_command", raw.pr_command.as_ref().map(|r| r.span())),
            ] {
                if let Some(span) = span {
                    cx.report(
                        span,
                        format!("`{name}` is used only with pr = true: add pr = true or remove it"),
                        field(name),
                    );
                }
            }
        }
        let keys: Vec<Spanned<String>> = match &raw.tasks {
            None => Vec::new(),
            Some(list) if list.get_ref().is_empty() => {
                cx.report(
                    list.span(),
                    "`tasks` is empty: name the tasks to land, or leave it out to land every \
                     agent task of the goal"
                        .into(),
                    field("tasks"),
                );
                Vec::new()
            }
            Some(list) => list.get_ref().clone(),
        };
        land.tasks = keys.iter().map(|k| k.get_ref().clone()).collect();
        spec.land = Some(land);
        keys
    }
}

/// Every key a land task's `tasks` names is a task of the goal, not itself, not an ancestor.
/// Each wrong key is reported and taken out of the task's dependencies, so the dependency
/// check does not report it again.
pub(super) fn check_tasks(
    cx: &Cx,
    nodes: &mut [NodeInfo],
    lands: &[(usize, Vec<Spanned<String>>)],
) {
    for (node, keys) in lands {
        let mut wrong = Vec::new();
        let field = Some(if nodes[*node].path.is_empty() {
            "tasks".to_string()
        } else {
            format!("{}.tasks", nodes[*node].path)
        });
        for k in keys {
            let found = nodes
                .iter()
                .position(|n| n.key.as_ref().is_some_and(|x| x.get_ref() == k.get_ref()));
            let Some(target) = found else {
                let mut known: Vec<&str> = nodes
                    .iter()
                    .filter_map(|n| n.key.as_ref().map(|x| x.get_ref().as_str()))
                    .collect();
                known.sort_unstable();
                let hint = if known.is_empty() {
                    "no task has a key yet".to_string()
                } else {
                    match crate::tomlcheck::suggest(k.get_ref(), known.iter().copied()) {
                        Some(s) => format!("did you mean \"{s}\"? keys: {}", known.join(", ")),
                        None => format!("keys: {}", known.join(", ")),
                    }
                };
                cx.report(
                    k.span(),
                    format!(
                        "`tasks` names \"{}\" but no task of this goal has that key ({hint})",
                        k.get_ref()
                    ),
                    field.clone(),
                );
                wrong.push(k.span());
                continue;
            };
            let mut up = Some(*node);
            while let Some(x) = up {
                if x == target {
                    cx.report(
                        k.span(),
                        format!(
                            "`tasks` names \"{}\", which is this land task or a group it is in: \
                             name the tasks to land",
                            k.get_ref()
                        ),
                        field.clone(),
                    );
                    wrong.push(k.span());
                    break;
                }
                up = nodes[x].parent;
            }
        }
        nodes[*node].after.retain(|a| !wrong.contains(&a.span()));
    }
}

//! A `land` task's own fields (`into`, `strategy`, `tasks`, `pr`, `remote`, `pr_command`) and
//! the check that `tasks` names tasks of the goal. Landing itself is the git adapter's job.

use toml::Spanned;

use super::raw::{RawPr, RawTask};
use super::{Builder, Cx, GoalError, NodeInfo};
use crate::model::{LandSpec, LandStrategy, TaskSpec};

impl Builder<'_> {
    /// Fills `spec.land`; returns the keys `tasks` names (the task waits for them too).
    pub(super) fn land_fields(
        &self,
        raw: &RawTask,
        spec: &mut TaskSpec,
        field: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<Spanned<String>>, GoalError> {
        let mut land = LandSpec::default();
        let text = |name: &str, v: &Option<Spanned<String>>| -> Result<_, GoalError> {
            match v {
                None => Ok(None),
                Some(s) => {
                    let filled = self.fill(s.get_ref());
                    if filled.trim().is_empty() {
                        return Err(self.cx.err(
                            s.span(),
                            format!("`{name}` must not be empty"),
                            field(name),
                        ));
                    }
                    Ok(Some(filled.trim().to_string()))
                }
            }
        };
        land.into = text("into", &raw.into)?;
        land.remote = text("remote", &raw.remote)?;
        if let Some(s) = &raw.strategy {
            land.strategy = match self.fill(s.get_ref()).as_str() {
                "ff" => LandStrategy::Ff,
                "merge" => LandStrategy::Merge,
                "squash" => LandStrategy::Squash,
                other => {
                    return Err(self.cx.err(
                        s.span(),
                        format!("unknown strategy \"{other}\": use ff, merge or squash"),
                        field("strategy"),
                    ))
                }
            };
        }
        if let Some(pr) = &raw.pr {
            land.pr = match pr.get_ref() {
                RawPr::Other(toml::Value::Boolean(b)) => *b,
                RawPr::Text(t) if matches!(self.fill(t).as_str(), "true" | "false") => {
                    self.fill(t) == "true"
                }
                _ => {
                    return Err(self.cx.err(
                        pr.span(),
                        "`pr` on a land task is true (push and open a pull request) or false"
                            .into(),
                        field("pr"),
                    ))
                }
            };
        }
        if let Some(c) = &raw.pr_command {
            if c.get_ref().is_empty() {
                return Err(self.cx.err(
                    c.span(),
                    "`pr_command` must name a program: pr_command = [\"gh\", \"pr\", \"create\", …]"
                        .into(),
                    field("pr_command"),
                ));
            }
            land.pr_command = Some(c.get_ref().iter().map(|s| self.fill(s)).collect());
        }
        // Pull-request settings without a pull request are a mistake worth saying.
        if !land.pr {
            let stray = [
                ("remote", raw.remote.as_ref().map(|r| r.span())),
                ("pr_command", raw.pr_command.as_ref().map(|r| r.span())),
            ];
            if let Some((name, Some(span))) = stray.into_iter().find(|(_, s)| s.is_some()) {
                return Err(self.cx.err(
                    span,
                    format!("`{name}` is used only with pr = true: add pr = true or remove it"),
                    field(name),
                ));
            }
        }
        let keys: Vec<Spanned<String>> = match &raw.tasks {
            None => Vec::new(),
            Some(list) if list.get_ref().is_empty() => {
                return Err(self.cx.err(
                    list.span(),
                    "`tasks` is empty: name the tasks to land, or leave it out to land every \
                     agent task of the goal"
                        .into(),
                    field("tasks"),
                ))
            }
            Some(list) => list.get_ref().clone(),
        };
        land.tasks = keys.iter().map(|k| k.get_ref().clone()).collect();
        spec.land = Some(land);
        Ok(keys)
    }
}

/// Every key a land task's `tasks` names is a task of the goal, not itself, not an ancestor.
pub(super) fn check_tasks(
    cx: &Cx,
    nodes: &[NodeInfo],
    lands: &[(usize, Vec<Spanned<String>>)],
) -> Result<(), GoalError> {
    for (node, keys) in lands {
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
                    format!("keys: {}", known.join(", "))
                };
                return Err(cx.err(
                    k.span(),
                    format!(
                        "`tasks` names \"{}\" but no task of this goal has that key ({hint})",
                        k.get_ref()
                    ),
                    field,
                ));
            };
            let mut up = Some(*node);
            while let Some(x) = up {
                if x == target {
                    return Err(cx.err(
                        k.span(),
                        format!(
                            "`tasks` names \"{}\", which is this land task or a group it is in: \
                             name the tasks to land",
                            k.get_ref()
                        ),
                        field,
                    ));
                }
                up = nodes[x].parent;
            }
        }
    }
    Ok(())
}

//! Landing and conflicts in the pure core: when a land task starts and what it lands, what
//! its job's outcome does, landing on demand (`L`, `taskboard land`), what the conflict
//! watcher should watch and what its findings change, and `{result.KEY}` for gates. No IO:
//! the git work is an effect (`Effect::Land`) and comes back as an event.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::effects::{Effect, LandJob, LandTarget, PrJob};
use super::machine::Board;
use crate::command::CommandError;
use crate::model::{
    Conflict, Kind, LandSpec, LandStrategy, Millis, NewTask, Status, TaskId, TaskSpec,
    DEFAULT_PR_COMMAND,
};

/// What the conflict watcher should watch of one goal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    pub goal: TaskId,
    pub repo: PathBuf,
    /// Where the goal's work lands: its first land task's `into`, else the goal's branch.
    pub target: Option<String>,
    /// Agent tasks with a branch that is still in play, in tree order.
    pub tasks: Vec<(TaskId, String)>,
}

impl Board {
    /// A land task's dependencies are satisfied: start its job (or finish at once when there
    /// is nothing to land, or block when something it names is not done).
    pub(super) fn start_land(&mut self, id: TaskId, now: Millis, fx: &mut Vec<Effect>) {
        let Some(t) = self.task(id) else { return };
        if self.paused {
            if t.reason != "paused" {
                self.set_status(id, Status::Pending, "paused", "", "board", now);
            }
            return;
        }
        let spec = t.spec.land.clone().unwrap_or_default();
        let (goal, title) = (t.goal, t.spec.title.clone());
        let Some(repo) = self.goal_repo(goal) else {
            return;
        };
        let into = spec.into.clone().or_else(|| self.goal_branch(goal));
        let targets = match self.land_targets(id, &spec) {
            Ok(t) => t,
            Err(why) => return self.block(id, why, now),
        };
        if targets.is_empty() {
            if let Some(t) = self.task_mut(id) {
                t.result = Some(json!({"into": into, "merged": []}));
            }
            self.set_status(id, Status::Done, "", "nothing to land", "board", now);
            return;
        }
        let Some(t) = self.task_mut(id) else { return };
        t.attempt += 1;
        t.result = None;
        let attempt = t.attempt;
        let n = targets.len();
        let on = into.as_deref().unwrap_or("the checked-out branch");
        let reason = if spec.pr {
            format!("proposing {n} branch(es) for {on}")
        } else {
            format!("landing {n} branch(es) on {on}")
        };
        self.set_status(id, Status::Active, reason, "", "board", now);
        let pr = spec.pr.then(|| PrJob {
            remote: spec.remote.clone().unwrap_or_else(|| "origin".into()),
            command: spec
                .pr_command
                .clone()
                .unwrap_or_else(|| DEFAULT_PR_COMMAND.iter().map(|s| s.to_string()).collect()),
        });
        fx.push(Effect::Land(LandJob {
            task: id,
            goal,
            attempt,
            title,
            repo,
            into,
            strategy: spec.strategy,
            branches: targets,
            pr,
        }));
    }

    /// The branches a land task lands, in tree order: the agent tasks it names (or every
    /// agent task of the goal) that are done and worked on a branch of their own.
    fn land_targets(&self, id: TaskId, spec: &LandSpec) -> Result<Vec<LandTarget>, String> {
        let Some(goal) = self.task(id).map(|t| t.goal) else {
            return Ok(Vec::new());
        };
        let order = self.preorder(goal);
        let explicit = !spec.task_ids.is_empty();
        let named: HashSet<TaskId> = spec
            .task_ids
            .iter()
            .flat_map(|r| self.preorder(*r))
            .collect();
        let mut out = Vec::new();
        for &x in &order {
            let Some(t) = self.task(x) else { continue };
            if t.kind != Kind::Agent || x == id || (explicit && !named.contains(&x)) {
                continue;
            }
            match (t.status, &t.workdir) {
                (Status::Done, Some(w)) => out.push(LandTarget {
                    task: x,
                    title: t.spec.title.clone(),
                    branch: w.branch.clone(),
                }),
                (Status::Done | Status::Skipped, _) => {}
                // Every agent task by default: what is not finished yet is not landed.
                (s, _) if explicit => {
                    return Err(format!(
                        "#{x} {} is {s}: it lands once it is done (or skip it), then retry (R)",
                        t.spec.title
                    ))
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// A land job ended.
    pub(super) fn landed(
        &mut self,
        id: TaskId,
        attempt: u32,
        outcome: Result<Value, String>,
        now: Millis,
    ) {
        let current = self.task(id).is_some_and(|t| {
            t.kind == Kind::Land && t.attempt == attempt && t.status == Status::Active
        });
        if !current {
            // Skipped, retried or deleted meanwhile: the trail keeps what the job did.
            let what = match &outcome {
                Ok(v) => v.clone(),
                Err(e) => json!({ "error": e }),
            };
            self.audit(
                Some(id),
                "board",
                "stale_land",
                json!({"attempt": attempt, "outcome": what}),
                now,
            );
            return;
        }
        match outcome {
            Ok(result) => {
                let commit: String = result["commit"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(10)
                    .collect();
                let note = match result["pr_url"].as_str() {
                    Some(url) => format!("pull request {url}"),
                    None => format!(
                        "landed on {} at {commit}",
                        result["into"].as_str().unwrap_or("?")
                    ),
                };
                self.audit(Some(id), "board", "landed", result.clone(), now);
                if let Some(t) = self.task_mut(id) {
                    t.result = Some(result);
                }
                self.set_status(id, Status::Done, "", &note, "board", now);
            }
            Err(why) => self.block(id, why, now),
        }
    }

    fn block(&mut self, id: TaskId, why: String, now: Millis) {
        self.set_status(id, Status::Blocked, why.clone(), "", "board", now);
        self.flag(id, format!("blocked: {why}"));
    }

    fn goal_branch(&self, goal: TaskId) -> Option<String> {
        self.task(goal)
            .and_then(|g| g.spec.goal.as_ref())
            .and_then(|s| s.branch.clone())
    }

    /// `L` / `taskboard land ID`: a land task for this finished agent task or group is added
    /// at the end of its goal and runs at once (it waits only for what it lands).
    pub(super) fn land_now(
        &mut self,
        task: TaskId,
        into: Option<String>,
        strategy: Option<LandStrategy>,
        pr: bool,
        who: &str,
        now: Millis,
    ) -> Result<Value, CommandError> {
        let t = self.get(task)?;
        if !matches!(t.kind, Kind::Agent | Kind::Group) {
            return Err(CommandError::conflict(
                format!(
                    "#{task} is a {} task: land an agent task or a group",
                    t.kind.as_str()
                ),
                Some(t.status),
            ));
        }
        if t.status != Status::Done {
            return Err(CommandError::conflict(
                format!("#{task} is {}: it lands once it is done", t.status),
                Some(t.status),
            ));
        }
        let work = self.preorder(task).into_iter().any(|x| {
            self.task(x).is_some_and(|a| {
                a.kind == Kind::Agent && a.status == Status::Done && a.workdir.is_some()
            })
        });
        if !work {
            return Err(CommandError::conflict(
                format!("#{task} has no finished agent work on a branch of its own to land"),
                Some(t.status),
            ));
        }
        if into.as_deref().is_some_and(|b| b.trim().is_empty()) {
            return Err(CommandError::Invalid {
                message: "`into` must name a branch".into(),
                field: Some("into".into()),
            });
        }
        let (goal, title) = (t.goal, format!("Land #{task} {}", t.spec.title));
        let strategy = strategy.unwrap_or_default();
        let spec = TaskSpec {
            title,
            land: Some(LandSpec {
                into: into.clone(),
                strategy,
                task_ids: vec![task],
                pr,
                on_demand: true,
                ..LandSpec::default()
            }),
            ..TaskSpec::default()
        };
        let node = NewTask {
            kind: Kind::Land,
            spec,
            after: Vec::new(),
            children: Vec::new(),
        };
        let Some(&id) = self.add_trees(vec![node], Some(goal), goal, now).first() else {
            return Err(CommandError::conflict("the land task was not added", None));
        };
        if let Some(t) = self.task_mut(id) {
            t.after = vec![task];
        }
        self.touch(goal);
        let into = into.or_else(|| self.goal_branch(goal));
        self.audit(
            Some(id),
            who,
            "land",
            json!({"task": task, "into": into, "strategy": strategy, "pr": pr}),
            now,
        );
        Ok(json!({"id": id, "task": task, "into": into, "strategy": strategy, "pr": pr}))
    }

    /// A land task made on demand waits only for what it lands, not for earlier siblings.
    pub(super) fn on_demand(&self, id: TaskId) -> bool {
        self.task(id)
            .and_then(|t| t.spec.land.as_ref())
            .is_some_and(|l| l.on_demand)
    }

    /// What the conflict watcher should watch: per unfinished goal, its agent tasks that
    /// have a branch and are neither failed nor skipped.
    pub fn watch_list(&self) -> Vec<Watched> {
        let mut out = Vec::new();
        for &g in &self.goals {
            let Some(goal) = self.task(g) else { continue };
            if matches!(goal.status, Status::Done | Status::Skipped) {
                continue;
            }
            let Some(repo) = self.goal_repo(g) else {
                continue;
            };
            let mut tasks = Vec::new();
            let mut target = None;
            for x in self.preorder(g) {
                let Some(t) = self.task(x) else { continue };
                match (t.kind, &t.workdir) {
                    (Kind::Agent, Some(w))
                        if !matches!(t.status, Status::Failed | Status::Skipped) =>
                    {
                        tasks.push((x, w.branch.clone()))
                    }
                    (Kind::Land, _) if target.is_none() => {
                        target = t.spec.land.as_ref().and_then(|l| l.into.clone())
                    }
                    _ => {}
                }
            }
            if tasks.is_empty() {
                continue;
            }
            out.push(Watched {
                goal: g,
                repo,
                target: target.or_else(|| self.goal_branch(g)),
                tasks,
            });
        }
        out
    }

    /// The watcher's findings for a goal: each task's conflicts replace what it had.
    pub(super) fn conflicts_checked(
        &mut self,
        goal: TaskId,
        found: Vec<(TaskId, Vec<Conflict>)>,
        now: Millis,
    ) {
        for id in self.preorder(goal) {
            let want = found
                .iter()
                .find(|(t, _)| *t == id)
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            let Some(t) = self.task_mut(id) else { continue };
            if t.conflicts == want {
                continue;
            }
            t.conflicts = want.clone();
            self.touch(id);
            self.changes.conflicts.push(id);
            self.audit(
                Some(id),
                "board",
                "conflicts",
                json!({ "conflicts": want }),
                now,
            );
        }
    }
}

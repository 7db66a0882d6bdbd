//! Running the board's effects: spawning sessions (worktree, profile, PTY) off the board's
//! thread, stopping process groups, typing into sessions, polls, worktree removal, diffs.

use std::sync::Arc;
use std::time::Duration;

use super::handle::{Msg, Notice, PermissionAnswer, TokenScope};
use super::thread::Driver;
use crate::agent::{self, procs, Sinks, SpawnRequest};
use crate::board::{Effect, Event, SpawnSpec};
use crate::model::TaskId;

impl Driver {
    pub(super) fn run_effect(&mut self, fx: Effect) {
        match fx {
            Effect::Spawn(spec) => self.spawn(spec),
            Effect::Kill { task, attempt } => {
                if let Some(s) = self.sessions.get(&(task, attempt)) {
                    let pid = s.pane.pid;
                    let mark = procs::mark_value(&self.parts.board_id, task, attempt);
                    std::thread::spawn(move || {
                        procs::stop_group(pid, Some(&mark), Duration::from_secs(5))
                    });
                }
            }
            Effect::WriteInput { session, text } => self.type_into(session, text),
            Effect::AnswerPermission {
                task,
                request,
                allow,
                reason,
            } => {
                if let Some(w) = self.permission_waiters.remove(&(task, request)) {
                    let _ = w.send(PermissionAnswer { allow, reason });
                }
            }
            Effect::DropPermission { task, request } => {
                self.permission_waiters.remove(&(task, request));
            }
            Effect::TypePrompt {
                session,
                task,
                prompt,
                context,
                agent,
            } => {
                let text = agent::profile::typed_prompt(
                    &self.parts.config,
                    agent.as_deref(),
                    &prompt,
                    &context,
                    task,
                    &crate::selfexe::agent_exe(&self.parts.data),
                );
                self.type_into(session, text);
            }
            Effect::RunPoll {
                task,
                attempt,
                command,
                cwd,
            } => {
                let events = self.events_tx.clone();
                tokio::spawn(async move {
                    let (code, stdout) = run_poll(&command, &cwd).await;
                    let _ = events.send(Event::PollFinished {
                        task,
                        attempt,
                        code,
                        stdout,
                    });
                });
            }
            Effect::RemoveWorktrees { goal, repo } => {
                let dir = self.parts.data.worktrees();
                tokio::task::spawn_blocking(move || {
                    for e in crate::git::remove_worktrees(&repo, &dir, goal) {
                        tracing::warn!(goal, "cannot remove a worktree: {e}");
                    }
                });
            }
            Effect::ComputeDiff {
                task,
                repo,
                base,
                branch,
            } => {
                let events = self.events_tx.clone();
                let dir = self.parts.data.root.join("diffs");
                tokio::task::spawn_blocking(move || {
                    match crate::git::diff(&repo, &base, &branch) {
                        Ok(d) => {
                            if let Err(e) = crate::git::save_patch(&dir, task, &d) {
                                tracing::warn!(task, "cannot save the diff: {e}");
                            }
                            let _ = events.send(Event::DiffReady {
                                task,
                                hash: d.hash,
                                stat: d.stat,
                            });
                        }
                        Err(e) => tracing::warn!(task, "cannot compute the review diff: {e}"),
                    }
                });
            }
            Effect::Land(job) => {
                let events = self.events_tx.clone();
                let board_id = self.parts.board_id.clone();
                // git work, a push and a PR command: never on the board's thread.
                tokio::task::spawn_blocking(move || {
                    let (task, attempt) = (job.task, job.attempt);
                    let outcome = land(job, &board_id);
                    if let Err(e) = &outcome {
                        tracing::info!(task, "land blocked: {e}");
                    }
                    let _ = events.send(Event::Landed {
                        task,
                        attempt,
                        outcome,
                    });
                });
            }
        }
    }

    /// Types text into a session off the board's thread (the paste pauses before Enter).
    fn type_into(&self, session: (TaskId, u32), text: String) {
        match self.sessions.get(&session).map(|s| s.pane.clone()) {
            Some(pane) => {
                std::thread::spawn(move || {
                    if let Err(e) = pane.type_text(&text) {
                        tracing::warn!(task = pane.task, "cannot type into the session: {e}");
                    }
                });
            }
            None => tracing::warn!(task = session.0, "no open session to type into"),
        }
    }

    fn spawn(&mut self, spec: SpawnSpec) {
        let data = self.parts.data.clone();
        let config = self.parts.config.clone();
        let board_id = self.parts.board_id.clone();
        let (task, attempt) = (spec.task, spec.attempt);
        let mut env = self.parts.env.clone();
        env.extend([
            ("TASKBOARD_HOME".into(), data.root.display().to_string()),
            ("TASKBOARD_TASK_ID".into(), task.to_string()),
            ("TASKBOARD_GOAL_ID".into(), spec.goal.to_string()),
            (
                procs::MARK.into(),
                procs::mark_value(&board_id, task, attempt),
            ),
        ]);
        if let Some(f) = &self.parts.token_for {
            // A pinned session serves every pinned task of its goal: its token is the goal's.
            let scope = if spec.pinned {
                TokenScope::Goal(spec.goal)
            } else {
                TokenScope::Task(task)
            };
            env.push(("TASKBOARD_TOKEN".into(), f(scope)));
        }
        let (rows, cols) = self.parts.pane_size;
        let attention_tx = self.events_tx.clone();
        let exited_tx = self.events_tx.clone();
        let sinks = Sinks {
            attention: Arc::new(move |task, reason| {
                let _ = attention_tx.send(Event::NeedsYou { task, reason });
            }),
            exited: Arc::new(move |x: agent::Exit| {
                let _ = exited_tx.send(Event::Exited {
                    task: x.task,
                    attempt: x.attempt,
                    code: x.code,
                    signal: x.signal,
                    tail: x.tail,
                });
            }),
            output: {
                let notices = self.notices.clone();
                Arc::new(move |t| {
                    let _ = notices.send(Notice::Output(t));
                })
            },
        };
        let tx = self.events_tx.clone();
        // git and fork/exec block: keep them off the board's thread.
        tokio::task::spawn_blocking(move || {
            let result = (|| {
                let workdir = if spec.worktree {
                    let path = data.worktrees().join(format!("{}-{task}", spec.goal));
                    let branch = spec
                        .workdir
                        .as_ref()
                        .map(|w| w.branch.clone())
                        .unwrap_or_else(|| crate::git::branch_name(&board_id, task, &spec.title));
                    let w = crate::git::ensure_worktree(
                        &spec.repo,
                        &path,
                        &branch,
                        spec.base_branch.as_deref(),
                    )?;
                    crate::fault::point(crate::fault::WORKTREE_READY);
                    Some(crate::model::WorkDir {
                        path: w.path,
                        branch: w.branch,
                        base: w.base,
                    })
                } else {
                    None
                };
                let cwd = workdir
                    .as_ref()
                    .map(|w| w.path.clone())
                    .unwrap_or_else(|| spec.repo.clone());
                let prompt_file = data.logs().join(format!("{task}.prompt"));
                let exe = crate::selfexe::agent_exe(&data);
                let mut plan = agent::profile::plan(&spec, &config, &prompt_file, &cwd, &exe)?;
                if let Some(integration) = plan.integration {
                    let wired = agent::wiring::prepare(&agent::wiring::Wiring {
                        integration,
                        dir: data.root.join("agents").join(task.to_string()),
                        exe: &exe,
                        permission_wait: config
                            .permission_wait()
                            .unwrap_or(Duration::from_secs(600)),
                        codex_home: agent::wiring::user_codex_home(),
                    })?;
                    plan.argv.splice(1..1, wired.args);
                    plan.env.extend(wired.env);
                }
                std::fs::write(&prompt_file, &plan.prompt).map_err(|source| {
                    agent::SpawnError::Write {
                        path: prompt_file.clone(),
                        source,
                    }
                })?;
                env.push(("TASKBOARD_WORKTREE".into(), cwd.display().to_string()));
                env.push(("TASKBOARD_PROMPT".into(), plan.prompt.clone()));
                env.extend(plan.env);
                let req = SpawnRequest {
                    task,
                    attempt,
                    argv: plan.argv,
                    cwd,
                    env,
                    env_remove: Vec::new(),
                    log_path: Some(data.log_file(task)),
                    rows,
                    cols,
                    scrollback: config.scrollback,
                    attention: plan.attention,
                };
                agent::spawn(req, sinks).map(|s| (s, workdir))
            })()
            .map_err(|e| e.to_string());
            let _ = tx.msg(Msg::SpawnDone {
                task,
                attempt,
                result,
            });
        });
    }

    /// Stops every session (TERM, then KILL after a short grace) and waits for them.
    pub(super) async fn stop_all(&mut self) {
        let board_id = self.parts.board_id.clone();
        let pids: Vec<(u32, String)> = self
            .sessions
            .iter()
            .map(|((t, a), s)| (s.pane.pid, procs::mark_value(&board_id, *t, *a)))
            .collect();
        self.sessions.clear();
        self.panes.publish(&self.board, &self.sessions);
        let _ = tokio::task::spawn_blocking(move || {
            let threads: Vec<_> = pids
                .into_iter()
                .map(|(pid, mark)| {
                    std::thread::spawn(move || {
                        procs::stop_group(pid, Some(&mark), Duration::from_secs(3))
                    })
                })
                .collect();
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

/// One land job: merge (git2, in memory), move the target or push a branch, open the PR.
/// The result is the task's (`{result.commit}`, `{result.pr_url}`, …); `Err` is the reason
/// it blocks.
fn land(job: crate::board::LandJob, board_id: &str) -> Result<serde_json::Value, String> {
    use crate::git::{land, pr};
    let pr_branch = job
        .pr
        .as_ref()
        .map(|_| crate::git::branch_name(board_id, job.task, &job.title));
    let req = land::LandRequest {
        repo: job.repo.clone(),
        into: job.into.clone(),
        strategy: job.strategy,
        branches: job
            .branches
            .iter()
            .map(|b| land::LandBranch {
                task: b.task,
                title: b.title.clone(),
                branch: b.branch.clone(),
            })
            .collect(),
        task: job.task,
        title: job.title.clone(),
        pr_branch: pr_branch.clone(),
    };
    let landed = land::land(&req).map_err(|e| e.to_string())?;
    let mut result = serde_json::json!({
        "commit": landed.commit,
        "into": landed.into,
        "before": landed.before,
        "strategy": job.strategy,
        "merged": landed.merged,
        "skipped": landed.skipped,
        "checkout": landed.checkout.as_str(),
    });
    if let (Some(p), Some(branch)) = (&job.pr, pr_branch) {
        pr::push(&job.repo, &p.remote, &landed.commit, &branch).map_err(|e| e.to_string())?;
        let opened = pr::open(&pr::PrRequest {
            repo: job.repo.clone(),
            command: p.command.clone(),
            branch: branch.clone(),
            into: landed.into.clone(),
            remote: p.remote.clone(),
            title: job.title.clone(),
            commit: landed.commit.clone(),
        })
        .map_err(|e| e.to_string())?;
        result["branch"] = branch.into();
        result["remote"] = p.remote.clone().into();
        result["pr_url"] = opened.url.into();
        result["pr"] = opened.number.into();
    }
    Ok(result)
}

/// Runs a poll command: exit code and stdout. A command that hangs counts as "still waiting".
async fn run_poll(command: &str, cwd: &std::path::Path) -> (i32, String) {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(Duration::from_secs(300), cmd.output()).await {
        Ok(Ok(out)) => (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        Ok(Err(e)) => (-1, format!("cannot run the poll command: {e}")),
        Err(_) => (-1, "poll command timed out".into()),
    }
}

//! The TUI loop's effect runner: what an update asked for (commands to the board, files to
//! read, shell panes to open or close) runs here, and its result comes back as a message.

use super::*;

impl App {
    pub(super) fn run_effects(&mut self, fx: Vec<UiEffect>) {
        for e in fx {
            match e {
                UiEffect::Send { cmd, label, then } => {
                    let (board, tx) = (self.board.clone(), self.tx.clone());
                    tokio::spawn(async move {
                        let result = board.command(cmd).await;
                        let _ = tx.send(AppMsg::Reply {
                            label,
                            then,
                            result,
                        });
                    });
                }
                UiEffect::AddGoal { goal, body } => {
                    let board = self.board.clone();
                    self.reply_to_form(async move { board.add_goal(goal, body).await });
                }
                UiEffect::AddTasks {
                    parent,
                    tasks,
                    body,
                } => {
                    let board = self.board.clone();
                    self.reply_to_form(async move { board.add_tasks(parent, tasks, body).await });
                }
                UiEffect::Write { pane, bytes } => {
                    self.typed = Some((pane.task, Instant::now()));
                    self.input.write(pane, bytes);
                }
                UiEffect::Search { query } => self.blocking(move |logs| {
                    let (hits, truncated) = crate::ui::search::search_logs(&logs, &query);
                    AppMsg::SearchDone {
                        query,
                        hits,
                        truncated,
                    }
                }),
                UiEffect::OpenLog { task, line } => self.blocking(move |logs| {
                    let (lines, mark) = crate::ui::search::load_log(&logs, task, line);
                    AppMsg::LogLoaded { task, lines, mark }
                }),
                UiEffect::LoadDiff { task } => {
                    let snap = &self.model.snap;
                    let t = snap.task(task).cloned();
                    // A gate's diff is its rework target's work, in the goal's repository.
                    let repo = t
                        .as_ref()
                        .and_then(|t| snap.task(t.goal))
                        .and_then(|g| g.spec.goal.as_ref())
                        .map(|g| g.repo.clone());
                    let (diffs, tx) = (self.model.info.diffs.clone(), self.tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let diff = terminal::review_diff(t.as_ref(), repo.as_deref(), &diffs);
                        let _ = tx.send(AppMsg::DiffLoaded { task, diff });
                    });
                }
                UiEffect::LoadAudit { task } => {
                    let db = self.data.db();
                    self.blocking(move |_| {
                        // A read-only reader (WAL): the same in-process and attached.
                        let lines = crate::store::Store::open_read_only(&db)
                            .and_then(|s| s.audit(task))
                            .map(|events| events.iter().map(crate::view::audit_line).collect())
                            .map_err(|e| e.to_string());
                        AppMsg::AuditLoaded { task, lines }
                    })
                }
                UiEffect::LoadGoal { path, vars } => self.blocking(move |_| {
                    let goal = crate::goalfile::load_file(&path, &vars).and_then(|mut g| {
                        crate::git::fill_signal_repos(&mut g);
                        let body = crate::goalfile::json_body(&path, &vars)?;
                        Ok((Box::new(g), body))
                    });
                    AppMsg::GoalLoaded(goal.map_err(|e| e.one_line()))
                }),
                UiEffect::Bell { text } => terminal::bell(&text),
                UiEffect::OpenShell { key, of } => self.open_shell(key, of),
                UiEffect::CloseShell { key } => self.close_shell(key),
                UiEffect::Quit => self.quit = true,
                UiEffect::StopBoard => match self.board.attached() {
                    Some(pid) => {
                        self.stopping = true;
                        self.model
                            .say(format!("stopping the board (pid {pid}) and its agents…"));
                        let (data, tx) = (self.data.clone(), self.tx.clone());
                        tokio::task::spawn_blocking(move || {
                            let r = crate::daemon::stop_board(&data, pid);
                            let _ = tx.send(AppMsg::BoardStopped(r));
                        });
                    }
                    None => self.quit = true,
                },
            }
        }
    }

    /// Runs a form's command; its answer closes the form (or shows the error in it).
    pub(super) fn reply_to_form(
        &self,
        call: impl std::future::Future<Output = Result<serde_json::Value, CommandError>>
            + Send
            + 'static,
    ) {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = call.await;
            let _ = tx.send(AppMsg::Reply {
                label: "added".into(),
                then: Then::CloseForm,
                result,
            });
        });
    }

    pub(super) fn blocking(&self, job: impl FnOnce(PathBuf) -> AppMsg + Send + 'static) {
        let (logs, tx) = (self.model.info.logs.clone(), self.tx.clone());
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(job(logs));
        });
    }
}

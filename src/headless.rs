//! `run --headless`: the board and listener without a UI, one line per status change, and
//! an exit code once the watched goals have nothing left running, ready or waiting.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use crate::board::Transition;
use crate::command::{Command, Decision};
use crate::driver::{BoardHandle, Notice};
use crate::model::{NewTask, TaskId};

pub struct HeadlessOpts {
    pub goal: Option<NewTask>,
    pub auto_approve: bool,
    pub timeout: Option<Duration>,
}

/// Exit codes of ARCHITECTURE §7.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_TIMEOUT: i32 = 124;
pub const EXIT_INTERRUPTED: i32 = 130;

fn clock(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// `12:03:04 #5 Fix flaky test  active → done (exit 0, 41 s)`
pub fn transition_line(t: &Transition) -> String {
    let details: Vec<&str> = [t.note.as_str(), t.reason.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let tail = if details.is_empty() {
        String::new()
    } else {
        format!(" ({})", details.join(", "))
    };
    format!(
        "{} #{} {}  {} → {}{}",
        clock(t.at),
        t.id,
        t.title,
        t.from,
        t.to,
        tail
    )
}

/// Runs until the watched goals settle; returns the exit code. Prints to stdout.
pub async fn run(board: &BoardHandle, opts: HeadlessOpts) -> i32 {
    let mut notices = board.subscribe_from_start();
    let mut summary = board.goal_summary();
    let watched: HashSet<TaskId> = match opts.goal {
        Some(goal) => match board
            .command(
                Command::AddGoal {
                    goal: Box::new(goal),
                },
                "cli",
            )
            .await
        {
            Ok(v) => {
                let id = v["id"].as_u64().unwrap_or(0);
                println!("{} goal #{id} added", clock(crate::model::now_millis()));
                // The answer can overtake the summary that has the goal; judging by an older
                // summary (other goals only) would call the run over before it starts.
                let _ = summary
                    .wait_for(|s| s.goals.iter().any(|g| g.id == id))
                    .await;
                HashSet::from([id])
            }
            Err(e) => {
                eprintln!("taskboard: cannot add the goal: {e}");
                return EXIT_FAILED;
            }
        },
        None => unfinished_goals(board, &mut summary).await,
    };
    if watched.is_empty() {
        println!("nothing to run: no unfinished goals in this data dir");
        return EXIT_OK;
    }
    let early = settled(&summary.borrow(), &watched);
    if let Some(code) = early {
        // Over before we looked (fast tasks after a restart): still say what happened.
        let in_watch = |goal: TaskId| watched.contains(&goal);
        while let Ok(n) = notices.try_recv() {
            print_notice(board, &n, &in_watch, false).await;
        }
        return code;
    }
    if opts.auto_approve {
        approve_waiting(board, &watched).await;
    }
    let deadline = opts.timeout.map(|d| tokio::time::Instant::now() + d);
    let timeout = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timeout);
    let in_watch = |goal: TaskId| watched.contains(&goal);
    loop {
        tokio::select! {
            n = notices.recv() => match n {
                Ok(n) => print_notice(board, &n, &in_watch, opts.auto_approve).await,
                Err(RecvError::Lagged(k)) => println!("(missed {k} updates)"),
                Err(RecvError::Closed) => return EXIT_FAILED,
            },
            changed = summary.changed() => {
                if changed.is_err() {
                    return EXIT_FAILED;
                }
                if let Some(code) = settled(&summary.borrow(), &watched) {
                    // Print what is still queued before leaving.
                    while let Ok(n) = notices.try_recv() {
                        print_notice(board, &n, &in_watch, false).await;
                    }
                    return code;
                }
            }
            _ = &mut timeout => {
                println!("{} timed out; stopping", clock(crate::model::now_millis()));
                return EXIT_TIMEOUT;
            }
            _ = interrupted() => {
                println!("interrupted; stopping the agents");
                return EXIT_INTERRUPTED;
            }
        }
    }
}

/// The goals unfinished at start. A goal can be `failed` (one branch failed) while other
/// branches still run or wait, so this asks the first scheduling pass: recovery touched every
/// task, so the first drain publishes a summary with each goal's live count.
async fn unfinished_goals(
    board: &BoardHandle,
    summary: &mut tokio::sync::watch::Receiver<crate::driver::Summary>,
) -> HashSet<TaskId> {
    let any = board
        .query(|b| !b.goals().is_empty())
        .await
        .unwrap_or(false);
    if !any {
        return HashSet::new();
    }
    let first = tokio::time::timeout(Duration::from_secs(5), summary.wait_for(|s| s.version > 0))
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false);
    if first {
        let mut watched: HashSet<TaskId> = summary
            .borrow_and_update()
            .goals
            .iter()
            .filter(|g| g.live > 0 || !g.status.is_terminal())
            .map(|g| g.id)
            .collect();
        // A goal that finished between the start and this look was unfinished at start.
        if let Some(since) = crate::runtime::started_at() {
            let done_here: Vec<TaskId> = board
                .query(move |b| {
                    b.tasks()
                        .filter(|t| t.completed_at.is_some_and(|c| c >= since))
                        .map(|t| t.goal)
                        .collect()
                })
                .await
                .unwrap_or_default();
            watched.extend(done_here);
        }
        return watched;
    }
    board
        .query(|b| {
            b.goals()
                .iter()
                .filter(|g| b.task(**g).is_some_and(|t| !t.status.is_terminal()))
                .copied()
                .collect()
        })
        .await
        .unwrap_or_default()
}

async fn interrupted() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {},
        _ = term.recv() => {},
    }
}

/// `Some(exit code)` once no watched goal has anything running, ready or waiting.
fn settled(s: &crate::driver::Summary, watched: &HashSet<TaskId>) -> Option<i32> {
    let goals: Vec<_> = s.goals.iter().filter(|g| watched.contains(&g.id)).collect();
    if goals.iter().any(|g| g.live > 0) {
        return None;
    }
    let all_ok = goals.len() == watched.len() && goals.iter().all(|g| g.status.is_satisfied());
    Some(if all_ok { EXIT_OK } else { EXIT_FAILED })
}

async fn print_notice(
    board: &BoardHandle,
    n: &Notice,
    in_watch: &impl Fn(TaskId) -> bool,
    auto_approve: bool,
) {
    match n {
        Notice::Transition(t) if in_watch(t.goal) => println!("{}", transition_line(t)),
        Notice::Attention {
            task,
            title,
            reason,
        } => {
            let goal = board.query({
                let id = *task;
                move |b| b.task(id).map(|t| (t.goal, t.awaits_decision()))
            });
            let Some(Some((goal, awaits))) = goal.await else {
                return;
            };
            if !in_watch(goal) {
                return;
            }
            println!(
                "{} #{task} {title}  needs you: {reason}",
                clock(crate::model::now_millis())
            );
            if auto_approve && awaits {
                approve(board, *task).await;
            }
        }
        Notice::Conflicts {
            task,
            goal,
            title,
            conflicts,
        } if in_watch(*goal) => {
            let what = if conflicts.is_empty() {
                "no longer conflicts".to_string()
            } else {
                conflicts
                    .iter()
                    .map(crate::model::Conflict::line)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            println!(
                "{} #{task} {title}  {what}",
                clock(crate::model::now_millis())
            );
        }
        Notice::StorageFailed(e) => println!(
            "{} STORAGE ERROR: {e} (changes are not being saved)",
            clock(crate::model::now_millis())
        ),
        _ => {}
    }
}

async fn approve(board: &BoardHandle, task: TaskId) {
    let cmd = Command::Decide {
        task,
        decision: Decision::Approve,
        comment: None,
        diff_hash: None,
    };
    match board.command(cmd, "auto-approve").await {
        Ok(_) => println!(
            "{} #{task} approved (--auto-approve)",
            clock(crate::model::now_millis())
        ),
        Err(e) => println!(
            "{} #{task} could not be approved: {e}",
            clock(crate::model::now_millis())
        ),
    }
}

async fn approve_waiting(board: &BoardHandle, watched: &HashSet<TaskId>) {
    let w = watched.clone();
    let waiting: Vec<TaskId> = board
        .query(move |b| {
            b.tasks()
                .filter(|t| w.contains(&t.goal) && t.awaits_decision())
                .map(|t| t.id)
                .collect()
        })
        .await
        .unwrap_or_default();
    for id in waiting {
        approve(board, id).await;
    }
}

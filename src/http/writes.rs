//! The routes that change things: signals, decisions, agent calls (complete, block,
//! subtasks), pane input, and the plain task commands. Each becomes one board Command.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::errors::ApiError;
use super::routes::{parse, run, task_id, Ctx};
use super::AppState;
use crate::command::{Command, Decision, SignalStatus};
use crate::model::TaskId;
use crate::signal_match::SignalTarget;

#[derive(Deserialize)]
struct SignalBody {
    status: SignalStatus,
    #[serde(default)]
    payload: Value,
}

pub(super) async fn signal(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: SignalBody = parse(body)?;
    run(
        &state,
        &ctx,
        Command::Signal {
            task: id,
            status: b.status,
            payload: b.payload,
        },
        false,
    )
    .await
}

#[derive(Deserialize)]
struct ResolveBody {
    gate: String,
    repo: Option<String>,
    pr: Option<u64>,
    pr_url: Option<String>,
    status: SignalStatus,
    #[serde(default)]
    payload: Value,
    /// The commit CI tested; must be the head of the code the gate judges.
    sha: Option<String>,
}

/// A CI result for old code never passes a gate: every matched gate's code must be at `sha`.
pub(super) async fn check_sha(
    state: &AppState,
    target: &SignalTarget,
    sha: &str,
) -> Result<(), ApiError> {
    let target = target.clone();
    let judged: Vec<(TaskId, std::path::PathBuf, Option<String>)> = state
        .board
        .query(move |b| {
            b.matching_signals(&target)
                .into_iter()
                .filter_map(|id| b.judged_code(id).map(|(r, br)| (id, r, br)))
                .collect()
        })
        .await
        .unwrap_or_default();
    let sha = sha.trim().to_ascii_lowercase();
    let stale = tokio::task::spawn_blocking(move || {
        judged.into_iter().find_map(|(id, repo, branch)| {
            let head = match &branch {
                Some(b) => crate::git::branch_head(&repo, b),
                None => crate::git::head(&repo),
            }
            .unwrap_or_default();
            let fresh = sha.len() >= 7 && head.starts_with(&sha);
            (!fresh).then(|| {
                format!(
                    "stale signal for #{id}: sha {sha} is not the head of {} ({head})",
                    branch.unwrap_or_else(|| "HEAD".into())
                )
            })
        })
    })
    .await
    .unwrap_or(None);
    match stale {
        Some(message) => Err(ApiError::new(StatusCode::CONFLICT, "stale", message)),
        None => Ok(()),
    }
}

pub(super) async fn resolve(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b: ResolveBody = parse(body)?;
    if b.gate.trim().is_empty() {
        return Err(ApiError::bad(
            "`gate` must name a gate (e.g. gh_ci)",
            Some("gate".into()),
        ));
    }
    if b.pr_url.is_none() && (b.repo.is_none() || b.pr.is_none()) {
        return Err(ApiError::bad(
            "give `pr_url`, or `repo` and `pr`",
            Some(if b.repo.is_none() { "repo" } else { "pr" }.into()),
        ));
    }
    let target = SignalTarget::new(&b.gate, b.repo.as_deref(), b.pr, b.pr_url.as_deref())
        .map_err(|m| ApiError::bad(m, Some("pr_url".into())))?;
    if let Some(sha) = &b.sha {
        check_sha(&state, &target, sha).await?;
    }
    run(
        &state,
        &ctx,
        Command::ResolveSignals {
            target,
            status: b.status,
            payload: b.payload,
        },
        false,
    )
    .await
}

#[derive(Deserialize)]
struct CompleteBody {
    #[serde(default)]
    summary: String,
    #[serde(default)]
    review: bool,
    #[serde(default)]
    artifacts: serde_json::Map<String, Value>,
}

pub(super) async fn complete(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: CompleteBody = parse(body)?;
    run(
        &state,
        &ctx,
        Command::Complete {
            task: id,
            summary: b.summary,
            review: b.review,
            artifacts: b.artifacts,
        },
        false,
    )
    .await
}

#[derive(Deserialize)]
struct ArtifactBody {
    key: String,
    value: Value,
}

/// A named result on the agent's own task (`{result.KEY}` for later prompts).
pub(super) async fn artifact(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: ArtifactBody = parse(body)?;
    let cmd = Command::Artifact {
        task: id,
        key: b.key,
        value: b.value,
    };
    run(&state, &ctx, cmd, false).await
}

pub(super) async fn subtasks(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let value: Value = parse(body)?;
    let tasks = crate::goalfile::parse_subtasks(&value)
        .map_err(|e| ApiError::bad(e.message(), e.field()))?;
    run(&state, &ctx, Command::Subtasks { task: id, tasks }, true).await
}

pub(super) fn open_pane(state: &AppState, id: TaskId) -> Result<crate::agent::PaneRef, ApiError> {
    state.board.pane(id).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("task #{id} has no open session"),
        )
    })
}

/// Keys for an agent: the body's bytes go to its terminal as they are (admin token only).
/// `?rows=R&cols=C` on `/input`: the typing client's pane size, which becomes the size.
#[derive(Deserialize)]
pub(super) struct InputQuery {
    rows: Option<u16>,
    cols: Option<u16>,
}

pub(super) async fn input(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<InputQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = task_id(&id)?;
    let size = query.map_err(|e| ApiError::bad(e.body_text(), Some("rows".into())))?;
    let size = match (size.rows, size.cols) {
        (Some(rows), Some(cols)) => Some(check_size(rows, cols)?),
        (None, None) => None,
        _ => {
            return Err(ApiError::bad(
                "give both rows and cols, or neither",
                Some("rows".into()),
            ))
        }
    };
    let bytes = body.map_err(|e| ApiError::new(e.status(), "bad_request", e.body_text()))?;
    let pane = open_pane(&state, id)?;
    if let Some((rows, cols)) = size {
        pane.resize(rows, cols);
    }
    let n = bytes.len();
    tokio::task::spawn_blocking(move || pane.write(&bytes))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(|e| {
            ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("cannot write to the session: {e}"),
            )
        })?;
    state.board.input_sent(id);
    Ok(Json(json!({"id": id, "written": n})))
}

#[derive(Deserialize)]
struct ResizeBody {
    rows: u16,
    cols: u16,
}

/// The pane size of the last client that resized wins, as in tmux.
pub(super) async fn resize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = task_id(&id)?;
    let b: ResizeBody = parse(body)?;
    let (rows, cols) = check_size(b.rows, b.cols)?;
    let pane = open_pane(&state, id)?;
    pane.resize(rows, cols);
    Ok(Json(json!({"id": id, "rows": rows, "cols": cols})))
}

fn check_size(rows: u16, cols: u16) -> Result<(u16, u16), ApiError> {
    if rows < 2 || cols < 2 || rows > 1000 || cols > 1000 {
        return Err(ApiError::bad(
            "rows and cols must be between 2 and 1000",
            Some("rows".into()),
        ));
    }
    Ok((rows, cols))
}

#[derive(Deserialize)]
struct BlockBody {
    reason: String,
}

pub(super) async fn block(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: BlockBody = parse(body)?;
    run(
        &state,
        &ctx,
        Command::Block {
            task: id,
            reason: b.reason,
        },
        false,
    )
    .await
}

#[derive(Deserialize)]
struct PromptBody {
    prompt: String,
}

/// A new prompt for an agent task that has not run yet (or failed, or is blocked).
pub(super) async fn prompt(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: PromptBody = parse(body)?;
    let cmd = Command::EditPrompt {
        task: id,
        prompt: b.prompt,
    };
    run(&state, &ctx, cmd, false).await
}

#[derive(Deserialize)]
struct DecisionBody {
    decision: Decision,
    comment: Option<String>,
    diff_hash: Option<String>,
}

pub(super) async fn decision(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: DecisionBody = parse(body)?;
    run(
        &state,
        &ctx,
        Command::Decide {
            task: id,
            decision: b.decision,
            comment: b.comment,
            diff_hash: b.diff_hash,
        },
        false,
    )
    .await
}

macro_rules! simple_route {
    ($name:ident, $variant:ident) => {
        pub(super) async fn $name(
            State(state): State<AppState>,
            Extension(ctx): Extension<Ctx>,
            Path(id): Path<String>,
        ) -> Result<Response, ApiError> {
            let id = task_id(&id)?;
            run(&state, &ctx, Command::$variant { task: id }, false).await
        }
    };
}
simple_route!(retry, Retry);
simple_route!(skip, Skip);
simple_route!(stop, Stop);
simple_route!(delete, Delete);

pub(super) async fn pause(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    run(&state, &ctx, Command::Pause, false).await
}

pub(super) async fn resume(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    run(&state, &ctx, Command::Resume, false).await
}

#[derive(Deserialize)]
struct LandBody {
    into: Option<String>,
    strategy: Option<crate::model::LandStrategy>,
    #[serde(default)]
    pr: bool,
}

/// Land a finished agent task or group now (admin token): a land task is added to its goal
/// and runs at once → `201 {"id": <land task>, …}`.
pub(super) async fn land(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let b: LandBody = parse(body)?;
    let cmd = Command::Land {
        task: id,
        into: b.into,
        strategy: b.strategy,
        pr: b.pr,
    };
    run(&state, &ctx, cmd, true).await
}

//! The routes of ARCHITECTURE §6. Each turns its request into a Command for the board and
//! answers once the board applied it and the store committed it.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures::Stream;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::auth::{local_host_ok, path_task, scope_of, task_may, Caller};
use super::errors::ApiError;
use super::writes::{
    artifact, block, complete, decision, delete, input, land, pause, prompt, resize, resolve,
    resume, retry, signal, skip, stop, subtasks,
};
use super::AppState;
use crate::command::Command;
use crate::driver::{IdemKey, Notice};
use crate::model::TaskId;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Event streams open at once. A stream is a request in progress for as long as it lives,
/// so the listener never sheds it; this cap keeps most of the connection cap for short
/// requests (a flood of streams gets 503, never the CLI's or CI's place).
pub const MAX_STREAMS: usize = 64;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/goals", get(goals).post(add_goal))
        .route("/api/tasks/{id}", get(task).delete(delete))
        .route("/api/tasks/{id}/signal", post(signal))
        .route("/api/tasks/{id}/complete", post(complete))
        .route("/api/tasks/{id}/block", post(block))
        .route("/api/tasks/{id}/subtasks", post(subtasks))
        .route("/api/tasks/{id}/artifact", post(artifact))
        .route("/api/tasks/{id}/context", get(super::context::context))
        .route("/api/tasks/{id}/input", post(input))
        .route("/api/tasks/{id}/resize", post(resize))
        .route("/api/tasks/{id}/decision", post(decision))
        .route("/api/tasks/{id}/hook", post(super::hooks::hook))
        .route("/api/tasks/{id}/permission", post(super::hooks::permission))
        .route("/api/tasks/{id}/prompt", post(prompt))
        .route("/api/tasks/{id}/retry", post(retry))
        .route("/api/tasks/{id}/skip", post(skip))
        .route("/api/tasks/{id}/stop", post(stop))
        .route("/api/tasks/{id}/land", post(land))
        .route("/api/tasks/{id}/audit", get(audit))
        .route("/api/signals/resolve", post(resolve))
        .route("/api/pause", post(pause))
        .route("/api/resume", post(resume))
        .route("/api/events", get(events))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such route: see ARCHITECTURE §6",
            )
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// What the guard learned about the caller, for the handlers.
#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) who: String,
    pub(super) idem: Option<IdemKey>,
}

/// Host/Origin check, then the bearer token and what it may do.
async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Everything but a pinned session's goal check is decided here from borrowed headers;
    // only owned values cross the await below (the request body is not Sync).
    let checked = {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or("\u{0}"))
        };
        if !local_host_ok(header("host")) || !local_host_ok(header("origin")) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Host and Origin must be localhost",
            )
            .into_response();
        }
        if req.uri().path() == "/api/health" {
            None
        } else {
            let token = header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .unwrap_or("");
            let Some(caller) = state.keys.check(token) else {
                return ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing or wrong token: send Authorization: Bearer <token> (the token is in <data>/token)").into_response();
            };
            let (method, path) = (req.method().as_str(), req.uri().path());
            // The task the goal's token acts on, to look up on the board.
            let (allowed, in_goal) = match caller {
                Caller::Admin => (true, None),
                Caller::Task(t) => (task_may(t, method, path), None),
                Caller::Goal(g) => match path_task(path) {
                    Some(t) => (task_may(t, method, path), Some((t, g))),
                    None => (false, None),
                },
            };
            let who = match header("x-taskboard-client").map(clean_client) {
                Some(c) if c == "cli" || c == "tui" => c,
                Some(c) if !c.is_empty() => format!("http:{c}"),
                _ => "http".to_string(),
            };
            let idem = header("idempotency-key")
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .map(|k| IdemKey {
                    scope: scope_of(token),
                    key: k.to_string(),
                });
            Some((allowed, in_goal, Ctx { who, idem }))
        }
    };
    let Some((mut allowed, in_goal, ctx)) = checked else {
        return next.run(req).await;
    };
    if let (true, Some((t, g))) = (allowed, in_goal) {
        allowed = state
            .board
            .query(move |b| b.task(t).map(|x| x.goal))
            .await
            .flatten()
            == Some(g);
    }
    if !allowed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "an agent's token may only act on its own task",
        )
        .into_response();
    }
    req.extensions_mut().insert(ctx);
    next.run(req).await
}

fn clean_client(v: &str) -> String {
    v.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .take(40)
        .collect()
}

/// Parses a JSON body, naming the field at fault.
pub(super) fn parse<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is over {} KiB", BODY_LIMIT / 1024),
            )
        } else {
            ApiError::bad(format!("cannot read the body: {e}"), None)
        }
    })?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // A missing field has no path of its own: serde names it in the message.
        let missing = inner
            .to_string()
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
            .map(|f| match path.as_str() {
                "." | "" => f.to_string(),
                p => format!("{p}.{f}"),
            });
        let field = missing.or_else(|| (path != "." && !path.is_empty()).then_some(path.clone()));
        let message = match &field {
            Some(f) => format!("bad JSON at `{f}`: {inner}"),
            None => format!("bad JSON: {inner}"),
        };
        ApiError::bad(message, field)
    })
}

pub(super) fn task_id(raw: &str) -> Result<TaskId, ApiError> {
    raw.trim_start_matches('#').parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no task {raw:?}: ids are numbers"),
        )
    })
}

pub(super) async fn run(
    state: &AppState,
    ctx: &Ctx,
    cmd: Command,
    created: bool,
) -> Result<Response, ApiError> {
    let v = state
        .board
        .command_once(cmd, ctx.who.clone(), ctx.idem.clone())
        .await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(v)).into_response())
}

async fn health() -> Json<Value> {
    Json(json!({"ok": true, "version": env!("CARGO_PKG_VERSION")}))
}

#[derive(serde::Deserialize)]
struct GoalsQuery {
    view: Option<String>,
}

/// The tree (`status --json` shape), or with `?view=full` the board's task records as the
/// attached TUI reads them (`crate::board::Snapshot`: same program version only).
async fn goals(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<GoalsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let view = query
        .map_err(|e| ApiError::bad(e.body_text(), Some("view".into())))?
        .0
        .view;
    let bytes = match view.as_deref() {
        // Written straight to bytes on the board's thread: no `Value` per task.
        None | Some("tree") => state.board.query(crate::view::goals_bytes).await,
        Some("full") => {
            // Read between batches: the version is the one the records show.
            let summary = state.board.summary();
            state
                .board
                .query(move |b| {
                    let mut snap = crate::board::Snapshot::from_board(b);
                    snap.version = summary.borrow().version;
                    serde_json::to_vec(&snap).unwrap_or_default()
                })
                .await
        }
        Some(other) => {
            return Err(ApiError::bad(
                format!("unknown view {other:?}: use `tree` (the default) or `full`"),
                Some("view".into()),
            ))
        }
    };
    let body = bytes.unwrap_or_else(|| br#"{"goals":[]}"#.to_vec());
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

async fn task(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = task_id(&id)?;
    let v = state
        .board
        .query(move |b| b.task(id).map(|_| crate::view::task_json(b, id)))
        .await
        .flatten();
    v.map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no task #{id}")))
}

async fn add_goal(
    State(state): State<AppState>,
    Extension(ctx): Extension<Ctx>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let value: Value = parse(body)?;
    let mut goal =
        crate::goalfile::parse_json(&value).map_err(|e| ApiError::bad(e.message(), e.field()))?;
    crate::git::fill_signal_repos(&mut goal);
    run(
        &state,
        &ctx,
        Command::AddGoal {
            goal: Box::new(goal),
        },
        true,
    )
    .await
}

async fn audit(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = task_id(&id)?;
    let exists = state
        .board
        .query(move |b| b.task(id).is_some())
        .await
        .unwrap_or(false);
    if !exists {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no task #{id}"),
        ));
    }
    let events = state
        .store
        .read(move |s| s.audit(id))
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage", e))?;
    Ok(Json(json!({"id": id, "events": events})))
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    deltas: Option<u8>,
}

type DeltaRx = tokio::sync::broadcast::Receiver<std::sync::Arc<crate::board::delta::Delta>>;

/// The next delta, when the client asked for them; never otherwise.
async fn next_delta(
    d: &mut Option<DeltaRx>,
) -> Result<std::sync::Arc<crate::board::delta::Delta>, tokio::sync::broadcast::error::RecvError> {
    match d {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Server-Sent Events: one `task` event per status change, `attention` when a task asks
/// for a human, `conflicts` when a task's conflicts with other branches change, `board`
/// (coalesced) after every applied batch that changed anything, and a comment every 15 s.
/// With `?deltas=1` also `delta` after every such batch: its version and the changed task
/// records (`crate::board::delta`), what an attached TUI applies to its snapshot.
/// At most [`MAX_STREAMS`] at once: the next gets 503 `busy`.
async fn events(
    State(state): State<AppState>,
    query: Result<axum::extract::Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
    _method: Method,
    _headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let deltas = query
        .map_err(|e| ApiError::bad(e.body_text(), Some("deltas".into())))?
        .0
        .deltas
        .is_some_and(|d| d == 1)
        .then(|| state.board.deltas());
    // Held by the stream for as long as it lives.
    let place = state.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("{MAX_STREAMS} event streams are open already: close one, then retry"),
        )
    })?;
    let rx = state.board.subscribe();
    let mut summary = state.board.summary();
    summary.mark_unchanged();
    let init = (rx, summary, deltas, place);
    let stream = futures::stream::unfold(
        init,
        |(mut rx, mut summary, mut deltas, place)| async move {
            loop {
                let n = tokio::select! {
                    biased;
                    d = next_delta(&mut deltas) => {
                        let ev = match d {
                            Ok(d) => SseEvent::default()
                                .event("delta")
                                .data(serde_json::to_string(&*d).unwrap_or_default()),
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => SseEvent::default()
                                .event("lagged")
                                .data(json!({"missed": n}).to_string()),
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                        };
                        return Some((Ok(ev), (rx, summary, deltas, place)));
                    }
                    n = rx.recv() => n,
                    changed = summary.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        let s = summary.borrow_and_update().clone();
                        let data = json!({"version": s.version, "paused": s.paused});
                        let ev = SseEvent::default().event("board").data(data.to_string());
                        return Some((Ok(ev), (rx, summary, deltas, place)));
                    }
                };
                let ev = match n {
                    Ok(Notice::Transition(t)) => {
                        let data = json!({"id": t.id, "goal": t.goal, "status": t.to, "from": t.from, "reason": t.reason, "at": t.at});
                        SseEvent::default().event("task").data(data.to_string())
                    }
                    Ok(Notice::Attention { task, reason, .. }) => {
                        let data = json!({"id": task, "attention": reason});
                        SseEvent::default()
                            .event("attention")
                            .data(data.to_string())
                    }
                    Ok(Notice::Conflicts {
                        task,
                        goal,
                        conflicts,
                        ..
                    }) => {
                        let data = json!({"id": task, "goal": goal, "conflicts": crate::view::conflicts_json(&conflicts)});
                        SseEvent::default()
                            .event("conflicts")
                            .data(data.to_string())
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => SseEvent::default()
                        .event("lagged")
                        .data(json!({"missed": n}).to_string()),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                };
                return Some((Ok(ev), (rx, summary, deltas, place)));
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

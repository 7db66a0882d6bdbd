//! `GET /api/tasks/:id/context`: where a task stands, for its agent (a task token may read
//! its own). JSON by default (the structured context plus its `text`), or `?format=text`
//! for the text alone. The text is the board's one context builder (`Board::context`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::errors::ApiError;
use super::routes::task_id;
use super::AppState;

#[derive(Deserialize)]
pub(super) struct ContextQuery {
    format: Option<String>,
}

pub(super) async fn context(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<ContextQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let format = query
        .map_err(|e| ApiError::bad(e.body_text(), Some("format".into())))?
        .0
        .format;
    let as_text = match format.as_deref() {
        None | Some("json") => false,
        Some("text") => true,
        Some(other) => {
            return Err(ApiError::bad(
                format!("unknown format {other:?}: use `json` (the default) or `text`"),
                Some("format".into()),
            ))
        }
    };
    let ctx = state
        .board
        .query(move |b| b.context(id))
        .await
        .flatten()
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no task #{id}"))
        })?;
    if as_text {
        let text = ctx.text();
        return Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response());
    }
    Ok(Json(ctx.json()).into_response())
}

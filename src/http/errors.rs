//! The one error shape every route answers with: `{"error":{"code","message","field"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::command::CommandError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// For 409: the task's actual status.
    pub task_status: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            task_status: None,
        }
    }
    pub fn bad(message: impl Into<String>, field: Option<String>) -> ApiError {
        ApiError {
            field,
            ..ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> ApiError {
        let message = e.to_string();
        match e {
            CommandError::NotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
            }
            CommandError::Conflict { status, .. } => ApiError {
                task_status: status,
                ..ApiError::new(StatusCode::CONFLICT, "conflict", message)
            },
            CommandError::Invalid { field, .. } => ApiError::bad(message, field),
            CommandError::Storage { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage", message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut err = json!({"code": self.code, "message": self.message, "field": self.field});
        if let Some(s) = self.task_status {
            err["status"] = json!(s);
        }
        (self.status, Json(json!({ "error": err }))).into_response()
    }
}

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

impl ApiError {
    /// The JSON body every error answer carries.
    pub fn body(&self) -> serde_json::Value {
        let mut err = json!({"code": self.code, "message": self.message, "field": self.field});
        if let Some(s) = &self.task_status {
            err["status"] = json!(s);
        }
        json!({ "error": err })
    }

    /// The whole HTTP/1.1 answer as bytes, closing the connection: for the few errors
    /// found below hyper (an oversize request head), where no router runs.
    pub fn raw_http1(&self) -> Vec<u8> {
        let body = self.body().to_string();
        format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.status.as_u16(),
            self.status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

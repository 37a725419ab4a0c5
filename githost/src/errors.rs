//! GitHub-shaped error responses.
//!
//! Every error on a GitHub route is answered with
//! `{"message": ..., "documentation_url": ..., "status": "<code>"}` like
//! api.github.com does.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::git::GitError;

/// Documentation URL used when no more specific page applies.
pub const DOC_ROOT: &str = "https://docs.github.com/rest";
/// Documentation for the contents API.
pub const DOC_CONTENTS_GET: &str =
    "https://docs.github.com/rest/repos/contents#get-repository-content";
/// Documentation for creating or updating a file.
pub const DOC_CONTENTS_PUT: &str =
    "https://docs.github.com/rest/repos/contents#create-or-update-file-contents";
/// Documentation for references.
pub const DOC_REFS: &str = "https://docs.github.com/rest/git/refs";
/// Documentation for commits.
pub const DOC_COMMITS: &str = "https://docs.github.com/rest/git/commits";
/// Documentation for trees.
pub const DOC_TREES: &str = "https://docs.github.com/rest/git/trees";
/// Documentation for blobs.
pub const DOC_BLOBS: &str = "https://docs.github.com/rest/git/blobs";

/// An error answered to the client in GitHub's error shape.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `message` field.
    pub message: String,
    /// The `documentation_url` field.
    pub doc: &'static str,
}

impl ApiError {
    /// An error with an arbitrary status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            doc: DOC_ROOT,
        }
    }

    /// 404 `Not Found`.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 404 with a custom message.
    pub fn not_found_msg(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 422 Unprocessable Entity.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 422 `Invalid request.\n\n<detail>` as produced by GitHub's schema validation.
    pub fn invalid_request(detail: impl AsRef<str>) -> Self {
        Self::unprocessable(format!("Invalid request.\n\n{}", detail.as_ref()))
    }

    /// 400 `Problems parsing JSON`.
    pub fn bad_json() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Problems parsing JSON")
    }

    /// 500 for unexpected failures (details are logged, not leaked in full).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        eprintln!("githost: internal error: {detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Server Error")
    }

    /// Replace the documentation URL.
    pub fn doc(mut self, doc: &'static str) -> Self {
        self.doc = doc;
        self
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        error_body(self.status.as_u16(), &self.message, self.doc)
    }
}

impl From<GitError> for ApiError {
    fn from(err: GitError) -> Self {
        ApiError::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        (self.status, Json(body)).into_response()
    }
}

/// Build a GitHub error body.
pub fn error_body(status: u16, message: &str, doc: &str) -> Value {
    json!({
        "message": message,
        "documentation_url": doc,
        "status": status.to_string(),
    })
}

/// Result type used by the API handlers.
pub type ApiResult<T> = Result<T, ApiError>;

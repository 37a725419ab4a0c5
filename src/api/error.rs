//! API errors: `{"error": {"code", "message", ...}}` with the right status.

use super::http::ApiResponse;
use crate::github::GitHubError;
use crate::store::StoreError;
use serde_json::json;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait before retrying, sent as `Retry-After` too.
    pub retry_after: Option<u64>,
    /// For failed writes: the Entry-ID to retry with, so the entry lands once.
    pub entry_id: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            entry_id: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "invalid_request", message)
    }

    pub fn with_entry_id(mut self, id: Option<&str>) -> ApiError {
        self.entry_id = id.map(str::to_string);
        self
    }

    pub fn into_response(self) -> ApiResponse {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(s) = self.retry_after {
            error["retry_after"] = json!(s);
        }
        if let Some(id) = &self.entry_id {
            error["entry_id"] = json!(id);
        }
        let mut resp = ApiResponse::json(self.status, &json!({ "error": error }));
        if let Some(s) = self.retry_after {
            resp = resp.with_header("retry-after", s.to_string());
        }
        if self.status == 401 {
            resp = resp.with_header("www-authenticate", "Bearer");
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::ThreadNotFound { topic } => ApiError::new(
                404,
                "thread_not_found",
                format!("thread {topic:?} does not exist; create it with POST /v1/threads/{topic}/entries"),
            ),
            StoreError::GitHub(g) => from_github(g),
        }
    }
}

fn from_github(g: GitHubError) -> ApiError {
    match &g {
        GitHubError::RateLimited { retry_after_secs, .. } => {
            let mut e = ApiError::new(503, "github_rate_limited", format!("{g}; retry after that"));
            e.retry_after = Some(*retry_after_secs);
            e
        }
        GitHubError::Unauthorized { .. } => ApiError::new(502, "github_unauthorized", g.to_string()),
        GitHubError::NotFound { .. } => ApiError::new(
            502,
            "github_not_found",
            format!("{g}: check GITHUB_REPO, GITHUB_BRANCH and that GITHUB_TOKEN can see the repository"),
        ),
        GitHubError::Network { .. } | GitHubError::Server { .. } => {
            let mut e = ApiError::new(502, "github_unavailable", format!("{g}; try again shortly"));
            e.retry_after = Some(5);
            e
        }
        _ => ApiError::new(502, "github_error", g.to_string()),
    }
}

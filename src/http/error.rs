//! The one place service errors become HTTP answers: a status per code, the JSON body
//! `{"error": {"code", "message", ...}}`, and the headers that go with it.

use super::message::ApiResponse;
use crate::service::{ErrorCode, ServiceError};
use serde_json::json;

/// The HTTP status of an error code.
pub fn status(code: ErrorCode) -> u16 {
    use ErrorCode::*;
    match code {
        InvalidField | MissingField | InvalidTopic | InvalidJson | InvalidRequest | UnknownTool => {
            400
        }
        Unauthorized => 401,
        Forbidden => 403,
        ThreadNotFound | NotAThread | EntryNotFound => 404,
        WriteToNonThread | EntryIdConflict => 409,
        PayloadTooLarge | ThreadTooLarge => 413,
        UnsupportedMediaType => 415,
        InvalidEntry => 422,
        ConfigInvalid => 500,
        WriteFailed | GitHubUnauthorized | GitHubNotFound | GitHubUnavailable | GitHubError => 502,
        WriterUnavailable | GitHubRateLimited => 503,
    }
}

/// The answer to a failed request.
pub fn response(e: &ServiceError) -> ApiResponse {
    let mut error = json!({"code": e.code.as_str(), "message": e.message});
    if let Some(s) = e.retry_after {
        error["retry_after"] = json!(s);
    }
    if let Some(id) = &e.entry_id {
        error["entry_id"] = json!(id);
    }
    let mut resp = ApiResponse::json(status(e.code), &json!({ "error": error }));
    if let Some(s) = e.retry_after {
        resp = resp.with_header("retry-after", s.to_string());
    }
    if e.code == ErrorCode::Unauthorized {
        resp = resp.with_header("www-authenticate", "Bearer");
    }
    resp
}

/// A route-level error (no such route, wrong method): HTTP's own, not the service's.
pub fn route_error(status: u16, code: &str, message: String) -> ApiResponse {
    ApiResponse::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

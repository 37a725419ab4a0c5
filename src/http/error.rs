//! The one place service errors become HTTP answers: a status per code, the JSON body
//! `{"error": {"code", "message", ...}}`, and the headers that go with it.

use super::message::{ApiRequest, ApiResponse};
use crate::config::Config;
use crate::service::oauth;
use crate::service::{ErrorCode, ServiceError};
use serde_json::json;

/// The HTTP status of an error code.
pub fn status(code: ErrorCode) -> u16 {
    use ErrorCode::*;
    match code {
        InvalidField | MissingField | InvalidTopic | InvalidJson | InvalidRequest | UnknownTool
        | InvalidQuery => 400,
        Unauthorized | InvalidToken => 401,
        Forbidden | ReadOnly => 403,
        ThreadNotFound | NotAThread | EntryNotFound => 404,
        WriteToNonThread | EntryIdConflict => 409,
        PayloadTooLarge | ThreadTooLarge => 413,
        UnsupportedMediaType => 415,
        InvalidEntry => 422,
        StaleCursor => 410,
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
    if let Some(c) = &e.cursor {
        error["cursor"] = json!(c);
    }
    let mut resp = ApiResponse::json(status(e.code), &json!({ "error": error }));
    if e.code == ErrorCode::ReadOnly {
        // RFC 6750 3.1: what the token lacks.
        let scope = crate::auth::access::SCOPE_WRITE;
        resp = resp.with_header(
            "www-authenticate",
            format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
        );
    }
    if let Some(s) = e.retry_after {
        resp = resp.with_header("retry-after", s.to_string());
    }
    resp
}

/// The `WWW-Authenticate` challenge for a request refused for its token: plain
/// `Bearer` with client tokens only; with sign-in on, where to discover how to get
/// a token (RFC 9728) and the scopes, and why this one was refused.
pub fn challenge(config: &Config, req: &ApiRequest, e: &ServiceError) -> String {
    let Some(_) = &config.oauth else {
        return "Bearer".into();
    };
    let path = oauth::resource_path(config, &config.repo);
    let metadata = oauth::metadata::protected_resource_url(&req.base, &path);
    let mut out = format!(
        "Bearer resource_metadata=\"{metadata}\", scope=\"{}\"",
        oauth::SCOPES.join(" ")
    );
    if e.code == ErrorCode::InvalidToken {
        let why = e.message.replace(['"', '\\'], "'");
        out.push_str(&format!(
            ", error=\"invalid_token\", error_description=\"{why}\""
        ));
    }
    out
}

/// A route-level error (no such route, wrong method): HTTP's own, not the service's.
pub fn route_error(status: u16, code: &str, message: String) -> ApiResponse {
    ApiResponse::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

//! The only layer that knows HTTP: status codes, headers, JSON bodies and JSON-RPC.
//! It routes `/health`, the REST API under `/v1` and the MCP endpoint at `/mcp`, and
//! calls the service for everything else.

pub mod error;
pub mod json;
pub mod mcp;
pub mod message;
pub mod rest;

pub use message::{ApiRequest, ApiResponse};

use crate::config::ConfigError;
use crate::service::{Effects, ErrorCode, Service, ServiceError, VERSION};
use serde_json::json;

/// Serves one request.
pub async fn handle<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["health"] => match req.method.as_str() {
            "GET" | "HEAD" => health(svc),
            _ => error::route_error(405, "method_not_allowed", "use GET or HEAD".into()),
        },
        ["mcp"] => mcp::handle(svc, req).await,
        ["v1", rest @ ..] => rest::handle(svc, req, rest).await,
        _ => error::route_error(
            404,
            "not_found",
            format!(
                "no route for {} {}; see the README for the API",
                req.method, req.path
            ),
        ),
    }
}

fn health<E: Effects>(svc: &Service<'_, E>) -> ApiResponse {
    ApiResponse::json(
        200,
        &json!({"ok": true, "service": "watercooler-worker", "version": VERSION, "branch": svc.config.repo.branch}),
    )
}

/// The answer to every request while the configuration is broken: `/health` says so
/// with 503, everything else gets 500. Both name the setting to fix.
pub fn config_error_response(req: &ApiRequest, e: &ConfigError) -> ApiResponse {
    let message = format!("the Worker is misconfigured: {e}");
    if req.path == "/health" {
        return ApiResponse::json(
            503,
            &json!({"ok": false, "version": VERSION, "error": {"code": "config_invalid", "setting": e.setting, "message": message}}),
        );
    }
    error::response(&ServiceError::new(ErrorCode::ConfigInvalid, message))
}

#[cfg(test)]
mod tests;

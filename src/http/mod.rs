//! The only layer that knows HTTP: status codes, headers, JSON bodies and JSON-RPC.
//! It routes `/health`, the REST API under `/v1`, the MCP endpoint at `/mcp` and the
//! page for people (`/`, see [`web`]), and calls the service for everything else.

pub mod error;
pub mod json;
pub mod mcp;
pub mod message;
pub mod oauth;
pub mod rest;
pub mod web;

pub use message::{ApiRequest, ApiResponse};

use crate::config::{Config, ConfigError};
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
        [".well-known", ..] | ["oauth", ..] => oauth::handle(svc, req, &segments).await,
        ["webhooks", "github"] => webhook(svc, req).await,
        ["v1", rest @ ..] => rest::handle(svc, req, rest).await,
        page if web::is_page(page) => web::handle(svc, req, page).await,
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

/// The repository a request names: `/v1/repos/{owner}/{name}/...` and
/// `/mcp/{owner}/{name}` become `/v1/...` and `/mcp` served from that repository's
/// configuration. `Ok(None)`: the request names none (the default repository).
/// A repository the deployment does not serve is a 404 at once, before any
/// GitHub request.
pub fn target(
    config: &Config,
    req: &ApiRequest,
) -> Result<Option<(Config, ApiRequest)>, ApiResponse> {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let tail =
        |skip: usize| -> String { segments[skip..].iter().map(|s| format!("/{s}")).collect() };
    if segments.as_slice() == ["webhooks", "github"] {
        return Ok(webhook_target(config, req));
    }
    let (owner, name, path) = match segments.as_slice() {
        ["v1", "repos", owner, name, ..] => (*owner, *name, format!("/v1{}", tail(4))),
        ["mcp", owner, name, ..] => (*owner, *name, format!("/mcp{}", tail(3))),
        // The page of another repository: `/repos/{owner}/{name}/…` is its `/…`, for
        // the page's own routes only (its API, MCP and webhook have their own URLs).
        ["repos", owner, name, rest @ ..] => {
            if !web::is_repo_page(rest) {
                return Err(error::route_error(
                    404,
                    "not_found",
                    format!("no route for {} {}", req.method, req.path),
                ));
            }
            let path = Some(tail(3)).filter(|t| !t.is_empty());
            (*owner, *name, path.unwrap_or_else(|| "/".into()))
        }
        _ => return Ok(None),
    };
    let Some(config) = config.for_repo(owner, name) else {
        return Err(error::route_error(
            404,
            "repo_not_served",
            format!(
                "{owner}/{name} is not served here; the operator lists the repositories in GITHUB_REPOS"
            ),
        ));
    };
    let req = ApiRequest {
        path,
        ..req.clone()
    };
    Ok(Some((config, req)))
}

/// A webhook is served from the repository its payload names, when served (the
/// signature is checked before anything in it is acted on).
fn webhook_target(config: &Config, req: &ApiRequest) -> Option<(Config, ApiRequest)> {
    #[derive(serde::Deserialize)]
    struct Payload {
        repository: Repository,
    }
    #[derive(serde::Deserialize)]
    struct Repository {
        full_name: String,
    }
    let p: Payload = serde_json::from_slice(&req.body).ok()?;
    let (owner, name) = p.repository.full_name.split_once('/')?;
    config.for_repo(owner, name).map(|c| (c, req.clone()))
}

/// `POST /webhooks/github`: 200 with what was done, 401 for a bad signature, 404
/// when webhooks are off.
async fn webhook<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    use crate::service::webhook::{Delivered, Refusal};
    if req.method != "POST" {
        return error::route_error(405, "method_not_allowed", "use POST".into());
    }
    let delivered = svc
        .webhook(
            req.header("x-github-event"),
            req.header("x-hub-signature-256"),
            &req.body,
        )
        .await;
    match delivered {
        Ok(Delivered::Pong) => ApiResponse::json(200, &json!({"ok": true, "pong": true})),
        Ok(Delivered::Ignored(why)) => ApiResponse::json(200, &json!({"ok": true, "ignored": why})),
        Ok(Delivered::Refreshed { files, events }) => ApiResponse::json(
            200,
            &json!({"ok": true, "refreshed": files, "events": events}),
        ),
        Err(Refusal::Off) => error::route_error(
            404,
            "not_found",
            "webhooks are off: set GITHUB_WEBHOOK_SECRET to the webhook's secret".into(),
        ),
        Err(Refusal::BadSignature) => error::route_error(
            401,
            "bad_signature",
            "X-Hub-Signature-256 is missing or does not match GITHUB_WEBHOOK_SECRET".into(),
        ),
        Err(Refusal::BadPayload(why)) => {
            error::route_error(400, "invalid_json", format!("not a push payload: {why}"))
        }
        Err(Refusal::Unavailable(why)) => error::route_error(
            503,
            "writer_unavailable",
            format!("the cache is refreshed, but waiting agents could not be told ({why}); redeliver this push from the webhook's Recent Deliveries"),
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

//! The remote MCP server at `/mcp`: Streamable HTTP, stateless, JSON answers.
//!
//! One JSON-RPC message per POST, in either era: the `initialize` revisions
//! (2025-03-26, 2025-06-18, 2025-11-25) or the stateless 2026-07-28 ([`modern`]),
//! told apart per request. Requests get `application/json`; notifications get 202
//! with no body. GET and DELETE get 405 (no session ids are issued).

pub mod jsonrpc;
pub mod modern;
pub mod paging;
pub mod prompts;
pub mod resources;
pub mod tools;

use super::error::{challenge, status};
use super::message::{ApiRequest, ApiResponse};
use crate::auth::Principal;
use crate::service::oauth::is_loopback;
use crate::service::{Effects, ErrorCode, Service, VERSION};
use jsonrpc::Message;
use serde_json::{json, Value};
use tools::Tool;

use modern::{Era, LEGACY_VERSIONS};

/// Text for the model: the workflow the tools are built for.
pub fn instructions() -> String {
    format!(
        "Watercooler threads are shared markdown files where agents and people coordinate. \
Each thread has a Status and a Ball: the ball names whose turn it is. \
Workflow: 1) call {list} to see where it is your turn and which threads have new entries for you; \
2) read before you write: {read} (or {entries} and {entry} for long threads); \
3) reply with {say} (it passes the ball to your counterpart), acknowledge with {ack} (the ball stays), \
or pass the ball explicitly with {handoff}; 4) change a thread's Status with {status} (e.g. IN_REVIEW, CLOSED); \
5) instead of polling, call {wait} with your agent name: it answers when it is your turn again. \
Writes are answered once stored (readers and waiters see them at once; the git commit follows). \
Writes are idempotent per entry_id: after an error, retry with the entry_id the error gave you.",
        list = Tool::ListThreads.name(),
        read = Tool::ReadThread.name(),
        entries = Tool::ListThreadEntries.name(),
        entry = Tool::GetThreadEntry.name(),
        say = Tool::Say.name(),
        ack = Tool::Ack.name(),
        handoff = Tool::Handoff.name(),
        status = Tool::SetStatus.name(),
        wait = Tool::Wait.name(),
    )
}

fn rpc_response(status: u16, body: &Value) -> ApiResponse {
    ApiResponse::json(status, body)
}

fn http_error(status: u16, code: i64, message: &str) -> ApiResponse {
    rpc_response(status, &jsonrpc::error(&Value::Null, code, message))
}

/// Serves one HTTP request to `/mcp`. A browser page from an allowed origin gets the
/// CORS headers it needs: its preflight answered, and the answer (the challenge of a
/// 401 included) readable.
pub async fn handle<E: Effects>(app: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    let origin = req
        .header("origin")
        .filter(|o| origin_allowed(app.config, req, o))
        .map(str::to_string);
    if req.method == "OPTIONS" && req.header("origin").is_some() {
        return match origin {
            Some(o) => with_cors(ApiResponse::text(204, "text/plain", String::new()), &o)
                .with_header("access-control-allow-methods", "POST, GET, OPTIONS")
                .with_header(
                    "access-control-allow-headers",
                    "authorization, content-type, accept, mcp-protocol-version, mcp-method, mcp-name, mcp-session-id, last-event-id, x-mcp-tools, x-mcp-readonly",
                )
                .with_header("access-control-max-age", "86400"),
            None => http_error(
                403,
                jsonrpc::INVALID_REQUEST,
                "this Origin is not allowed; add it to ALLOWED_ORIGINS",
            ),
        };
    }
    let resp = serve(app, req).await;
    match origin {
        Some(o) => with_cors(resp, &o),
        None => resp,
    }
}

/// Whether a browser page from `origin` may call: the Worker's own origin; a
/// loopback origin when the Worker is reached on a loopback name (local use; what
/// DNS rebinding would need is a foreign name resolving to loopback, and its Origin
/// is that foreign name, refused); or an origin in ALLOWED_ORIGINS.
fn origin_allowed(config: &crate::config::Config, req: &ApiRequest, origin: &str) -> bool {
    let origin = origin.trim().trim_end_matches('/');
    origin.eq_ignore_ascii_case(req.base.trim_end_matches('/'))
        || (is_loopback(&req.base) && is_loopback(origin))
        || config.origin_allowed(origin)
}

fn with_cors(resp: ApiResponse, origin: &str) -> ApiResponse {
    resp.with_header("access-control-allow-origin", origin)
        .with_header(
            "access-control-expose-headers",
            "www-authenticate, mcp-protocol-version, mcp-session-id",
        )
        .with_header("vary", "Origin")
}

async fn serve<E: Effects>(app: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    let who = match admit(app, req) {
        Ok(who) => who,
        Err(refused) => return refused,
    };
    let asked = req
        .query_param("tools")
        .or_else(|| req.header("x-mcp-tools").map(str::to_string));
    let surface = match tools::Surface::of(
        who.can_write,
        req.header("x-mcp-readonly"),
        asked.as_deref(),
    ) {
        Ok(s) => s,
        Err(why) => return http_error(400, jsonrpc::INVALID_REQUEST, &why),
    };
    let value: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return http_error(400, jsonrpc::PARSE_ERROR, &format!("parse error: {e}")),
    };
    if value.is_array() {
        return http_error(
            400,
            jsonrpc::INVALID_REQUEST,
            "batches are not supported: send one JSON-RPC message per request",
        );
    }
    let era = modern::era_of(req.header("mcp-protocol-version"), &value);
    let (id, method, params) = match (jsonrpc::classify(&value), &era) {
        (Err(invalid), _) => {
            let body = jsonrpc::error(&invalid.id, jsonrpc::INVALID_REQUEST, &invalid.message);
            return rpc_response(400, &body);
        }
        (_, Era::Unknown(v)) => {
            let id = value.get("id").cloned().unwrap_or(Value::Null);
            return rpc_response(400, &modern::Refusal::unsupported(v).body(&id));
        }
        (Ok(Message::Response), Era::Modern) => {
            return http_error(
                400,
                jsonrpc::INVALID_REQUEST,
                "clients send no JSON-RPC responses in MCP 2026-07-28",
            )
        }
        (Ok(Message::Notification { .. } | Message::Response), _) => {
            return ApiResponse {
                status: 202,
                ..Default::default()
            }
        }
        (Ok(Message::Request { id, method, params }), _) => (id, method, params),
    };
    if era == Era::Legacy {
        let body = match dispatch(app, &who, &surface, &method, &params, &era).await {
            Ok(result) => jsonrpc::result(&id, result),
            Err((code, message)) => error_body(&id, code, &message, &params, &era),
        };
        return rpc_response(200, &body);
    }
    if let Err(refused) = admit_modern(req, &method, &params) {
        return rpc_response(modern::status_of(refused.code), &refused.body(&id));
    }
    match dispatch(app, &who, &surface, &method, &params, &era).await {
        Ok(mut result) => {
            if method == "tools/list" {
                result["tools"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                    .for_each(modern::annotate);
            }
            let result = modern::complete(&method, result, &server_info());
            rpc_response(200, &jsonrpc::result(&id, result))
        }
        Err((code, message)) => {
            let body = error_body(&id, code, &message, &params, &era);
            let status = modern::status_of(body["error"]["code"].as_i64().unwrap_or(code));
            rpc_response(status, &body)
        }
    }
}

/// The modern checks of a request: its envelope and routing headers, and for a
/// tool call, the headers mirroring its arguments.
fn admit_modern(req: &ApiRequest, method: &str, params: &Value) -> Result<(), modern::Refusal> {
    modern::admit(req, method, params)?;
    let called = params.get("name").and_then(Value::as_str);
    match Tool::ALL
        .iter()
        .find(|t| method == "tools/call" && Some(t.name()) == called)
    {
        Some(tool) => {
            let args = params.get("arguments").unwrap_or(&Value::Null);
            modern::check_param_headers(req, &(tool.spec().input)(), args)
        }
        None => Ok(()),
    }
}

/// An error answer. An unknown resource names its URI in `data`, and is -32602 in
/// 2026-07-28 (-32002 before).
fn error_body(id: &Value, code: i64, message: &str, params: &Value, era: &Era) -> Value {
    if code != jsonrpc::RESOURCE_NOT_FOUND {
        return jsonrpc::error(id, code, message);
    }
    let code = match era {
        Era::Legacy => code,
        _ => jsonrpc::INVALID_PARAMS,
    };
    let mut body = jsonrpc::error(id, code, message);
    body["error"]["data"] = json!({"uri": params.get("uri")});
    body
}

/// The transport's rules, in order: method, Origin, token, Accept and Content-Type
/// (the protocol version is the era's to check). Returns who calls, or the refusal.
fn admit<E: Effects>(app: &Service<'_, E>, req: &ApiRequest) -> Result<Principal, ApiResponse> {
    if req.method != "POST" {
        return Err(http_error(
            405,
            jsonrpc::INVALID_REQUEST,
            "use POST: this server is stateless and offers no GET stream or sessions",
        )
        .with_header("allow", "POST"));
    }
    if req
        .header("origin")
        .is_some_and(|o| !origin_allowed(app.config, req, o))
    {
        return Err(http_error(
            403,
            jsonrpc::INVALID_REQUEST,
            "this Origin is not allowed; add it to ALLOWED_ORIGINS",
        ));
    }
    let who = app
        .authenticate(req.header("authorization"))
        .map_err(|e| match e.code {
            ErrorCode::Unauthorized | ErrorCode::InvalidToken => {
                let message = match e.code {
                    ErrorCode::Unauthorized => {
                        "send Authorization: Bearer <token> with a valid client token, or sign in"
                    }
                    _ => e.message.as_str(),
                };
                http_error(401, jsonrpc::INVALID_REQUEST, message)
                    .with_header("www-authenticate", challenge(app.config, req, &e))
            }
            _ => http_error(status(e.code), jsonrpc::INVALID_REQUEST, &e.message),
        })?;
    let accept = req.header("accept").unwrap_or("").to_ascii_lowercase();
    // Like the reference SDK, both types must be named: `*/*` is not enough.
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return Err(http_error(
            406,
            jsonrpc::INVALID_REQUEST,
            "send Accept: application/json, text/event-stream",
        ));
    }
    let content_type = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("application/json") {
        return Err(http_error(
            415,
            jsonrpc::INVALID_REQUEST,
            "send Content-Type: application/json",
        ));
    }
    Ok(who)
}

/// This server's name and version, as both eras give it.
fn server_info() -> Value {
    json!({"name": "watercooler-worker", "title": "Watercooler threads", "version": VERSION})
}

fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}, "resources": {"listChanged": false}, "prompts": {"listChanged": false}})
}

async fn dispatch<E: Effects>(
    app: &Service<'_, E>,
    who: &Principal,
    surface: &tools::Surface,
    method: &str,
    params: &Value,
    era: &Era,
) -> Result<Value, (i64, String)> {
    let legacy = *era == Era::Legacy;
    match method {
        "initialize" if legacy => {
            let asked = params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let version = if LEGACY_VERSIONS.contains(&asked) {
                asked
            } else {
                LEGACY_VERSIONS[0]
            };
            Ok(json!({
                "protocolVersion": version,
                "capabilities": capabilities(),
                "serverInfo": server_info(),
                "instructions": instructions(),
            }))
        }
        "ping" if legacy => Ok(json!({})),
        "server/discover" if !legacy => Ok(json!({
            "supportedVersions": modern::supported_versions(),
            "capabilities": capabilities(),
            "instructions": instructions(),
        })),
        "tools/list" => {
            if params.get("cursor").is_some_and(|c| !c.is_null()) {
                return Err((
                    jsonrpc::INVALID_PARAMS,
                    "invalid cursor: the tool list has one page".into(),
                ));
            }
            Ok(json!({ "tools": surface.definitions() }))
        }
        "tools/call" => {
            let name = params.get("name").and_then(Value::as_str).ok_or((
                jsonrpc::INVALID_PARAMS,
                "tools/call needs a \"name\"".to_string(),
            ))?;
            let args = params.get("arguments").cloned().unwrap_or(Value::Null);
            tools::call(app, who, surface, name, args).await
        }
        "resources/list" => resources::list(app, params).await,
        "resources/templates/list" => Ok(resources::templates()),
        "resources/read" => resources::read(app, params).await,
        "prompts/list" => Ok(prompts::list()),
        "prompts/get" => prompts::get(params),
        other if legacy => Err((
            jsonrpc::METHOD_NOT_FOUND,
            format!("method {other:?} is not supported"),
        )),
        other => Err((jsonrpc::METHOD_NOT_FOUND, modern::not_served(other))),
    }
}

//! Routes and handlers of the REST API v1.

use super::commit::{author_for, commit, handoff_target, require_write, sync_action, Committed};
use super::error::ApiError;
use super::http::{percent_decode, ApiRequest, ApiResponse};
use super::input::JsonFields;
use super::reads::thread_view;
use super::{App, VERSION};
use crate::auth::{AuthError, Principal};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use crate::thread::{self, ops, topic, Operation};
use crate::validate;
use crate::writer::WriteQueue;
use serde_json::json;

/// Serves one request.
pub async fn handle<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
) -> ApiResponse {
    match route(app, req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn route<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let method = req.method.as_str();
    match segments.as_slice() {
        ["health"] => only(method, &["GET", "HEAD"]).map(|_| health(app)),
        ["mcp"] => Ok(crate::mcp::handle(app, req).await),
        ["v1", rest @ ..] => {
            let who = authenticate(app, req)?;
            match rest {
                ["threads"] => {
                    only(method, &["GET"])?;
                    list(app, req).await
                }
                ["sync"] => {
                    only(method, &["GET"])?;
                    Ok(ApiResponse::json(
                        200,
                        &sync_action(app, who, "status").await?,
                    ))
                }
                ["sync", action @ ("now" | "retry")] => {
                    only(method, &["POST"])?;
                    Ok(ApiResponse::json(
                        200,
                        &sync_action(app, who, action).await?,
                    ))
                }
                ["threads", t] => match method {
                    "GET" => read(app, req, &topic_of(t)?).await,
                    "PATCH" => set_status(app, req, who, &topic_of(t)?).await,
                    _ => Err(not_allowed(&["GET", "PATCH"])),
                },
                ["threads", t, action @ ("entries" | "ack" | "handoff")] => {
                    only(method, &["POST"])?;
                    let t = topic_of(t)?;
                    match *action {
                        "entries" => say(app, req, who, &t).await,
                        "ack" => ack(app, req, who, &t).await,
                        _ => handoff(app, req, who, &t).await,
                    }
                }
                _ => Err(not_found(req)),
            }
        }
        _ => Err(not_found(req)),
    }
}

fn not_found(req: &ApiRequest) -> ApiError {
    ApiError::new(
        404,
        "not_found",
        format!(
            "no route for {} {}; see the README for the API",
            req.method, req.path
        ),
    )
}

fn not_allowed(allowed: &[&str]) -> ApiError {
    ApiError::new(
        405,
        "method_not_allowed",
        format!("use {}", allowed.join(" or ")),
    )
}

fn only(method: &str, allowed: &[&str]) -> Result<(), ApiError> {
    if allowed.contains(&method) {
        Ok(())
    } else {
        Err(not_allowed(allowed))
    }
}

fn health<G, C, K, Q>(app: &App<'_, G, C, K, Q>) -> ApiResponse {
    ApiResponse::json(
        200,
        &json!({"ok": true, "service": "watercooler-worker", "version": VERSION, "branch": app.config.repo.branch}),
    )
}

fn authenticate<'a, G, C, K, Q>(
    app: &'a App<'_, G, C, K, Q>,
    req: &ApiRequest,
) -> Result<&'a Principal, ApiError> {
    app.config
        .tokens
        .authenticate(req.header("authorization"))
        .map_err(|e| match e {
            AuthError::Missing => {
                ApiError::new(401, "unauthorized", "send Authorization: Bearer <token>")
            }
            AuthError::Invalid => ApiError::new(
                401,
                "unauthorized",
                "the bearer token is not valid; check it or ask for a new one",
            ),
        })
}

fn topic_of(segment: &str) -> Result<String, ApiError> {
    let t = percent_decode(segment);
    topic::validate(&t)
        .map(str::to_string)
        .map_err(|e| ApiError::new(400, "invalid_topic", e.to_string()))
}

async fn list<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let open_only = match req.query_param("open_only").as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "open_only must be true or false, got {other:?}"
            )))
        }
    };
    let listed = super::reads::thread_list(app).await?;
    let mut threads = listed.threads;
    if open_only {
        threads.retain(|t| t.open);
    }
    let count = listed.warnings.len();
    let mut answer = json!({ "threads": threads });
    if count > 0 {
        answer["warnings"] = json!(listed.warnings);
    }
    Ok(with_warnings(ApiResponse::json(200, &answer), count))
}

async fn read<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    let as_json = match req.query_param("format").as_deref() {
        None | Some("markdown") | Some("md") => false,
        Some("json") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "format must be markdown or json, got {other:?}"
            )))
        }
    };
    let view = thread_view(app, topic).await?;
    let etag = view.etag(if as_json { "-json" } else { "" });
    let not_modified = req.header("if-none-match").is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim().trim_start_matches("W/") == etag)
    });
    let resp = if not_modified {
        ApiResponse {
            status: 304,
            ..Default::default()
        }
    } else if as_json {
        let t = &view.reading.thread;
        let entries: Vec<serde_json::Value> = t
            .entries
            .iter()
            .map(|e| {
                let mut v = json!(e);
                let pending = e
                    .entry_id
                    .as_ref()
                    .is_some_and(|id| view.pending_ids.contains(id));
                v["pending"] = json!(pending);
                v
            })
            .collect();
        ApiResponse::json(
            200,
            &json!({
                "topic": topic,
                "sha": view.sha,
                "title": t.header.title,
                "status": t.header.status(),
                "ball": t.header.ball(),
                "open": t.is_open(),
                "pending": view.pending,
                "header": t.header.fields.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
                "entries": entries,
                "warnings": view.reading.warnings,
            }),
        )
    } else {
        ApiResponse::text(200, "text/markdown; charset=utf-8", view.content)
    };
    let source = view.source.map_or("pending", |s| s.as_str());
    Ok(with_warnings(
        resp.with_header("etag", etag)
            .with_header("cache-control", "private, no-cache")
            .with_header("x-watercooler-cache", source)
            .with_header("x-watercooler-pending", view.pending.to_string()),
        view.reading.warnings.len(),
    ))
}

/// Marks an answer about a thread that the watercooler tools and this service read
/// differently: `X-Watercooler-Warnings` counts the differences; JSON answers list them
/// in `warnings`.
fn with_warnings(resp: ApiResponse, count: usize) -> ApiResponse {
    if count == 0 {
        resp
    } else {
        resp.with_header("x-watercooler-warnings", count.to_string())
    }
}

/// A write's answer, with the warnings header when the thread reads differently.
fn write_answer(status: u16, answer: &serde_json::Value) -> ApiResponse {
    let count = answer["warnings"].as_array().map_or(0, Vec::len);
    with_warnings(ApiResponse::json(status, answer), count)
}

/// The REST shape of every write: check the scope, read the JSON fields, build the
/// operation, commit it.
async fn write<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
    allowed: &[&str],
    build: impl FnOnce(&JsonFields, &Principal) -> Result<Operation, ApiError>,
) -> Result<Committed, ApiError> {
    require_write(who)?;
    // An empty body counts as `{}`: `ack` and `handoff` need no fields.
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        &req.body
    };
    let fields = JsonFields::parse(body, req.header("content-type"), allowed)?;
    let op = build(&fields, who)?;
    let author = author_for(fields.opt_str("agent")?, who, &op)?;
    let entry_id = fields
        .opt_str("entry_id")?
        .map(|id| validate::entry_id("entry_id", id))
        .transpose()?;
    commit(app, topic, &author, &op, entry_id).await
}

async fn say<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    let allowed = ["agent", "role", "type", "title", "body", "entry_id"];
    let Committed { status, answer, .. } = write(app, req, who, topic, &allowed, |f, _| {
        Ok(Operation::Say {
            title: validate::title("title", f.req_str("title")?)?,
            body: validate::body("body", f.req_str("body")?, false)?,
            role: validate::label("role", f.opt_str("role")?.unwrap_or(ops::DEFAULT_ROLE))?,
            entry_type: validate::label("type", f.opt_str("type")?.unwrap_or(ops::DEFAULT_TYPE))?,
        })
    })
    .await?;
    Ok(write_answer(status, &answer))
}

async fn ack<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    let allowed = ["agent", "title", "body", "entry_id"];
    let Committed { status, answer, .. } = write(app, req, who, topic, &allowed, |f, _| {
        Ok(Operation::Ack {
            title: f.opt_checked("title", validate::title)?,
            body: f.opt_checked("body", |n, v| validate::body(n, v, false))?,
        })
    })
    .await?;
    Ok(write_answer(status, &answer))
}

async fn handoff<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    let allowed = ["agent", "target", "note", "entry_id"];
    let Committed {
        status,
        mut answer,
        content,
    } = write(app, req, who, topic, &allowed, |f, who| {
        let target = handoff_target("target", f.opt_str("target")?, who)?;
        Ok(Operation::Handoff {
            target,
            note: f.opt_checked("note", |n, v| validate::body(n, v, false))?,
        })
    })
    .await?;
    answer["ball"] = json!(header_value(content.as_deref(), "ball"));
    Ok(write_answer(status, &answer))
}

async fn set_status<G: GitHost, C: Cache, K: Clock + Entropy, Q: WriteQueue>(
    app: &App<'_, G, C, K, Q>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    let mut requested = String::new();
    let Committed {
        status,
        mut answer,
        content,
    } = write(app, req, who, topic, &["status", "agent"], |f, _| {
        requested = validate::status("status", f.req_str("status")?)?;
        Ok(Operation::SetStatus {
            status: requested.clone(),
        })
    })
    .await?;
    answer["status"] = json!(header_value(content.as_deref(), "status").unwrap_or(requested));
    // A status change adds no entry: 200 when done, 202 when queued.
    Ok(write_answer(if status == 202 { 202 } else { 200 }, &answer))
}

/// A header field of the file as committed (`None` while queued).
fn header_value(content: Option<&str>, key: &str) -> Option<String> {
    content.and_then(|c| thread::parse(c).header.get(key).map(str::to_string))
}

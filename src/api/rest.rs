//! Routes and handlers of the REST API v1.

use super::error::ApiError;
use super::http::{percent_decode, ApiRequest, ApiResponse};
use super::input::JsonFields;
use super::{App, VERSION};
use crate::auth::{AuthError, Principal};
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use crate::store::{WriteOutcome, WriteRequest};
use crate::thread::{self, agent, ops, parse, topic, Author, Operation};
use crate::validate;
use serde_json::json;

/// Serves one request.
pub async fn handle<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    req: &ApiRequest,
) -> ApiResponse {
    match route(app, req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn route<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    req: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let method = req.method.as_str();
    match segments.as_slice() {
        ["health"] => only(method, &["GET", "HEAD"]).map(|_| health(app)),
        ["v1", rest @ ..] => {
            let who = authenticate(app, req)?;
            match rest {
                ["threads"] => {
                    only(method, &["GET"])?;
                    list(app, req).await
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

fn health<G, C, K>(app: &App<'_, G, C, K>) -> ApiResponse {
    ApiResponse::json(
        200,
        &json!({"ok": true, "service": "watercooler-worker", "version": VERSION, "branch": app.config.repo.branch}),
    )
}

fn authenticate<'a, G, C, K>(
    app: &'a App<'_, G, C, K>,
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

fn require_write(who: &Principal) -> Result<(), ApiError> {
    if who.can_write {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "forbidden",
            "this token is read-only; writing needs a token with the \"write\" scope",
        ))
    }
}

fn topic_of(segment: &str) -> Result<String, ApiError> {
    let t = percent_decode(segment);
    topic::validate(&t)
        .map(str::to_string)
        .map_err(|e| ApiError::new(400, "invalid_topic", e.to_string()))
}

async fn list<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
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
    let mut threads = app.store.list_threads().await?;
    if open_only {
        threads.retain(|t| t.open);
    }
    Ok(ApiResponse::json(200, &json!({ "threads": threads })))
}

async fn read<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
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
    let file = app.store.read_thread(topic).await?;
    let etag = if as_json {
        format!("\"{}-json\"", file.sha)
    } else {
        format!("\"{}\"", file.sha)
    };
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
        let t = parse(&file.content);
        ApiResponse::json(
            200,
            &json!({
                "topic": topic,
                "sha": file.sha,
                "title": t.header.title,
                "status": t.header.status(),
                "ball": t.header.ball(),
                "open": t.is_open(),
                "header": t.header.fields.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
                "entries": t.entries,
            }),
        )
    } else {
        ApiResponse::text(200, "text/markdown; charset=utf-8", file.content)
    };
    Ok(resp
        .with_header("etag", etag)
        .with_header("cache-control", "private, no-cache")
        .with_header("x-watercooler-cache", file.source.as_str()))
}

/// The author of a write: the request's agent (or the token's default), and the
/// token's user, which no request can change.
fn author_of(fields: &JsonFields, who: &Principal) -> Result<Author, ApiError> {
    let agent = match fields.opt_str("agent")? {
        Some(a) => agent::validate(a, &who.user).map_err(|e| ApiError::new(400, "invalid_field", format!("agent: {e}")))?,
        None => who.agent.clone().ok_or_else(|| {
            ApiError::new(400, "missing_field", "agent: is required (this token has no default agent): send e.g. \"agent\": \"Claude\"")
        })?,
    };
    Ok(Author {
        agent,
        user: who.user.clone(),
    })
}

fn entry_id_of<G, C, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    fields: &JsonFields,
) -> Result<String, ApiError> {
    match fields.opt_str("entry_id")? {
        Some(id) => Ok(validate::entry_id("entry_id", id)?),
        None => Ok(app.new_entry_id()),
    }
}

async fn commit<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    topic: &str,
    author: &Author,
    op: &Operation,
    entry_id: Option<&str>,
) -> Result<(u16, serde_json::Value, String), ApiError> {
    let outcome = app
        .store
        .write(&WriteRequest {
            topic,
            author,
            op,
            entry_id,
        })
        .await
        .map_err(|e| ApiError::from(e).with_entry_id(entry_id))?;
    Ok(match outcome {
        WriteOutcome::Committed {
            commit_sha,
            blob_sha,
            content,
            attempts,
        } => (
            201,
            json!({"entry_id": entry_id, "commit_sha": commit_sha, "blob_sha": blob_sha, "attempts": attempts}),
            content,
        ),
        WriteOutcome::Unchanged { blob_sha, content } => (
            200,
            json!({"entry_id": entry_id, "commit_sha": null, "blob_sha": blob_sha, "unchanged": true}),
            content,
        ),
    })
}

async fn say<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    require_write(who)?;
    let f = JsonFields::parse(
        &req.body,
        req.header("content-type"),
        &["agent", "role", "type", "title", "body", "entry_id"],
    )?;
    let author = author_of(&f, who)?;
    let op = Operation::Say {
        title: validate::title("title", f.req_str("title")?)?,
        body: validate::body("body", f.req_str("body")?, false)?,
        role: validate::label("role", f.opt_str("role")?.unwrap_or(ops::DEFAULT_ROLE))?,
        entry_type: validate::label("type", f.opt_str("type")?.unwrap_or(ops::DEFAULT_TYPE))?,
    };
    let id = entry_id_of(app, &f)?;
    let (status, body, _) = commit(app, topic, &author, &op, Some(&id)).await?;
    Ok(ApiResponse::json(status, &body))
}

async fn ack<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    require_write(who)?;
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        &req.body
    };
    let f = JsonFields::parse(
        body,
        req.header("content-type"),
        &["agent", "title", "body", "entry_id"],
    )?;
    let author = author_of(&f, who)?;
    let op = Operation::Ack {
        title: f
            .opt_str("title")?
            .map(|t| validate::title("title", t))
            .transpose()?,
        body: f
            .opt_str("body")?
            .map(|b| validate::body("body", b, false))
            .transpose()?,
    };
    let id = entry_id_of(app, &f)?;
    let (status, body, _) = commit(app, topic, &author, &op, Some(&id)).await?;
    Ok(ApiResponse::json(status, &body))
}

async fn handoff<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    require_write(who)?;
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        &req.body
    };
    let f = JsonFields::parse(
        body,
        req.header("content-type"),
        &["agent", "target", "note", "entry_id"],
    )?;
    let author = author_of(&f, who)?;
    let target = match f.opt_str("target")? {
        Some(t) => {
            let (base, tag) = agent::split_tag(t);
            let tag = tag.unwrap_or(&who.user);
            let base = agent::validate(base, tag)
                .map_err(|e| ApiError::new(400, "invalid_field", format!("target: {e}")))?;
            Some(format!("{base} ({tag})"))
        }
        None => None,
    };
    let op = Operation::Handoff {
        target,
        note: f
            .opt_str("note")?
            .map(|n| validate::body("note", n, false))
            .transpose()?,
    };
    let id = entry_id_of(app, &f)?;
    let (status, mut body, content) = commit(app, topic, &author, &op, Some(&id)).await?;
    body["ball"] = json!(thread::parse(&content).header.ball());
    Ok(ApiResponse::json(status, &body))
}

async fn set_status<G: GitHost, C: Cache, K: Clock + Entropy>(
    app: &App<'_, G, C, K>,
    req: &ApiRequest,
    who: &Principal,
    topic: &str,
) -> Result<ApiResponse, ApiError> {
    require_write(who)?;
    let f = JsonFields::parse(&req.body, req.header("content-type"), &["status", "agent"])?;
    let status = validate::status("status", f.req_str("status")?)?;
    let author = match author_of(&f, who) {
        Ok(a) => a,
        // set_status writes no entry: the author only names the commit.
        Err(_) if f.opt_str("agent")?.is_none() => Author {
            agent: "Team".into(),
            user: who.user.clone(),
        },
        Err(e) => return Err(e),
    };
    let op = Operation::SetStatus {
        status: status.clone(),
    };
    let (_, mut body, _) = commit(app, topic, &author, &op, None).await?;
    body.as_object_mut().map(|m| m.remove("entry_id"));
    body["status"] = json!(status);
    Ok(ApiResponse::json(200, &body))
}

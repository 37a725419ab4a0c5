//! The REST API v1: routes, and thin handlers that read the request, call the
//! service, and shape its answer.

use super::error::{response, route_error};
use super::json::JsonFields;
use super::message::{percent_decode, ApiRequest, ApiResponse};
use crate::auth::Principal;
use crate::service::events::Watch;
use crate::service::reads::ReadFormat;
use crate::service::search::Find;
use crate::service::{Effects, Outcome, Service, ServiceError, Write, WriteKind, Written};
use crate::writer::SyncStatus;
use serde_json::json;

/// Serves a request under `/v1`.
pub async fn handle<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    rest: &[&str],
) -> ApiResponse {
    match route(svc, req, rest).await {
        Ok(resp) => resp,
        Err(Refusal::Service(e)) => response(&e),
        Err(Refusal::Route(resp)) => resp,
    }
}

/// Why a request was not served.
enum Refusal {
    Service(ServiceError),
    Route(ApiResponse),
}

impl From<ServiceError> for Refusal {
    fn from(e: ServiceError) -> Self {
        Refusal::Service(e)
    }
}

async fn route<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    rest: &[&str],
) -> Result<ApiResponse, Refusal> {
    let who = &svc.authenticate(req.header("authorization")).map_err(|e| {
        let challenge = super::error::challenge(svc.config, req, &e);
        Refusal::Route(response(&e).with_header("www-authenticate", challenge))
    })?;
    let method = req.method.as_str();
    match rest {
        ["threads"] => {
            only(method, &["GET"])?;
            list(svc, req).await
        }
        ["events"] => {
            only(method, &["GET"])?;
            events(svc, req, who).await
        }
        ["search"] => {
            only(method, &["GET"])?;
            search(svc, req).await
        }
        ["sync"] => {
            only(method, &["GET"])?;
            Ok(sync_answer(svc.sync(who, "status").await?))
        }
        ["sync", action @ ("now" | "retry")] => {
            only(method, &["POST"])?;
            Ok(sync_answer(svc.sync(who, action).await?))
        }
        ["threads", t] => match method {
            "GET" => read(svc, req, &percent_decode(t)).await,
            "PATCH" => write(svc, req, who, t, WriteRoute::Status).await,
            _ => Err(not_allowed(&["GET", "PATCH"])),
        },
        ["threads", t, action @ ("entries" | "ack" | "handoff")] => {
            only(method, &["POST"])?;
            let what = match *action {
                "entries" => WriteRoute::Say,
                "ack" => WriteRoute::Ack,
                _ => WriteRoute::Handoff,
            };
            write(svc, req, who, t, what).await
        }
        _ => Err(not_found(req)),
    }
}

/// 404 for a path no route serves.
fn not_found(req: &ApiRequest) -> Refusal {
    Refusal::Route(route_error(
        404,
        "not_found",
        format!(
            "no route for {} {}; see the README for the API",
            req.method, req.path
        ),
    ))
}

fn not_allowed(allowed: &[&str]) -> Refusal {
    Refusal::Route(route_error(
        405,
        "method_not_allowed",
        format!("use {}", allowed.join(" or ")),
    ))
}

fn only(method: &str, allowed: &[&str]) -> Result<(), Refusal> {
    if allowed.contains(&method) {
        Ok(())
    } else {
        Err(not_allowed(allowed))
    }
}

fn sync_answer(report: SyncStatus) -> ApiResponse {
    ApiResponse::json(200, &report)
}

async fn list<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> Result<ApiResponse, Refusal> {
    let open_only = match req.query_param("open_only").as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(other) => {
            return Err(bad_request(format!(
                "open_only must be true or false, got {other:?}"
            )))
        }
    };
    let listed = svc.list().await?;
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

/// `GET /v1/events?since=&wait=&topic=&for=`.
async fn events<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    who: &Principal,
) -> Result<ApiResponse, Refusal> {
    let wait = req.query_param("wait");
    let wait_seconds = match wait.as_deref() {
        None | Some("") => None,
        Some(w) => Some(w.parse::<u64>().map_err(|_| {
            ServiceError::field(
                "wait",
                format!("must be a number of seconds, 0 to 50, got {w:?}"),
            )
        })?),
    };
    let (since, topic, agent) = (
        req.query_param("since"),
        req.query_param("topic"),
        req.query_param("for"),
    );
    let got = svc
        .events(
            who,
            Watch {
                since: since.as_deref(),
                wait_seconds,
                topic: topic.as_deref(),
                agent: agent.as_deref(),
                names: ("since", "wait", "for"),
                commits: matches!(req.query_param("commits").as_deref(), Some("true" | "1")),
            },
        )
        .await?;
    Ok(
        ApiResponse::json(200, &json!({"events": got.events, "cursor": got.cursor}))
            .with_header("cache-control", "no-store"),
    )
}

/// `GET /v1/search?q=&topic=&agent=&since=&limit=`.
async fn search<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
) -> Result<ApiResponse, Refusal> {
    let limit = match req.query_param("limit").as_deref() {
        None | Some("") => None,
        Some(l) => Some(l.parse::<u64>().map_err(|_| {
            ServiceError::field("limit", format!("must be a number, 1 to 50, got {l:?}"))
        })?),
    };
    let p = |name: &str| req.query_param(name);
    let (q, topic, agent, since) = (p("q"), p("topic"), p("agent"), p("since"));
    let found = svc
        .search(Find {
            q: q.as_deref(),
            topic: topic.as_deref(),
            agent: agent.as_deref(),
            since: since.as_deref(),
            limit,
            q_field: "q",
            raw_marks: false,
        })
        .await?;
    Ok(ApiResponse::json(200, &found).with_header("cache-control", "no-store"))
}

fn bad_request(message: String) -> Refusal {
    Refusal::Service(ServiceError::new(
        crate::service::ErrorCode::InvalidRequest,
        message,
    ))
}

async fn read<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    topic: &str,
) -> Result<ApiResponse, Refusal> {
    let format = ReadFormat::parse("format", req.query_param("format").as_deref())?;
    let as_json = format == ReadFormat::Json;
    let view = svc.view(topic).await?;
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
                v["pending"] = json!(view.is_pending(e));
                v
            })
            .collect();
        ApiResponse::json(
            200,
            &json!({
                "topic": view.topic,
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
        ApiResponse::text(200, "text/markdown; charset=utf-8", view.content.clone())
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

/// The REST writes, by route.
#[derive(Clone, Copy)]
enum WriteRoute {
    Say,
    Ack,
    Handoff,
    Status,
}

impl WriteRoute {
    /// The fields each route's body may have.
    fn fields(self) -> &'static [&'static str] {
        match self {
            WriteRoute::Say => &["agent", "role", "type", "title", "body", "entry_id"],
            WriteRoute::Ack => &["agent", "title", "body", "entry_id"],
            WriteRoute::Handoff => &["agent", "target", "note", "entry_id"],
            WriteRoute::Status => &["status", "agent"],
        }
    }
}

/// Every REST write: the JSON fields, the service's write, and the answer: 201
/// committed, 200 already there, 202 queued (a status change: 200 or 202).
async fn write<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    who: &Principal,
    segment: &str,
    route: WriteRoute,
) -> Result<ApiResponse, Refusal> {
    crate::service::command::require_write(who)?;
    let topic = percent_decode(segment);
    // An empty body counts as `{}`: `ack` and `handoff` need no fields.
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        &req.body
    };
    let f = JsonFields::parse(body, req.header("content-type"), route.fields())?;
    let kind = match route {
        WriteRoute::Say => WriteKind::Say {
            title: f.opt_str("title")?,
            body: f.opt_str("body")?,
            role: f.opt_str("role")?,
            default_role: None,
            entry_type: f.opt_str("type")?,
            entry_type_field: "type",
        },
        WriteRoute::Ack => WriteKind::Ack {
            title: f.opt_str("title")?,
            body: f.opt_str("body")?,
        },
        WriteRoute::Handoff => WriteKind::Handoff {
            target: f.opt_str("target")?,
            target_field: "target",
            note: f.opt_str("note")?,
        },
        WriteRoute::Status => WriteKind::SetStatus {
            status: f.opt_str("status")?,
        },
    };
    let durable = prefers_async(req);
    let written = svc
        .write(
            who,
            Write {
                topic: &topic,
                agent: f.opt_str("agent")?,
                entry_id: f.opt_str("entry_id")?,
                kind,
                durable,
            },
        )
        .await?;
    let answer = write_answer(&written, route);
    Ok(match durable {
        true => answer.with_header("preference-applied", "respond-async"),
        false => answer,
    })
}

/// Whether the request asked to be answered before the work is done (RFC 7240
/// `Prefer: respond-async`): then a write is answered 202 once it is durable in the
/// journal and visible to readers, and its commit follows.
fn prefers_async(req: &ApiRequest) -> bool {
    req.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("prefer"))
        .flat_map(|(_, v)| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("respond-async"))
}

fn write_answer(w: &Written, route: WriteRoute) -> ApiResponse {
    let mut answer = json!({});
    if let Some(id) = &w.entry_id {
        answer["entry_id"] = json!(id);
    }
    answer["commit_sha"] = json!(w.commit_sha);
    let mut status = match w.outcome {
        Outcome::Committed => 201,
        Outcome::Unchanged => {
            answer["unchanged"] = json!(true);
            200
        }
        Outcome::Queued => {
            answer["queued"] = json!(true);
            answer["message"] = json!(crate::service::command::QUEUED_MESSAGE);
            202
        }
    };
    if w.outcome != Outcome::Queued {
        answer["blob_sha"] = json!(w.blob_sha);
    }
    if !w.warnings.is_empty() {
        answer["warnings"] = json!(w.warnings);
    }
    match route {
        WriteRoute::Handoff => answer["ball"] = json!(w.header("ball")),
        WriteRoute::Status => {
            let requested = match &w.op {
                crate::thread::Operation::SetStatus { status } => Some(status.clone()),
                _ => None,
            };
            answer["status"] = json!(w.header("status").or(requested));
            // A status change adds no entry: 200 when done, 202 when queued.
            status = if status == 202 { 202 } else { 200 };
        }
        _ => {}
    }
    with_warnings(ApiResponse::json(status, &answer), w.warnings.len())
}

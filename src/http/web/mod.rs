//! The page for the people on the team, at the Worker's own URL: the threads in the
//! sections agents get, each thread rendered, live (long-polling the events), with a
//! reply box for those who may write, and search. Server-rendered HTML
//! ([`pages`]), entry bodies through [`markdown`], sign-in and the session in
//! [`session`]; `/assets/app.js` is the one script (live updates, keys).
//!
//! Routes: `/`, `/threads/{topic}` (GET, and POST for the reply box), `/search`,
//! `/live` (the script's long poll), `/pick`, `/auth/…`, `/assets/…`; other
//! repositories' pages under `/repos/{owner}/{name}/…`.

pub mod markdown;
pub mod pages;
pub mod session;

use super::message::{form, percent_decode, ApiRequest, ApiResponse};
use crate::config::Config;
use crate::github::Repo;
use crate::service::command::{Write, WriteKind};
use crate::service::events::Watch;
use crate::service::search::Find;
use crate::service::{Effects, ErrorCode, Service, ServiceError};
use maud::Markup;
use pages::{Frame, Reply};
use serde_json::json;
use session::Session;

/// The page's Content-Security-Policy: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

/// How long the page's long poll waits, in seconds.
const LIVE_WAIT_SECONDS: u64 = 25;

/// The URL prefix of a repository's pages: none for the deployment's own.
pub fn prefix(config: &Config, repo: &Repo) -> String {
    match *repo == config.default_repo {
        true => String::new(),
        false => format!("/repos/{}/{}", repo.owner, repo.name),
    }
}

/// Whether a path is the page's (and so served here).
pub fn is_page(segments: &[&str]) -> bool {
    matches!(
        segments,
        [""] | ["threads", ..] | ["search"] | ["live"] | ["pick"] | ["auth", ..] | ["assets", ..]
    )
}

/// Whether a path under `/repos/{owner}/{name}` is one of a repository's pages (the
/// sign-in, assets and picker are the deployment's, at their own URLs).
pub fn is_repo_page(rest: &[&str]) -> bool {
    matches!(rest, [] | [""] | ["threads", _] | ["search"] | ["live"])
}

/// Serves the page's routes.
pub async fn handle<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    segments: &[&str],
) -> ApiResponse {
    match (req.method.as_str(), segments) {
        ("GET", ["assets", "app.js"]) => asset("text/javascript; charset=utf-8", APP_JS),
        ("GET", ["assets", "app.css"]) => asset("text/css; charset=utf-8", APP_CSS),
        ("GET", ["auth", "signin"]) => session::signin(svc, req).await,
        ("GET", ["auth", "done"]) => session::done(svc, req).await,
        ("GET", ["auth", "refresh"]) => session::refresh(svc, req).await,
        ("POST", ["auth", "signout"]) => session::signout(svc, req).await,
        ("GET", ["pick"]) => pick(svc, req),
        _ => match session::session(svc, req) {
            Some(s) => signed_in(svc, req, &s, segments).await,
            None => signed_out(svc, req, segments),
        },
    }
}

async fn signed_in<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    s: &Session,
    segments: &[&str],
) -> ApiResponse {
    let topic = |t: &str| percent_decode(t);
    match (req.method.as_str(), segments) {
        ("GET", [""]) => list(svc, s).await,
        ("GET", ["threads", t]) => thread(svc, s, &topic(t), Reply::default(), 200).await,
        ("POST", ["threads", t]) => reply(svc, req, s, &topic(t)).await,
        ("GET", ["search"]) => search(svc, req, s).await,
        ("GET", ["live"]) => live(svc, req, s).await,
        _ => html_page(
            404,
            plain(svc, s, "Not found", "There is no page here.").await,
        ),
    }
}

fn asset(content_type: &str, body: &str) -> ApiResponse {
    ApiResponse::text(200, content_type, body.to_string())
        .with_header("cache-control", "public, max-age=300")
        .with_header("x-content-type-options", "nosniff")
}

/// An HTML answer with the page's security headers.
fn html_page(status: u16, markup: Markup) -> ApiResponse {
    ApiResponse::text(status, "text/html; charset=utf-8", markup.into_string())
        .with_header("content-security-policy", CSP)
        .with_header("x-content-type-options", "nosniff")
        .with_header("x-frame-options", "DENY")
        .with_header("referrer-policy", "same-origin")
        .with_header("cache-control", "no-store")
}

/// The repository's name as a sign-in parameter: empty for the default one.
fn repo_param(config: &Config) -> String {
    match config.repo == config.default_repo {
        true => String::new(),
        false => format!("{}/{}", config.repo.owner, config.repo.name),
    }
}

/// What someone not signed in gets: the live poll a 401 (the script reloads), a
/// browser with a refresh token a new hour, anyone else the sign-in button (with
/// why, and 401, for a form sent after the session ended).
fn signed_out<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    segments: &[&str],
) -> ApiResponse {
    if segments == ["live"] {
        return ApiResponse::json(
            401,
            &json!({"error": {"code": "signed_out", "message": "sign in again"}}),
        );
    }
    let here = prefix(svc.config, &svc.config.repo) + &req.path;
    let posted = req.method != "GET";
    let next = match req.query.is_empty() || posted {
        true => here,
        false => format!("{here}?{}", req.query),
    };
    let params = [("repo", repo_param(svc.config)), ("next", next)];
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if session::can_refresh(svc, req) && !posted {
        return super::oauth::redirect(crate::service::oauth::flow::with_params(
            "/auth/refresh",
            &params,
        ));
    }
    // A form sent after the session ended is not acted on: the person is told, and
    // signs in again (a refresh token, if any, renews the session on the way).
    let (status, notice, start) = match posted {
        true => (401, Some("Your sign-in ran out before this was sent; nothing was written. Sign in again, then send it once more."), "/auth/refresh"),
        false => (200, None, "/auth/signin"),
    };
    let href = crate::service::oauth::flow::with_params(start, &params);
    let repo = format!("{}/{}", svc.config.repo.owner, svc.config.repo.name);
    html_page(
        status,
        pages::signin(&repo, &href, svc.config.oauth.is_some(), notice),
    )
}

/// `GET /pick?repo=owner/name`: to that repository's pages.
fn pick<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest) -> ApiResponse {
    let asked = req.query_param("repo").unwrap_or_default();
    let served = Some(asked.as_str())
        .filter(|a| !a.trim().is_empty())
        .and_then(|a| session::served(svc.config, Some(a)));
    match served {
        Some(c) => super::oauth::redirect(prefix(svc.config, &c.repo) + "/"),
        None => ApiResponse::text(
            404,
            "text/plain; charset=utf-8",
            "that repository is not served here\n".to_string(),
        ),
    }
}

/// The frame of a signed-in page; `live` adds the long poll (from now on, on one
/// thread or all).
async fn frame<E: Effects>(
    svc: &Service<'_, E>,
    s: &Session,
    title: &str,
    live: Option<Option<&str>>,
    query: &str,
) -> Frame {
    let prefix = prefix(svc.config, &svc.config.repo);
    let live = match live {
        None => None,
        Some(topic) => {
            let now = Watch {
                names: ("since", "wait", "for"),
                ..Watch::default()
            };
            svc.events(&s.who, now).await.ok().map(|got| {
                let mut url = format!("{prefix}/live?since={}", got.cursor);
                if let Some(t) = topic {
                    url.push_str(&format!(
                        "&topic={}",
                        crate::github::http::encode_component(t)
                    ));
                }
                url
            })
        }
    };
    let c = svc.config;
    // The picker (when several repositories are served) suggests those this browser
    // is signed in to.
    let repos = (!c.repos.is_empty()).then(|| s.signed_in_to.clone());
    Frame {
        title: title.to_string(),
        prefix,
        repo: format!("{}/{}", c.repo.owner, c.repo.name),
        repo_param: repo_param(c),
        login: s.who.user.clone(),
        csrf: session::csrf(svc, s),
        live,
        query: query.to_string(),
        repos,
    }
}

fn now_secs<E: Effects>(svc: &Service<'_, E>) -> i64 {
    (crate::clock::Clock::now_ms(svc.clock) / 1000) as i64
}

/// A signed-in page that only says something.
async fn plain<E: Effects>(svc: &Service<'_, E>, s: &Session, title: &str, text: &str) -> Markup {
    let f = frame(svc, s, title, None, "").await;
    pages::layout(
        &f,
        maud::html! { div #content { h1 { (title) } p { (text) } } },
    )
}

async fn list<E: Effects>(svc: &Service<'_, E>, s: &Session) -> ApiResponse {
    let mut listed = match svc.list().await {
        Ok(l) => l,
        Err(e) => return failed(svc, s, &e).await,
    };
    crate::service::reads::sort_for(&mut listed.threads, None);
    let f = frame(svc, s, "Threads", Some(None), "").await;
    let content = pages::list(&f.prefix, &listed.threads, &s.who.user, now_secs(svc));
    html_page(200, pages::layout(&f, content))
}

async fn failed<E: Effects>(svc: &Service<'_, E>, s: &Session, e: &ServiceError) -> ApiResponse {
    let status = super::error::status(e.code);
    html_page(
        status,
        plain(svc, s, "Something went wrong", &e.message).await,
    )
}

/// The agents who wrote in a thread (their names without the user), first seen
/// first; not `Team`, which the form always offers.
fn agents_of(entries: &[crate::thread::Entry]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for e in entries {
        let name = e.author.split(" (").next().unwrap_or("").trim().to_string();
        if !name.is_empty() && !name.eq_ignore_ascii_case("team") && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

async fn thread<E: Effects>(
    svc: &Service<'_, E>,
    s: &Session,
    topic: &str,
    reply: Reply,
    status: u16,
) -> ApiResponse {
    let view = match svc.view(topic).await {
        Ok(v) => v,
        Err(e) => return failed(svc, s, &e).await,
    };
    let t = &view.reading.thread;
    let entries = t
        .entries
        .iter()
        .map(|e| pages::EntryView {
            index: e.index,
            author: e.author.clone(),
            role: e.role.clone(),
            kind: e.entry_type.clone(),
            at: e.timestamp.clone(),
            title: e.title.clone(),
            body_html: markdown::render(&e.body),
            pending: view.is_pending(e),
        })
        .collect();
    let links = svc.config.oauth.as_ref().map(|o| {
        let r = &svc.config.repo;
        let path = svc.store.path_of(&view.topic);
        let base = format!("{}/{}/{}", o.web_base, r.owner, r.name);
        (
            format!("{base}/blob/{}/{path}", r.branch),
            format!("{base}/commits/{}/{path}", r.branch),
        )
    });
    let tv = pages::ThreadView {
        topic: view.topic.clone(),
        status: t.header.status().unwrap_or("").to_string(),
        ball: t.header.ball().unwrap_or("").to_string(),
        entries,
        links,
        agents: agents_of(&t.entries),
    };
    let f = frame(svc, s, &view.topic, Some(Some(&view.topic)), "").await;
    let content = pages::thread(&f, &tv, s.who.can_write, &reply, now_secs(svc));
    html_page(status, pages::layout(&f, content))
}

/// `POST /threads/{topic}`: the reply box. Answered with a redirect to the thread
/// (its new entry shows as pending), or the page again with the error and what was
/// typed.
async fn reply<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    s: &Session,
    topic: &str,
) -> ApiResponse {
    let fields = form(&req.body);
    if let Err(why) = session::check_post(svc, req, &s.token, &fields) {
        return html_page(403, plain(svc, s, "Refused", why).await);
    }
    let field = |k: &str| {
        fields
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    };
    let kind = match field("action") {
        Some("say") => WriteKind::Say {
            title: field("title"),
            body: field("body"),
            role: None,
            default_role: None,
            entry_type: None,
            entry_type_field: "type",
        },
        Some("ack") => WriteKind::Ack {
            title: field("title"),
            body: field("body"),
        },
        Some("handoff") => WriteKind::Handoff {
            target: field("target"),
            target_field: "target",
            note: field("body"),
        },
        Some("status") => WriteKind::SetStatus {
            status: field("status"),
        },
        _ => {
            let back = Reply {
                error: Some("choose what to do: Say, Ack, Hand off or Set status".into()),
                ..Reply::default()
            };
            return thread(svc, s, topic, back, 400).await;
        }
    };
    let w = Write {
        topic,
        agent: Some(field("agent").unwrap_or("Team")),
        entry_id: None,
        kind,
        durable: true,
    };
    match svc.write(&s.who, w).await {
        Ok(_) => {
            let to = format!("{}/threads/{topic}", prefix(svc.config, &svc.config.repo));
            ApiResponse::text(303, "text/plain", String::new())
                .with_header("location", to)
                .with_header("cache-control", "no-store")
        }
        Err(e) => {
            let back = Reply {
                agent: field("agent").unwrap_or("").to_string(),
                title: field("title").unwrap_or("").to_string(),
                body: fields.get("body").cloned().unwrap_or_default(),
                target: field("target").unwrap_or("").to_string(),
                error: Some(e.message.clone()),
            };
            let status = match e.code {
                ErrorCode::ThreadNotFound => 404,
                c => super::error::status(c),
            };
            thread(svc, s, topic, back, status).await
        }
    }
}

async fn search<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest, s: &Session) -> ApiResponse {
    let q = req.query_param("q").unwrap_or_default();
    let f = frame(svc, s, "Search", None, &q).await;
    let now = now_secs(svc);
    if q.trim().is_empty() {
        return html_page(
            200,
            pages::layout(&f, pages::search(&f.prefix, &q, Ok(&[]), now)),
        );
    }
    let find = Find {
        q: Some(&q),
        limit: Some(30),
        q_field: "q",
        raw_marks: true,
        ..Find::default()
    };
    let (status, content) = match svc.search(find).await {
        Ok(found) => {
            let hits: Vec<pages::HitView> = found
                .results
                .into_iter()
                .map(|h| pages::HitView {
                    snippet_html: pages::snippet_html(&h.snippet),
                    topic: h.topic,
                    index: h.index,
                    author: h.author,
                    at: h.at,
                    title: h.title,
                })
                .collect();
            (200, pages::search(&f.prefix, &q, Ok(&hits), now))
        }
        Err(e) => (
            super::error::status(e.code),
            pages::search(&f.prefix, &q, Err(&e.message), now),
        ),
    };
    html_page(status, pages::layout(&f, content))
}

/// `GET /live?since=&topic=`: the script's long poll. Answers when anything happens
/// (commits included, so pending entries turn committed), or empty after a while.
async fn live<E: Effects>(svc: &Service<'_, E>, req: &ApiRequest, s: &Session) -> ApiResponse {
    let since = req.query_param("since");
    let topic = req.query_param("topic").filter(|t| !t.is_empty());
    let w = Watch {
        since: since.as_deref(),
        wait_seconds: Some(LIVE_WAIT_SECONDS),
        topic: topic.as_deref(),
        agent: None,
        names: ("since", "wait", "for"),
        commits: true,
    };
    match svc.events(&s.who, w).await {
        Ok(got) => ApiResponse::json(200, &json!({"events": got.events, "cursor": got.cursor}))
            .with_header("cache-control", "no-store"),
        Err(e) => super::error::response(&e).with_header("cache-control", "no-store"),
    }
}

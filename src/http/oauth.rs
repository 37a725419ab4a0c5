//! Sign-in over HTTP: the discovery documents under `/.well-known`, and the
//! authorization server's endpoints under `/oauth`. The rules are in
//! `service::oauth`; this module reads forms and query strings and answers with
//! redirects, JSON and (for a sign-in that cannot go back to its client) a page.

use super::error::route_error;
use super::message::{cookie_name, form, set_cookie, ApiRequest, ApiResponse};
use crate::clock::Clock;
use crate::service::oauth::flow::{
    self, AuthorizeRequest, Callback, Consent, Context, Refused, TokenError,
};
use crate::service::oauth::{clients, metadata, resource_path, OAuthEffects};
use crate::service::{Effects, Service};
use serde_json::json;

/// The User-Agent of requests to GitHub's sign-in endpoints.
const USER_AGENT: &str = concat!("watercooler-worker/", env!("CARGO_PKG_VERSION"));

/// Serves `/.well-known/...` and `/oauth/...`.
pub async fn handle<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    segments: &[&str],
) -> ApiResponse {
    let Some(settings) = &svc.config.oauth else {
        return route_error(
            404,
            "not_found",
            "sign-in is not enabled on this server (GITHUB_OAUTH_CLIENT_ID is not set)".into(),
        );
    };
    if req.method == "OPTIONS" {
        return cors(ApiResponse::text(204, "text/plain", String::new()));
    }
    let cx = context(svc, req, settings);
    let method = req.method.as_str();
    match (method, segments) {
        ("GET", [".well-known", "oauth-protected-resource", rest @ ..]) => {
            protected_resource(svc, req, rest)
        }
        ("GET", [".well-known", "oauth-authorization-server"]) => cors(ApiResponse::json(
            200,
            &metadata::authorization_server(&req.base),
        )),
        ("GET", ["oauth", "authorize"]) => authorize(&cx, req).await,
        ("POST", ["oauth", "consent"]) => consent(&cx, req).await,
        ("GET", ["oauth", "callback"]) => callback(&cx, req).await,
        ("POST", ["oauth", "token"]) => token(&cx, req).await,
        ("POST", ["oauth", "register"]) => register(&cx, req).await,
        ("POST", ["oauth", "revoke"]) => revoke(&cx, req).await,
        _ => route_error(
            404,
            "not_found",
            format!("no route for {} {}", req.method, req.path),
        ),
    }
}

/// Browser-based clients read the documents and call the token endpoints from
/// other origins; nothing here rides on cookies, so any origin may.
/// What a sign-in step works with, for this request.
pub fn context<'a, E: Effects>(
    svc: &'a Service<'_, E>,
    req: &'a ApiRequest,
    settings: &'a crate::config::OAuthConfig,
) -> Context<'a, E::OAuth> {
    Context {
        config: svc.config,
        settings,
        effects: svc.oauth,
        base: &req.base,
        now: svc.clock.now_ms() / 1000,
        user_agent: USER_AGENT,
    }
}

fn cors(resp: ApiResponse) -> ApiResponse {
    resp.with_header("access-control-allow-origin", "*")
        .with_header("access-control-allow-methods", "GET, POST, OPTIONS")
        .with_header(
            "access-control-allow-headers",
            "authorization, content-type, mcp-protocol-version",
        )
        .with_header("access-control-max-age", "86400")
}

fn protected_resource<E: Effects>(
    svc: &Service<'_, E>,
    req: &ApiRequest,
    rest: &[&str],
) -> ApiResponse {
    let repo = match rest {
        [] | ["mcp"] => Some(svc.config.default_repo.clone()),
        ["mcp", owner, name] => svc.config.for_repo(owner, name).map(|c| c.repo),
        _ => None,
    };
    match repo {
        Some(r) => cors(ApiResponse::json(
            200,
            &metadata::protected_resource(&req.base, &resource_path(svc.config, &r)),
        )),
        None => route_error(
            404,
            "not_found",
            format!("{} is not a resource this server serves", req.path),
        ),
    }
}

/// A 302 to `to`, never cached.
pub fn redirect(to: String) -> ApiResponse {
    ApiResponse::text(302, "text/plain", String::new())
        .with_header("location", to)
        .with_header("cache-control", "no-store")
}

/// A sign-in that cannot go on: back to the client, or a page saying why.
pub fn refused(r: Refused) -> ApiResponse {
    match r {
        Refused::Redirect(to) => redirect(to),
        Refused::Page(why) => ApiResponse::text(
            400,
            "text/plain; charset=utf-8",
            format!("Sign-in failed: {why}\n"),
        )
        .with_header("cache-control", "no-store"),
    }
}

/// The cookie that binds a sign-in to the browser that started it (`__Host-` over
/// https, see [`cookie_name`]).
const BROWSER_COOKIE: &str = "wc_signin";

/// The secret of the browser's sign-in cookie, if it sent one.
pub fn browser_of(req: &ApiRequest) -> Option<String> {
    req.cookie(&cookie_name(&req.base, BROWSER_COOKIE))
}

/// Gives the browser its sign-in cookie (ten minutes).
pub fn set_browser_cookie(resp: ApiResponse, base: &str, secret: &str) -> ApiResponse {
    let name = cookie_name(base, BROWSER_COOKIE);
    resp.with_header("set-cookie", set_cookie(base, &name, secret, 600))
}

async fn authorize<O: OAuthEffects>(cx: &Context<'_, O>, req: &ApiRequest) -> ApiResponse {
    let q = |name: &str| req.query_param(name);
    let ask = AuthorizeRequest {
        response_type: q("response_type"),
        client_id: q("client_id"),
        redirect_uri: q("redirect_uri"),
        state: q("state"),
        code_challenge: q("code_challenge"),
        code_challenge_method: q("code_challenge_method"),
        scope: q("scope"),
        resource: q("resource"),
    };
    let browser = browser_of(req).unwrap_or_else(|| cx.effects.secret());
    match flow::authorize(cx, &ask, &browser).await {
        Ok(consent) => set_browser_cookie(consent_page(&consent), cx.base, &browser),
        Err(r) => refused(r),
    }
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The page that asks the person: who asks, for which repository, what it may do,
/// and where the answer goes. It cannot be framed (clickjacking).
fn consent_page(c: &Consent) -> ApiResponse {
    let name = escape(c.client_name.as_deref().unwrap_or("An MCP client"));
    let what = match c.scope.contains(crate::auth::access::SCOPE_WRITE) {
        true => "read and write",
        false => "read",
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Sign in: watercooler</title></head>\
<body style=\"font-family: sans-serif; max-width: 36em; margin: 3em auto\"><h1>Allow {name}?</h1>\
<p><b>{name}</b> (client <code>{id}</code>) asks to {what} the threads of <b>{repo}</b> as you, as far as your access on GitHub allows.</p>\
<p>After you sign in with GitHub you will be sent to <code>{to}</code>.</p>\
<p>Continue only if you started this from your own client.</p>\
<form method=\"post\" action=\"/oauth/consent\"><input type=\"hidden\" name=\"key\" value=\"{key}\">\
<button name=\"decision\" value=\"approve\">Continue with GitHub</button> <button name=\"decision\" value=\"deny\">Cancel</button></form></body></html>",
        id = escape(&c.client_id),
        repo = escape(&c.repo),
        to = escape(&c.redirect_uri),
        key = escape(&c.key),
    );
    ApiResponse::text(200, "text/html; charset=utf-8", html)
        .with_header("cache-control", "no-store")
        .with_header("x-frame-options", "DENY")
        .with_header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        )
}

async fn consent<O: OAuthEffects>(cx: &Context<'_, O>, req: &ApiRequest) -> ApiResponse {
    let form = form(&req.body);
    let key = form.get("key").map(String::as_str).unwrap_or("");
    let approved = form.get("decision").map(String::as_str) == Some("approve");
    let browser = browser_of(req).unwrap_or_default();
    match flow::consent(cx, key, approved, &browser).await {
        Ok(to) => redirect(to),
        Err(r) => refused(r),
    }
}

async fn callback<O: OAuthEffects>(cx: &Context<'_, O>, req: &ApiRequest) -> ApiResponse {
    let cb = Callback {
        code: req.query_param("code"),
        state: req.query_param("state"),
        error: req.query_param("error"),
    };
    let browser = browser_of(req).unwrap_or_default();
    match flow::callback(cx, &cb, &browser).await {
        Ok(to) => redirect(to),
        Err(r) => refused(r),
    }
}

fn token_refusal(e: &TokenError) -> ApiResponse {
    let status = match e.code {
        "invalid_client" => 401,
        "temporarily_unavailable" => 503,
        _ => 400,
    };
    cors(ApiResponse::json(
        status,
        &json!({"error": e.code, "error_description": e.description}),
    ))
    .with_header("cache-control", "no-store")
}

async fn token<O: OAuthEffects>(cx: &Context<'_, O>, req: &ApiRequest) -> ApiResponse {
    match flow::token(cx, &form(&req.body)).await {
        Ok(t) => cors(ApiResponse::json(
            200,
            &json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "refresh_token": t.refresh_token,
                "scope": t.scope,
            }),
        ))
        .with_header("cache-control", "no-store"),
        Err(e) => token_refusal(&e),
    }
}

async fn register<O: OAuthEffects>(cx: &Context<'_, O>, req: &ApiRequest) -> ApiResponse {
    // Only a hash of the caller's address is kept, for the hour the limit counts.
    let who = crate::auth::token_hash(req.header("cf-connecting-ip").unwrap_or("unknown"));
    match clients::register(cx.effects, &req.body, cx.now, &who).await {
        Ok(c) => cors(ApiResponse::json(
            201,
            &json!({
                "client_id": c.client_id,
                "client_id_issued_at": c.issued_at,
                "client_name": c.client_name,
                "redirect_uris": c.redirect_uris,
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            }),
        )),
        Err(e) => {
            let status = match (e.code, e.retry_after) {
                (_, Some(_)) => 429,
                ("temporarily_unavailable", None) => 503,
                _ => 400,
            };
            let resp = cors(ApiResponse::json(
                status,
                &json!({"error": e.code, "error_description": e.description}),
            ));
            match e.retry_after {
                Some(s) => resp.with_header("retry-after", s.to_string()),
                None => resp,
            }
        }
    }
}

async fn revoke<O: OAuthEffects>(cx: &Context<'_, O>, req: &ApiRequest) -> ApiResponse {
    let token = form(&req.body).remove("token").unwrap_or_default();
    match flow::revoke(cx, &token).await {
        Ok(()) => cors(ApiResponse::json(200, &json!({}))),
        Err(e) => token_refusal(&e),
    }
}

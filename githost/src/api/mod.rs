//! The GitHub REST subset: request classification, the per-request pipeline
//! (access checks, pacing, latency, faults, rate-limit headers, stats) and dispatch.

pub mod access;
pub mod accounts;
pub mod apps;
pub mod contents;
pub mod gitdata;
pub mod payload;
pub mod render;
pub mod repos;

use std::collections::HashMap;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::encoding::decode_percent;
use crate::errors::{ApiError, ApiResult};
use crate::faults::{Fault, FaultMode};
use crate::git::{Repo, Signature};
use crate::pacing;
use crate::ratelimit::{LIMIT_ANONYMOUS, LIMIT_AUTHENTICATED};
use crate::state::{lock, now_secs, SharedState};
use crate::webhooks::{self, hook, Pusher, RefChange};
use access::{Access, Caller};

/// Largest request body accepted (GitHub's own limit is about 100 MB of content).
pub const MAX_BODY_BYTES: usize = 150 * 1024 * 1024;

/// An operation on a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /repos/{o}/{r}`
    GetRepo,
    /// `GET .../contents/{path}`
    GetContents(String),
    /// `PUT .../contents/{path}`
    PutContents(String),
    /// `GET .../git/ref/{ref}` and `GET .../git/refs/{ref}`
    GetRef(String),
    /// `POST .../git/refs`
    CreateRef,
    /// `PATCH .../git/refs/{ref}`
    UpdateRef(String),
    /// `DELETE .../git/refs/{ref}`
    DeleteRef(String),
    /// `GET .../git/commits/{sha}`
    GetCommit(String),
    /// `POST .../git/commits`
    CreateCommit,
    /// `GET .../git/trees/{sha}`
    GetTree(String),
    /// `POST .../git/trees`
    CreateTree,
    /// `GET .../git/blobs/{sha}`
    GetBlob(String),
    /// `POST .../git/blobs`
    CreateBlob,
    /// `GET .../installation` (the app's JWT)
    GetInstallation,
    /// `GET .../collaborators/{username}/permission`
    GetCollaboratorPermission(String),
}

/// An operation not tied to one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountEndpoint {
    /// `POST /app/installations/{id}/access_tokens` (the app's JWT)
    CreateAccessToken(u64),
    /// `GET /user`
    GetUser,
}

/// A classified request.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// Route name without method, e.g. `contents`, `git/refs`.
    pub name: String,
    /// Repository and endpoint, when the request is one we serve.
    pub target: Option<(String, String, Endpoint)>,
    /// The endpoint of a served request outside `/repos/`.
    pub account: Option<AccountEndpoint>,
}

impl RouteInfo {
    /// Key used in stats: `"<METHOD> <name>"`.
    pub fn key(&self, method: &Method) -> String {
        format!("{} {}", method.as_str(), self.name)
    }

    /// Whether the route is authenticated with the GitHub App's JWT.
    pub fn needs_app_jwt(&self) -> bool {
        matches!(&self.target, Some((_, _, Endpoint::GetInstallation)))
            || matches!(self.account, Some(AccountEndpoint::CreateAccessToken(_)))
    }

    fn unknown(name: &str) -> Self {
        RouteInfo {
            name: name.to_string(),
            target: None,
            account: None,
        }
    }
}

/// Classify `/user` and `/app/installations/{id}/access_tokens`.
fn classify_account(method: &Method, segments: &[&str]) -> Option<RouteInfo> {
    let account = match segments {
        ["user"] => {
            let ep = (*method == Method::GET).then_some(AccountEndpoint::GetUser);
            ("user", ep)
        }
        ["app", "installations", id, "access_tokens"] => {
            let id = id.parse().ok().filter(|_| *method == Method::POST);
            (
                "app/access_tokens",
                id.map(AccountEndpoint::CreateAccessToken),
            )
        }
        _ => return None,
    };
    Some(RouteInfo {
        name: account.0.to_string(),
        target: None,
        account: account.1,
    })
}

/// The Git Data endpoint for `git/<kind>/<rest>`.
fn classify_git(method: &Method, kind: &str, rest: String) -> Option<Endpoint> {
    let has_rest = !rest.is_empty();
    match (kind, method) {
        ("ref", &Method::GET) if has_rest => Some(Endpoint::GetRef(rest)),
        ("refs", &Method::GET) if has_rest => Some(Endpoint::GetRef(rest)),
        ("refs", &Method::POST) if !has_rest => Some(Endpoint::CreateRef),
        ("refs", &Method::PATCH) if has_rest => Some(Endpoint::UpdateRef(rest)),
        ("refs", &Method::DELETE) if has_rest => Some(Endpoint::DeleteRef(rest)),
        ("commits", &Method::GET) if has_rest => Some(Endpoint::GetCommit(rest)),
        ("commits", &Method::POST) if !has_rest => Some(Endpoint::CreateCommit),
        ("trees", &Method::GET) if has_rest => Some(Endpoint::GetTree(rest)),
        ("trees", &Method::POST) if !has_rest => Some(Endpoint::CreateTree),
        ("blobs", &Method::GET) if has_rest => Some(Endpoint::GetBlob(rest)),
        ("blobs", &Method::POST) if !has_rest => Some(Endpoint::CreateBlob),
        _ => None,
    }
}

/// Classify a request by method and raw (percent-encoded) path.
pub fn classify(method: &Method, raw_path: &str) -> RouteInfo {
    // HEAD is served like GET (hyper omits the body).
    let method = if *method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let segments: Vec<&str> = raw_path.trim_start_matches('/').split('/').collect();
    if let Some(route) = classify_account(method, &segments) {
        return route;
    }
    if segments.first() != Some(&"repos") || segments.len() < 3 {
        return RouteInfo::unknown("other");
    }
    let (Some(owner), Some(repo)) = (decode_percent(segments[1]), decode_percent(segments[2]))
    else {
        return RouteInfo::unknown("other");
    };
    let join_rest = |from: usize| -> Option<String> {
        let rest = segments
            .get(from..)
            .map(|s| s.join("/"))
            .unwrap_or_default();
        decode_percent(rest.trim_end_matches('/'))
    };
    let get = *method == Method::GET;
    let (name, endpoint) = match segments.get(3).copied() {
        None | Some("") => ("repo".to_string(), get.then_some(Endpoint::GetRepo)),
        Some("contents") => {
            let path = join_rest(4);
            let ep = match (method, path) {
                (&Method::GET, Some(p)) => Some(Endpoint::GetContents(p)),
                (&Method::PUT, Some(p)) => Some(Endpoint::PutContents(p)),
                _ => None,
            };
            ("contents".to_string(), ep)
        }
        Some("git") => {
            let kind = segments.get(4).copied().unwrap_or("");
            let rest = join_rest(5).unwrap_or_default();
            (format!("git/{kind}"), classify_git(method, kind, rest))
        }
        Some("installation") => {
            let ep = (get && segments.len() == 4).then_some(Endpoint::GetInstallation);
            ("installation".to_string(), ep)
        }
        Some("collaborators") => {
            let ep = match segments.get(4..) {
                Some([user, "permission"]) if get => decode_percent(user)
                    .filter(|u| !u.is_empty())
                    .map(Endpoint::GetCollaboratorPermission),
                _ => None,
            };
            ("collaborators".to_string(), ep)
        }
        Some(other) => (other.to_string(), None),
    };
    RouteInfo {
        name,
        target: endpoint.map(|ep| (owner, repo, ep)),
        account: None,
    }
}

/// Per-request context handed to endpoint handlers.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Shared state.
    pub state: SharedState,
    /// Repository owner from the URL (empty outside `/repos/`).
    pub owner: String,
    /// Repository name from the URL (empty outside `/repos/`).
    pub repo: String,
    /// The caller's token (for per-token ETags).
    pub token: String,
    /// What the token stands for.
    pub caller: Caller,
    /// Request headers.
    pub headers: HeaderMap,
    /// Query parameters.
    pub query: HashMap<String, String>,
}

impl Ctx {
    /// `<base>/repos/<owner>/<repo>`
    pub fn api_url(&self) -> String {
        format!("{}/repos/{}/{}", self.state.base_url, self.owner, self.repo)
    }

    /// `<base>/<owner>/<repo>` (stands in for github.com pages).
    pub fn html_url(&self) -> String {
        format!("{}/{}/{}", self.state.base_url, self.owner, self.repo)
    }

    /// `<base>/_githost/raw/<owner>/<repo>` (stands in for raw.githubusercontent.com).
    pub fn raw_url(&self) -> String {
        format!(
            "{}/_githost/raw/{}/{}",
            self.state.base_url, self.owner, self.repo
        )
    }

    /// Open the repository or answer 404. A repository without a
    /// `post-receive` hook gets githost's (see [`crate::webhooks::hook`]).
    pub fn open_repo(&self) -> ApiResult<Repo> {
        let path = self
            .state
            .repo_path(&self.owner, &self.repo)
            .ok_or_else(ApiError::not_found)?;
        let repo = Repo::new(path);
        if !repo.exists() {
            return Err(ApiError::not_found());
        }
        if let Err(e) = hook::ensure(repo.path(), false) {
            eprintln!(
                "githost: cannot install the post-receive hook of {}/{}: {e}",
                self.owner, self.repo
            );
        }
        Ok(repo)
    }

    /// Who pushes when this request moves a branch (webhook `pusher` and
    /// `sender`): the app's bot, the user of a user token, else the dev user.
    pub fn pusher(&self) -> Pusher {
        match &self.caller {
            Caller::Installation(_) => match &self.state.identity.app {
                Some(app) => {
                    let bot = app.bot_identity();
                    Pusher {
                        login: bot.name.clone(),
                        name: bot.name,
                        email: bot.email,
                        bot: true,
                    }
                }
                None => Pusher::dev_user(&self.state),
            },
            Caller::User(grant) => Pusher::user(&grant.login),
            Caller::Token | Caller::App => Pusher::dev_user(&self.state),
        }
    }

    /// Send a `push` webhook (when configured) for `full_ref` having moved
    /// from `before` to `after` ([`crate::git::ZERO_SHA`] for none).
    pub fn notify_push(&self, full_ref: &str, before: &str, after: &str) {
        let change = RefChange {
            owner: self.owner.clone(),
            name: self.repo.clone(),
            full_ref: full_ref.to_string(),
            before: before.to_string(),
            after: after.to_string(),
        };
        webhooks::notify(&self.state, change, self.pusher());
    }

    /// Who commits made by this request are by when it names nobody: the app's
    /// bot for an installation token, the user for a user token, else githost.
    pub fn commit_identity(&self) -> Signature {
        match &self.caller {
            Caller::Installation(_) => self
                .state
                .identity
                .app
                .as_ref()
                .map_or_else(Signature::default_identity, |app| app.bot_identity()),
            Caller::User(grant) => crate::users::user_signature(&grant.login),
            Caller::Token | Caller::App => Signature::default_identity(),
        }
    }

    /// Whether the client asked for raw content.
    pub fn wants_raw(&self) -> bool {
        self.headers
            .get_all(axum::http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|a| a.contains("vnd.github.raw") || a.contains("vnd.github.v3.raw"))
    }
}

/// Entry point for every non-admin request.
///
/// Order: access checks and the pacing rule are decided on arrival (so the
/// pacing clock sees real arrival times), then the injected latency is slept,
/// then a refusal or access error is answered, or faults are matched and the
/// endpoint runs. A request refused by pacing consumes no fault.
pub async fn handle(State(state): State<SharedState>, request: Request) -> Response {
    let arrival = Instant::now();
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let route = classify(&method, &path);

    let access = access::check(&state, &parts.headers, &method, &route, now_secs());
    let paced = match &access {
        Ok(_) if pacing::applies_to(&method, &path) => lock(&state.pacing).admit(arrival).err(),
        _ => None,
    };

    let delay = lock(&state.latency).sample();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let (mut response, access) = match (access, paced) {
        (Err(err), _) => (err.into_response(), None),
        (Ok(access), Some(remaining)) => (pacing::refusal(remaining), Some(access)),
        (Ok(access), None) => {
            let fault = lock(&state.faults).take(method.as_str(), &route.name, &path);
            let hold = |f: &Option<Fault>| {
                let ms = f.as_ref().map_or(0, |f| f.delay_ms);
                tokio::time::sleep(std::time::Duration::from_millis(ms))
            };
            let response = match fault {
                Some(f) if f.mode == FaultMode::Before && !f.delay_only => {
                    hold(&Some(f.clone())).await;
                    f.response()
                }
                other => {
                    if other.as_ref().is_some_and(|f| f.mode == FaultMode::Before) {
                        hold(&other).await;
                    }
                    let query = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
                        .map(|q| q.0)
                        .unwrap_or_default();
                    let real =
                        run_endpoint(&state, &route, access.clone(), parts.headers, query, body)
                            .await;
                    match other {
                        Some(f) if f.mode == FaultMode::After => {
                            hold(&Some(f.clone())).await;
                            if f.delay_only {
                                real
                            } else {
                                f.response()
                            }
                        }
                        _ => real,
                    }
                }
            };
            (response, Some(access))
        }
    };

    let status = response.status().as_u16();
    let (bucket, limit) = match &access {
        Some(a) => (a.rate_bucket(), LIMIT_AUTHENTICATED),
        None => (String::new(), LIMIT_ANONYMOUS),
    };
    let info = lock(&state.rate).record(&bucket, limit, status != 304, now_secs());
    info.apply(response.headers_mut());
    let mut stats = lock(&state.stats);
    stats.record(method.as_str(), &route.key(&method), status);
    if paced.is_some() {
        stats.pacing_refused += 1;
    }
    drop(stats);
    response
}

/// Read the body and run the endpoint on its own task, so a client that goes
/// away does not interrupt a write half-way (like a real server).
async fn run_endpoint(
    state: &SharedState,
    route: &RouteInfo,
    access: Access,
    headers: HeaderMap,
    query: HashMap<String, String>,
    body: Body,
) -> Response {
    let (owner, repo, endpoint) = match (&route.target, &route.account) {
        (Some((owner, repo, ep)), _) => (owner.clone(), repo.clone(), Target::Repo(ep.clone())),
        (None, Some(ep)) => (String::new(), String::new(), Target::Account(ep.clone())),
        (None, None) => return ApiError::not_found().into_response(),
    };
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
                .into_response()
        }
    };
    let ctx = Ctx {
        state: state.clone(),
        owner,
        repo,
        token: access.token,
        caller: access.caller,
        headers,
        query,
    };
    let task = tokio::spawn(async move {
        let result = match endpoint {
            Target::Repo(endpoint) => dispatch(&ctx, endpoint, body).await,
            Target::Account(endpoint) => dispatch_account(&ctx, endpoint, body).await,
        };
        match result {
            Ok(response) => response,
            Err(err) => err.into_response(),
        }
    });
    match task.await {
        Ok(response) => response,
        Err(err) => ApiError::internal(format!("handler task failed: {err}")).into_response(),
    }
}

/// A served endpoint, in or outside `/repos/`.
enum Target {
    Repo(Endpoint),
    Account(AccountEndpoint),
}

/// Call the handler for an endpoint outside `/repos/`.
async fn dispatch_account(
    ctx: &Ctx,
    endpoint: AccountEndpoint,
    body: Bytes,
) -> ApiResult<Response> {
    match endpoint {
        AccountEndpoint::CreateAccessToken(id) => apps::create_access_token(ctx, id, &body).await,
        AccountEndpoint::GetUser => accounts::get_user(ctx),
    }
}

/// Call the handler for `endpoint`.
async fn dispatch(ctx: &Ctx, endpoint: Endpoint, body: Bytes) -> ApiResult<Response> {
    match endpoint {
        Endpoint::GetRepo => repos::get_repo(ctx).await,
        Endpoint::GetContents(path) => contents::get(ctx, &path).await,
        Endpoint::PutContents(path) => contents::put(ctx, &path, &body).await,
        Endpoint::GetRef(name) => gitdata::get_ref(ctx, &name).await,
        Endpoint::CreateRef => gitdata::create_ref(ctx, &body).await,
        Endpoint::UpdateRef(name) => gitdata::update_ref(ctx, &name, &body).await,
        Endpoint::DeleteRef(name) => gitdata::delete_ref(ctx, &name).await,
        Endpoint::GetCommit(sha) => gitdata::get_commit(ctx, &sha).await,
        Endpoint::CreateCommit => gitdata::create_commit(ctx, &body).await,
        Endpoint::GetTree(sha) => gitdata::get_tree(ctx, &sha).await,
        Endpoint::CreateTree => gitdata::create_tree(ctx, &body).await,
        Endpoint::GetBlob(sha) => gitdata::get_blob(ctx, &sha).await,
        Endpoint::CreateBlob => gitdata::create_blob(ctx, &body).await,
        Endpoint::GetInstallation => apps::get_installation(ctx).await,
        Endpoint::GetCollaboratorPermission(user) => {
            accounts::collaborator_permission(ctx, &user).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_routes() {
        let r = classify(&Method::GET, "/repos/o/r/contents/threads/a%20b.md");
        assert_eq!(r.name, "contents");
        assert_eq!(
            r.target.unwrap().2,
            Endpoint::GetContents("threads/a b.md".into())
        );
        let r = classify(&Method::GET, "/repos/o/r/contents/");
        assert_eq!(r.target.unwrap().2, Endpoint::GetContents(String::new()));
        let r = classify(&Method::GET, "/repos/o/r/contents");
        assert_eq!(r.target.unwrap().2, Endpoint::GetContents(String::new()));
        let r = classify(&Method::PATCH, "/repos/o/r/git/refs/heads/main");
        assert_eq!(r.key(&Method::PATCH), "PATCH git/refs");
        assert_eq!(
            r.target.unwrap().2,
            Endpoint::UpdateRef("heads/main".into())
        );
        let r = classify(&Method::GET, "/repos/o/r/git/ref/heads/main");
        assert_eq!(r.key(&Method::GET), "GET git/ref");
        let r = classify(&Method::DELETE, "/repos/o/r/contents/x");
        assert!(r.target.is_none());
        assert_eq!(classify(&Method::GET, "/users/x").name, "other");
    }

    #[test]
    fn classifies_app_and_user_routes() {
        let r = classify(&Method::GET, "/user");
        assert_eq!(
            (r.name.as_str(), r.account),
            ("user", Some(AccountEndpoint::GetUser))
        );
        let r = classify(&Method::POST, "/app/installations/1001/access_tokens");
        assert_eq!(r.key(&Method::POST), "POST app/access_tokens");
        assert_eq!(r.account, Some(AccountEndpoint::CreateAccessToken(1001)));
        assert!(r.needs_app_jwt());
        let r = classify(&Method::POST, "/app/installations/x/access_tokens");
        assert!(r.account.is_none() && !r.needs_app_jwt());
        let r = classify(&Method::GET, "/repos/o/r/installation");
        assert_eq!(r.name, "installation");
        assert!(r.needs_app_jwt());
        let r = classify(&Method::GET, "/repos/o/r/collaborators/a%2Db/permission");
        assert_eq!(
            r.target.unwrap().2,
            Endpoint::GetCollaboratorPermission("a-b".into())
        );
        assert!(classify(&Method::GET, "/repos/o/r/collaborators/a")
            .target
            .is_none());
        assert!(!classify(&Method::GET, "/repos/o/r").needs_app_jwt());
    }
}

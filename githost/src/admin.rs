//! The admin API under `/_githost/` (no auth, not counted, no latency, no
//! faults, no pacing).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::contents::adopt_unborn_head;
use crate::api::MAX_BODY_BYTES;
use crate::errors::{ApiError, ApiResult};
use crate::faults::FaultSpec;
use crate::git::{self, is_valid_ref_name, Repo, Signature, TreeEdit, ZERO_SHA};
use crate::state::{lock, now_secs, Latency, SharedState};
use crate::stats::Stats;
use crate::users::Users;
use crate::webhooks::{self, hook, Pusher, RefChange, Target};

/// Routes of the admin API.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/_githost/health", get(health))
        .route("/_githost/repos", post(create_repo))
        .route(
            "/_githost/repos/{owner}/{name}",
            get(show_repo).delete(delete_repo),
        )
        .route("/_githost/stats", get(stats))
        .route("/_githost/stats/reset", post(reset_stats))
        .route("/_githost/latency", get(get_latency).put(set_latency))
        .route("/_githost/pacing", get(get_pacing).put(set_pacing))
        .route(
            "/_githost/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_githost/raw/{owner}/{repo}/{reference}/{*path}", get(raw))
        .route("/_githost/users", get(get_users).post(set_users))
        .route("/_githost/oauth/tokens", delete(revoke_user_tokens))
        .route(
            "/_githost/app/tokens/expire",
            post(expire_installation_tokens),
        )
        .route("/_githost/webhook", get(get_webhook).put(set_webhook))
        .route(
            "/_githost/webhook/deliveries",
            get(list_deliveries).delete(clear_deliveries),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Parse a JSON body into `T`, answering 400 with the reason on failure.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

/// `GET /_githost/health`
async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// Body of `POST /_githost/repos`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRepo {
    owner: String,
    name: String,
    default_branch: Option<String>,
    files: Option<BTreeMap<String, String>>,
    message: Option<String>,
}

/// Resolve a repository handle for admin calls (400 on invalid names).
fn admin_repo(state: &SharedState, owner: &str, name: &str) -> ApiResult<Repo> {
    state.repo_path(owner, name).map(Repo::new).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "owner and name may only contain letters, digits, '-', '_' and '.'",
        )
    })
}

/// `{path, head, default_branch}` of a repository.
async fn describe(repo: &Repo) -> ApiResult<Value> {
    let branch = repo.default_branch().await?;
    let head = match &branch {
        Some(b) => repo.branch_head(b).await?,
        None => None,
    };
    Ok(json!({
        "path": repo.path().to_string_lossy(),
        "head": head,
        "default_branch": branch,
    }))
}

/// `POST /_githost/repos`: create (idempotently) and optionally seed a repository.
async fn create_repo(State(state): State<SharedState>, body: Bytes) -> ApiResult<Json<Value>> {
    let req: CreateRepo = parse_json(&body)?;
    let repo = admin_repo(&state, &req.owner, &req.name)?;
    let requested = req.default_branch.clone();
    let init_branch = requested.clone().unwrap_or_else(|| "main".to_string());
    if !is_valid_ref_name(&init_branch) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("invalid branch name {init_branch:?}"),
        ));
    }
    if !repo.exists() {
        if let Some(parent) = repo.path().parent() {
            std::fs::create_dir_all(parent).map_err(ApiError::internal)?;
        }
        git::init_bare(repo.path(), &init_branch).await?;
        hook::install(repo.path()).map_err(ApiError::internal)?;
    }
    let files = req.files.unwrap_or_default();
    if !files.is_empty() {
        let branch = match requested {
            Some(b) => b,
            None => repo
                .default_branch()
                .await?
                .unwrap_or_else(|| "main".to_string()),
        };
        let message = req.message.unwrap_or_else(|| "Seed repository".to_string());
        let change = seed(&repo, &branch, &files, &message).await?;
        let change = RefChange {
            owner: req.owner.clone(),
            name: req.name.clone(),
            ..change
        };
        webhooks::notify(&state, change, Pusher::dev_user(&state));
    }
    Ok(Json(describe(&repo).await?))
}

/// Commit `files` on top of `branch` (creating it if needed); returns the
/// change of the branch (owner and name left empty).
async fn seed(
    repo: &Repo,
    branch: &str,
    files: &BTreeMap<String, String>,
    message: &str,
) -> ApiResult<RefChange> {
    let head = repo.branch_head(branch).await?;
    let mut edits = Vec::with_capacity(files.len());
    for (path, text) in files {
        let path = path.trim_matches('/');
        if !crate::api::payload::valid_repo_path(path) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("invalid file path {path:?}"),
            ));
        }
        let sha = repo.write_blob(text.as_bytes()).await?;
        edits.push(TreeEdit::Entry {
            path: path.to_string(),
            mode: "100644".to_string(),
            sha,
        });
    }
    let tree = repo
        .build_tree(head.as_deref(), &edits)
        .await
        .map_err(crate::api::contents::tree_error)?;
    let parents: Vec<String> = head.iter().cloned().collect();
    let me = Signature::default_identity();
    let commit = repo.commit_tree(&tree, &parents, message, &me, &me).await?;
    let expected = head.unwrap_or_else(|| ZERO_SHA.to_string());
    let full_ref = format!("refs/heads/{branch}");
    if !repo.update_ref(&full_ref, &commit, Some(&expected)).await? {
        return Err(ApiError::conflict(format!(
            "branch {branch} moved while seeding; retry"
        )));
    }
    adopt_unborn_head(repo, branch).await?;
    Ok(RefChange {
        owner: String::new(),
        name: String::new(),
        full_ref,
        before: expected,
        after: commit,
    })
}

/// `GET /_githost/repos/{owner}/{name}`
async fn show_repo(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let repo = admin_repo(&state, &owner, &name)?;
    if !repo.exists() {
        return Err(ApiError::not_found());
    }
    Ok(Json(describe(&repo).await?))
}

/// `DELETE /_githost/repos/{owner}/{name}`
async fn delete_repo(
    State(state): State<SharedState>,
    Path((owner, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let repo = admin_repo(&state, &owner, &name)?;
    let existed = repo.exists();
    if existed {
        std::fs::remove_dir_all(repo.path()).map_err(ApiError::internal)?;
    }
    Ok(Json(json!({ "deleted": existed })))
}

/// `GET /_githost/stats`
async fn stats(State(state): State<SharedState>) -> Json<Stats> {
    Json(lock(&state.stats).clone())
}

/// `POST /_githost/stats/reset`
async fn reset_stats(State(state): State<SharedState>) -> Json<Stats> {
    let mut stats = lock(&state.stats);
    *stats = Stats::default();
    Json(stats.clone())
}

/// `GET /_githost/latency`
async fn get_latency(State(state): State<SharedState>) -> Json<Latency> {
    Json(*lock(&state.latency))
}

/// `PUT /_githost/latency {"ms": N, "jitter_ms"?: M}`
async fn set_latency(State(state): State<SharedState>, body: Bytes) -> ApiResult<Json<Latency>> {
    let latency: Latency = parse_json(&body)?;
    *lock(&state.latency) = latency;
    Ok(Json(latency))
}

/// Body of `PUT /_githost/pacing`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPacing {
    min_gap_ms: u64,
}

/// `{"min_gap_ms": N, "refused": R}`
fn describe_pacing(state: &SharedState) -> Value {
    let min_gap_ms = lock(&state.pacing).min_gap_ms();
    let refused = lock(&state.stats).pacing_refused;
    json!({ "min_gap_ms": min_gap_ms, "refused": refused })
}

/// `GET /_githost/pacing`
async fn get_pacing(State(state): State<SharedState>) -> Json<Value> {
    Json(describe_pacing(&state))
}

/// `PUT /_githost/pacing {"min_gap_ms": N}` (0 disables). Also forgets the
/// previous mutation, so the next mutating request is accepted.
async fn set_pacing(State(state): State<SharedState>, body: Bytes) -> ApiResult<Json<Value>> {
    let req: SetPacing = parse_json(&body)?;
    lock(&state.pacing).set_min_gap_ms(req.min_gap_ms);
    Ok(Json(describe_pacing(&state)))
}

/// `GET /_githost/faults`
async fn list_faults(State(state): State<SharedState>) -> Response {
    Json(lock(&state.faults).list()).into_response()
}

/// `POST /_githost/faults`
async fn add_fault(State(state): State<SharedState>, body: Bytes) -> ApiResult<Response> {
    let spec: FaultSpec = parse_json(&body)?;
    let fault = lock(&state.faults)
        .add(spec)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    Ok((StatusCode::CREATED, Json(fault)).into_response())
}

/// `DELETE /_githost/faults`
async fn clear_faults(State(state): State<SharedState>) -> Json<Value> {
    let cleared = lock(&state.faults).clear();
    Json(json!({ "cleared": cleared }))
}

/// `GET /_githost/users`: the users configuration.
async fn get_users(State(state): State<SharedState>) -> Json<Value> {
    Json(lock(&state.users).to_json())
}

/// `POST /_githost/users`: replace the users configuration (same JSON as
/// `--users`); answers the new configuration.
async fn set_users(State(state): State<SharedState>, body: Bytes) -> ApiResult<Json<Value>> {
    let value: Value = parse_json(&body)?;
    let users = Users::from_json(&value).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let answer = users.to_json();
    *lock(&state.users) = users;
    Ok(Json(answer))
}

/// `DELETE /_githost/oauth/tokens`: revoke every user (`gho_`) token.
async fn revoke_user_tokens(State(state): State<SharedState>) -> Json<Value> {
    let revoked = lock(&state.grants).revoke_user_tokens();
    Json(json!({ "revoked": revoked }))
}

/// `POST /_githost/app/tokens/expire`: make every installation (`ghs_`) token
/// expire now.
async fn expire_installation_tokens(State(state): State<SharedState>) -> Json<Value> {
    let expired = lock(&state.grants).expire_installation_tokens(now_secs());
    Json(json!({ "expired": expired }))
}

/// `{"url", "hook_id", "active"}` of the webhook (the secret is never shown).
fn describe_webhook(state: &SharedState) -> Value {
    match state.webhooks.target() {
        Some(t) => json!({ "url": t.url.as_str(), "hook_id": t.hook_id, "active": true }),
        None => json!({ "url": null, "hook_id": null, "active": false }),
    }
}

/// Body of `PUT /_githost/webhook`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetWebhook {
    url: Option<String>,
    secret: Option<String>,
}

/// `GET /_githost/webhook`
async fn get_webhook(State(state): State<SharedState>) -> Json<Value> {
    Json(describe_webhook(&state))
}

/// `PUT /_githost/webhook {"url": "http://...", "secret": "..."}` sets where
/// `push` webhooks go; `{"url": null}` turns them off. 400 for a URL that is
/// not `http://` or a missing secret.
async fn set_webhook(State(state): State<SharedState>, body: Bytes) -> ApiResult<Json<Value>> {
    let req: SetWebhook = parse_json(&body)?;
    let target = match (req.url, req.secret) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "a webhook needs a secret",
            ))
        }
        (Some(url), Some(secret)) => Some(
            Target::new(&url, &secret).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?,
        ),
    };
    state.webhooks.set_target(target);
    Ok(Json(describe_webhook(&state)))
}

/// `GET /_githost/webhook/deliveries`: the recent deliveries, oldest first.
async fn list_deliveries(State(state): State<SharedState>) -> Json<Value> {
    Json(json!(state.webhooks.deliveries()))
}

/// `DELETE /_githost/webhook/deliveries`: forget them; `{"cleared": n}`.
async fn clear_deliveries(State(state): State<SharedState>) -> Json<Value> {
    Json(json!({ "cleared": state.webhooks.clear_deliveries() }))
}

/// `GET /_githost/raw/{owner}/{repo}/{ref}/{path}`: raw file bytes (the target
/// of `download_url`).
async fn raw(
    State(state): State<SharedState>,
    Path((owner, name, reference, path)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let repo = admin_repo(&state, &owner, &name)?;
    if !repo.exists() {
        return Err(ApiError::not_found());
    }
    let commit = repo
        .resolve_commitish(&reference)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let entry = repo
        .entry_at(&commit, &path)
        .await?
        .filter(|e| e.kind == "blob")
        .ok_or_else(ApiError::not_found)?;
    let data = repo
        .read_blob(&entry.sha)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut response = data.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}

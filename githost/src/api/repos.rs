//! `GET /repos/{owner}/{repo}`: minimal repository metadata.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::access::Caller;
use super::render::repo_id;
use super::Ctx;
use crate::errors::ApiResult;
use crate::state::lock;
use crate::users::Role;

/// Repository metadata (id, names, default branch, permissions).
pub async fn get_repo(ctx: &Ctx) -> ApiResult<Response> {
    let repo = ctx.open_repo()?;
    let default_branch = repo
        .default_branch()
        .await?
        .unwrap_or_else(|| "main".to_string());
    let id = repo_id(&ctx.owner, &ctx.repo);
    let full_name = format!("{}/{}", ctx.owner, ctx.repo);
    Ok(Json(json!({
        "id": id,
        "node_id": format!("R_{id}"),
        "name": ctx.repo,
        "full_name": full_name,
        "private": true,
        "owner": { "login": ctx.owner, "type": "User" },
        "html_url": ctx.html_url(),
        "url": ctx.api_url(),
        "default_branch": default_branch,
        "permissions": permissions(ctx),
    }))
    .into_response())
}

/// The caller's permissions: a user token's come from the users
/// configuration, every other caller has them all.
fn permissions(ctx: &Ctx) -> Value {
    let role = match &ctx.caller {
        Caller::User(grant) => lock(&ctx.state.users)
            .role(&grant.login, &ctx.owner, &ctx.repo)
            .unwrap_or(Role::None),
        _ => Role::Admin,
    };
    role.flags()
}

//! `GET /repos/{owner}/{repo}`: minimal repository metadata.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Ctx;
use crate::errors::ApiResult;

/// Repository metadata (id, names, default branch, permissions).
pub async fn get_repo(ctx: &Ctx) -> ApiResult<Response> {
    let repo = ctx.open_repo()?;
    let default_branch = repo
        .default_branch()
        .await?
        .unwrap_or_else(|| "main".to_string());
    let digest = Sha256::digest(format!("{}/{}", ctx.owner, ctx.repo).as_bytes());
    let id = digest
        .iter()
        .take(4)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
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
        "permissions": { "admin": true, "maintain": true, "push": true, "triage": true, "pull": true },
    }))
    .into_response())
}

//! The GitHub App routes, both authenticated with the app's JWT (checked by
//! [`super::access`]): `GET /repos/{o}/{r}/installation` and
//! `POST /app/installations/{id}/access_tokens`.
//!
//! The app counts as installed on every account (owner directory) with all of
//! its repositories. Installation ids are derived from the owner's name, so
//! they stay the same across restarts. Without a configured app both routes
//! answer 404.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::payload::{parse_object, wrong_type, Object};
use super::render::repo_id;
use super::Ctx;
use crate::encoding::iso8601_utc;
use crate::errors::{ApiError, ApiResult};
use crate::ghapp::GitHubApp;
use crate::grants::{InstallationGrant, INSTALLATION_TOKEN_TTL_SECS};
use crate::state::{lock, now_secs};
use crate::users::user_id;

/// The permissions of every installation.
pub const INSTALLATION_PERMISSIONS: &[(&str, &str)] =
    &[("contents", "write"), ("metadata", "read")];
/// 422 message for a requested repository the installation does not reach.
pub const NOT_ACCESSIBLE_REPOS: &str = "There is at least one repository that does not exist or is not accessible to the parent installation.";
/// 422 message for requested permissions beyond the installation's.
pub const PERMISSIONS_NOT_GRANTED: &str =
    "The permissions requested are not granted to this installation.";
/// Documentation of `GET /repos/{o}/{r}/installation`.
pub const DOC_INSTALLATION: &str =
    "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app";
/// Documentation of `POST /app/installations/{id}/access_tokens`.
pub const DOC_ACCESS_TOKEN: &str =
    "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";

/// Creation date shown for every installation.
const CREATED_AT: &str = "2024-01-01T00:00:00Z";

/// The installation id of the app on `owner` (stable, at least 1000).
pub fn installation_id(owner: &str) -> u64 {
    let digest = Sha256::digest(format!("installation:{owner}").as_bytes());
    let n = digest
        .iter()
        .take(4)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    n % 900_000_000 + 1000
}

/// The configured app, or 404.
fn app(ctx: &Ctx) -> ApiResult<&GitHubApp> {
    ctx.state
        .identity
        .app
        .as_ref()
        .ok_or_else(ApiError::not_found)
}

/// The installation's permissions as a map.
fn granted_permissions() -> BTreeMap<String, String> {
    INSTALLATION_PERMISSIONS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `GET /repos/{o}/{r}/installation`: the app's installation on the owner.
pub async fn get_installation(ctx: &Ctx) -> ApiResult<Response> {
    let app = app(ctx)?;
    ctx.open_repo().map_err(|e| e.doc(DOC_INSTALLATION))?;
    let owner = &ctx.owner;
    let id = installation_id(owner);
    let account_id = user_id(owner);
    let base = &ctx.state.base_url;
    Ok(Json(json!({
        "id": id,
        "account": {
            "login": owner,
            "id": account_id,
            "node_id": format!("U_{account_id}"),
            "type": "User",
            "site_admin": false,
        },
        "repository_selection": "all",
        "access_tokens_url": format!("{base}/app/installations/{id}/access_tokens"),
        "repositories_url": format!("{base}/installation/repositories"),
        "html_url": format!("{base}/settings/installations/{id}"),
        "app_id": app.id_json(),
        "app_slug": app.slug,
        "target_id": account_id,
        "target_type": "User",
        "permissions": granted_permissions(),
        "events": [],
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "single_file_name": null,
        "has_multiple_single_files": false,
        "single_file_paths": [],
        "suspended_by": null,
        "suspended_at": null,
    }))
    .into_response())
}

/// `POST /app/installations/{id}/access_tokens {repositories?, repository_ids?,
/// permissions?}`: a one-hour `ghs_` token.
pub async fn create_access_token(ctx: &Ctx, id: u64, body: &[u8]) -> ApiResult<Response> {
    create_access_token_inner(ctx, id, body).map_err(|e| e.doc(DOC_ACCESS_TOKEN))
}

fn create_access_token_inner(ctx: &Ctx, id: u64, body: &[u8]) -> ApiResult<Response> {
    app(ctx)?;
    let owner = ctx
        .state
        .owners()
        .into_iter()
        .find(|owner| installation_id(owner) == id)
        .ok_or_else(ApiError::not_found)?;
    let obj = parse_object(body)?;
    let available = ctx.state.repos_of(&owner);
    let repositories = selected_repositories(&obj, &owner, &available)?;
    let permissions = requested_permissions(&obj)?;
    let now = now_secs();
    let expires_at = now + INSTALLATION_TOKEN_TTL_SECS;
    let grant = InstallationGrant {
        installation_id: id,
        owner: owner.clone(),
        repositories: repositories.clone(),
        permissions: permissions.clone(),
        expires_at,
    };
    let token = lock(&ctx.state.grants).issue_installation_token(grant, now);
    let mut answer = json!({
        "token": token,
        "expires_at": iso8601_utc(i64::try_from(expires_at).unwrap_or(i64::MAX)),
        "permissions": permissions,
        "repository_selection": if repositories.is_some() { "selected" } else { "all" },
    });
    if let Some(list) = &repositories {
        let repos: Vec<Value> = list.iter().map(|r| repo_json(ctx, &owner, r)).collect();
        answer["repositories"] = Value::Array(repos);
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// A repository inside an access-token answer.
fn repo_json(ctx: &Ctx, owner: &str, name: &str) -> Value {
    let id = repo_id(owner, name);
    json!({
        "id": id,
        "node_id": format!("R_{id}"),
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "private": true,
        "owner": { "login": owner, "type": "User" },
        "url": format!("{}/repos/{owner}/{name}", ctx.state.base_url),
    })
}

/// The repositories named by `repositories` (names) and `repository_ids`;
/// `None` when neither limits the token.
fn selected_repositories(
    obj: &Object,
    owner: &str,
    available: &[String],
) -> ApiResult<Option<Vec<String>>> {
    let not_accessible = || ApiError::unprocessable(NOT_ACCESSIBLE_REPOS);
    let mut chosen = Vec::new();
    for item in array(obj, "repositories")? {
        let Value::String(name) = item else {
            return Err(wrong_type("repositories/items", item, "string"));
        };
        let found = available.iter().find(|a| a.eq_ignore_ascii_case(name));
        chosen.push(found.ok_or_else(not_accessible)?.clone());
    }
    for item in array(obj, "repository_ids")? {
        let id = item
            .as_u64()
            .ok_or_else(|| wrong_type("repository_ids/items", item, "integer"))?;
        let found = available.iter().find(|a| repo_id(owner, a) == id);
        chosen.push(found.ok_or_else(not_accessible)?.clone());
    }
    chosen.sort();
    chosen.dedup();
    Ok((!chosen.is_empty()).then_some(chosen))
}

/// An optional array field (`null` = empty).
fn array<'a>(obj: &'a Object, key: &str) -> ApiResult<&'a [Value]> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong_type(key, other, "array")),
    }
}

/// The token's permissions: the installation's, or the requested subset of
/// them (`metadata: read` is always included).
fn requested_permissions(obj: &Object) -> ApiResult<BTreeMap<String, String>> {
    let granted = granted_permissions();
    let requested: &Map<String, Value> = match obj.get("permissions") {
        None | Some(Value::Null) => return Ok(granted),
        Some(Value::Object(map)) if map.is_empty() => return Ok(granted),
        Some(Value::Object(map)) => map,
        Some(other) => return Err(wrong_type("permissions", other, "object")),
    };
    let mut out = BTreeMap::from([("metadata".to_string(), "read".to_string())]);
    for (name, level) in requested {
        let level = level.as_str().unwrap_or_default();
        let allowed = match granted.get(name).map(String::as_str) {
            Some("write") => level == "read" || level == "write",
            Some("read") => level == "read",
            _ => false,
        };
        if !allowed {
            return Err(ApiError::unprocessable(PERMISSIONS_NOT_GRANTED));
        }
        out.insert(name.clone(), level.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn installation_ids_are_stable_per_owner() {
        assert_eq!(installation_id("acme"), installation_id("acme"));
        assert_ne!(installation_id("acme"), installation_id("other"));
        assert!(installation_id("acme") >= 1000);
    }

    #[test]
    fn repository_selection() {
        let available = vec!["threads".to_string(), "wiki".to_string()];
        let pick = |v: Value| selected_repositories(&obj(v), "acme", &available);
        assert_eq!(pick(json!({})).unwrap(), None);
        assert_eq!(pick(json!({"repositories": []})).unwrap(), None);
        assert_eq!(
            pick(
                json!({"repositories": ["Threads"], "repository_ids": [repo_id("acme", "threads")]})
            )
            .unwrap(),
            Some(vec!["threads".to_string()])
        );
        let err = pick(json!({"repositories": ["nope"]})).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (422, NOT_ACCESSIBLE_REPOS)
        );
        assert!(pick(json!({"repository_ids": [1]})).is_err());
        assert!(pick(json!({"repositories": "threads"})).is_err());
    }

    #[test]
    fn permission_subsets() {
        let perms = |v: Value| requested_permissions(&obj(v));
        assert_eq!(perms(json!({})).unwrap(), granted_permissions());
        let read = perms(json!({"permissions": {"contents": "read"}})).unwrap();
        assert_eq!(read.get("contents").map(String::as_str), Some("read"));
        assert_eq!(read.get("metadata").map(String::as_str), Some("read"));
        for bad in [json!({"issues": "write"}), json!({"metadata": "write"})] {
            let err = perms(json!({ "permissions": bad })).unwrap_err();
            assert_eq!(err.message, PERMISSIONS_NOT_GRANTED);
        }
    }
}

//! Users on GitHub routes: `GET /user` and
//! `GET /repos/{o}/{r}/collaborators/{username}/permission`, answered from the
//! users configuration ([`crate::users`]).

use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::access::Caller;
use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::state::lock;
use crate::users::{user_json, Role};

/// Documentation of `GET /user`.
pub const DOC_USER: &str = "https://docs.github.com/rest/users/users#get-the-authenticated-user";
/// Documentation of the collaborator permission route.
pub const DOC_PERMISSION: &str =
    "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user";

/// `GET /user`: the user of a user token; for a plain token, the dev user.
/// (Installation tokens are refused before this, as on GitHub.)
pub fn get_user(ctx: &Ctx) -> ApiResult<Response> {
    let (login, scope) = match &ctx.caller {
        Caller::User(grant) => (grant.login.clone(), Some(grant.scope.clone())),
        Caller::Token | Caller::App => (ctx.state.identity.dev_user.clone(), None),
        Caller::Installation(_) => {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                super::access::NOT_ACCESSIBLE,
            )
            .doc(DOC_USER))
        }
    };
    let login = lock(&ctx.state.users)
        .login(&login)
        .map_or(login.clone(), str::to_string);
    let mut response = Json(user_json(&ctx.state.base_url, &login)).into_response();
    if let Some(value) = scope.and_then(|s| HeaderValue::from_str(&s).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-oauth-scopes"), value);
    }
    Ok(response)
}

/// `GET /repos/{o}/{r}/collaborators/{username}/permission`: `permission`
/// (admin / write / read / none), the finer `role_name`, and the user.
pub async fn collaborator_permission(ctx: &Ctx, username: &str) -> ApiResult<Response> {
    ctx.open_repo().map_err(|e| e.doc(DOC_PERMISSION))?;
    let users = lock(&ctx.state.users);
    let Some(login) = users.login(username).map(str::to_string) else {
        return Err(
            ApiError::not_found_msg(format!("{username} is not a user")).doc(DOC_PERMISSION)
        );
    };
    let role = users
        .role(&login, &ctx.owner, &ctx.repo)
        .unwrap_or(Role::None);
    drop(users);
    let mut user = user_json(&ctx.state.base_url, &login);
    user["permissions"] = role.flags();
    user["role_name"] = role.name().into();
    Ok(Json(serde_json::json!({
        "permission": role.permission(),
        "role_name": role.name(),
        "user": user,
    }))
    .into_response())
}

//! Who is calling a GitHub route, and whether they may reach it.
//!
//! After the `User-Agent` and bearer-token checks of [`crate::auth`]:
//! - the app routes (`GET /repos/{o}/{r}/installation`,
//!   `POST /app/installations/{id}/access_tokens`) want the app's JWT when an
//!   app is configured (401 with GitHub's JWT messages otherwise);
//! - elsewhere a token in `--token` is a plain token; a `ghs_` token must be an
//!   issued, unexpired installation token and a `gho_` token an issued user
//!   token (else 401 `Bad credentials`); any other token follows the
//!   `--token` rule (any non-empty token when none are configured);
//! - an installation token reaches only its owner's repositories (only the
//!   ones it was limited to, if any) and writes only with `contents: write`;
//!   a user token reaches only repositories where the user's role is not
//!   `none`. Other repositories answer 404 `Not Found`, as on GitHub.

use axum::http::{HeaderMap, Method, StatusCode};

use super::{AccountEndpoint, RouteInfo};
use crate::auth::{bad_credentials, require_token, token_key};
use crate::errors::ApiError;
use crate::grants::{InstallationGrant, UserGrant, INSTALLATION_PREFIX, USER_PREFIX};
use crate::state::{lock, AppState};
use crate::users::Role;

/// Message GitHub answers when an installation token is used beyond its permissions.
pub const NOT_ACCESSIBLE: &str = "Resource not accessible by integration";

/// The kind of credential a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A plain token (one of `--token`, or any token when none are configured).
    Token,
    /// The GitHub App itself (a verified JWT).
    App,
    /// An installation token.
    Installation(InstallationGrant),
    /// A user token from the OAuth flow.
    User(UserGrant),
}

/// A request that passed the access checks.
#[derive(Debug, Clone)]
pub struct Access {
    /// The bearer token as sent.
    pub token: String,
    /// What the token stands for.
    pub caller: Caller,
}

impl Access {
    /// The rate-limit bucket: one per token, one for all of the app's JWTs.
    pub fn rate_bucket(&self) -> String {
        match self.caller {
            Caller::App => token_key("githost:app-jwt"),
            _ => token_key(&self.token),
        }
    }
}

/// Identify the caller of `route` and check it may reach it (at `now`,
/// seconds since the epoch).
pub fn check(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    route: &RouteInfo,
    now: u64,
) -> Result<Access, ApiError> {
    let token = require_token(headers)?;
    let caller = match &state.identity.app {
        Some(app) if route.needs_app_jwt() => {
            let now = i64::try_from(now).unwrap_or(i64::MAX);
            app.verify_jwt(&token, now)
                .map_err(|message| ApiError::new(StatusCode::UNAUTHORIZED, message))?;
            Caller::App
        }
        _ => token_caller(state, &token, now)?,
    };
    reach(state, method, route, &caller)?;
    Ok(Access { token, caller })
}

/// What a non-JWT token stands for.
fn token_caller(state: &AppState, token: &str, now: u64) -> Result<Caller, ApiError> {
    if state.tokens.iter().any(|t| t == token) {
        return Ok(Caller::Token);
    }
    if token.starts_with(INSTALLATION_PREFIX) {
        let grant = lock(&state.grants).installation(token, now);
        return grant.map(Caller::Installation).ok_or_else(bad_credentials);
    }
    if token.starts_with(USER_PREFIX) {
        let grant = lock(&state.grants).user(token);
        return grant.map(Caller::User).ok_or_else(bad_credentials);
    }
    if state.tokens.is_empty() {
        Ok(Caller::Token)
    } else {
        Err(bad_credentials())
    }
}

/// Whether `method` changes something.
fn is_mutating(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Repository scoping of installation and user tokens.
fn reach(
    state: &AppState,
    method: &Method,
    route: &RouteInfo,
    caller: &Caller,
) -> Result<(), ApiError> {
    match caller {
        Caller::Installation(grant) => {
            if let Some((owner, repo, _)) = &route.target {
                if !grant.reaches(owner, repo) {
                    return Err(ApiError::not_found());
                }
                if is_mutating(method) && !grant.can_write_contents() {
                    return Err(ApiError::new(StatusCode::FORBIDDEN, NOT_ACCESSIBLE));
                }
            }
            if route.account == Some(AccountEndpoint::GetUser) {
                return Err(ApiError::new(StatusCode::FORBIDDEN, NOT_ACCESSIBLE));
            }
            Ok(())
        }
        Caller::User(grant) => match &route.target {
            Some((owner, repo, _)) => {
                let role = lock(&state.users).role(&grant.login, owner, repo);
                if role.unwrap_or(Role::None) == Role::None {
                    return Err(ApiError::not_found());
                }
                Ok(())
            }
            None => Ok(()),
        },
        Caller::Token | Caller::App => Ok(()),
    }
}

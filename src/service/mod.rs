//! The application layer that REST and MCP both call: the write commands (say, ack,
//! handoff, set_status) and sync, the author and write rules, the read views, and
//! the input rules. No HTTP here: failures are [`ServiceError`]s, answers are values.

pub mod command;
pub mod effects;
pub mod error;
pub mod events;
pub mod input;
pub mod oauth;
pub mod reads;
pub mod search;
pub mod webhook;

pub use command::{Outcome, Write, WriteKind, Written};
pub use effects::Effects;
pub use error::{ErrorCode, ServiceError};
pub use reads::{Listed, View};

use crate::auth::{AuthError, Principal};
use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;

/// A client token that was missing or wrong, in words that say what to do.
fn unauthorized(e: AuthError) -> ServiceError {
    match e {
        AuthError::Missing => ServiceError::new(
            ErrorCode::Unauthorized,
            "send Authorization: Bearer <token>",
        ),
        AuthError::Invalid => ServiceError::new(
            ErrorCode::Unauthorized,
            "the bearer token is not valid; check it or ask for a new one",
        ),
    }
}

/// The service's version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a request is served with.
pub struct Service<'a, E: Effects> {
    /// The deployment's settings.
    pub config: &'a Config,
    /// Reads: through the cache.
    pub store: Store<'a, E::Git, E::Cache, E::Clock>,
    /// Writes: through the branch's writer.
    pub queue: &'a E::Queue,
    /// Time and randomness.
    pub clock: &'a E::Clock,
    /// Sign-in's effects.
    pub oauth: &'a E::OAuth,
}

impl<E: Effects> Service<'_, E> {
    /// The principal of an `Authorization` header value, if it may use this
    /// request's repository: a static client token, or an access token this service
    /// issued for this repository's MCP URL.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, ServiceError> {
        let token = crate::auth::bearer(authorization).map_err(unauthorized)?;
        if token.starts_with(crate::auth::access::PREFIX) {
            return self.access_principal(token);
        }
        let who = self
            .config
            .tokens
            .principal_of(token)
            .map_err(unauthorized)?;
        let repo = &self.config.repo;
        if !who.may_use(repo, &self.config.default_repo) {
            return Err(ServiceError::new(
                ErrorCode::Forbidden,
                format!(
                    "this token does not open {}/{}; ask the operator to add it to the token's \"repos\"",
                    repo.owner, repo.name
                ),
            ));
        }
        Ok(who.clone())
    }

    /// The person an access token was issued to, if it is valid, unexpired and for
    /// this request's repository (its audience).
    fn access_principal(&self, token: &str) -> Result<Principal, ServiceError> {
        use crate::auth::access::{self, AccessError, SCOPE_WRITE};
        let invalid = |why: &str| ServiceError::new(ErrorCode::InvalidToken, why);
        let Some(oauth) = &self.config.oauth else {
            return Err(invalid(
                "sign-in is not enabled on this server; use a client token",
            ));
        };
        let now = self.clock.now_ms() / 1000;
        let claims = access::verify(&oauth.signing_key, token, now).map_err(|e| match e {
            AccessError::Expired => {
                invalid("the access token expired; refresh it or sign in again")
            }
            AccessError::Invalid => invalid("the access token is not valid; sign in again"),
        })?;
        let repo = &self.config.repo;
        let named = format!("{}/{}", repo.owner, repo.name).to_ascii_lowercase();
        if oauth::repo_of_resource(self.config, &claims.aud).as_ref() != Some(repo)
            || claims.repo != named
        {
            return Err(invalid(&format!(
                "the access token was issued for {}, not {}/{}; sign in for this server's URL",
                claims.aud, repo.owner, repo.name
            )));
        }
        Ok(Principal {
            can_write: claims.has_scope(SCOPE_WRITE),
            user: claims.sub,
            agent: None,
            repos: Some(vec![crate::github::RepoPattern::exact(
                &repo.owner,
                &repo.name,
            )]),
        })
    }
}

//! The application layer that REST and MCP both call: the write commands (say, ack,
//! handoff, set_status) and sync, the author and write rules, the read views, and
//! the input rules. No HTTP here: failures are [`ServiceError`]s, answers are values.

pub mod command;
pub mod effects;
pub mod error;
pub mod input;
pub mod reads;

pub use command::{Outcome, Write, WriteKind, Written};
pub use effects::Effects;
pub use error::{ErrorCode, ServiceError};
pub use reads::{Listed, View};

use crate::auth::{AuthError, Principal};
use crate::config::Config;
use crate::store::Store;

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
}

impl<E: Effects> Service<'_, E> {
    /// The principal of an `Authorization` header value, if it may use this
    /// request's repository.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<&Principal, ServiceError> {
        let who = self
            .config
            .tokens
            .authenticate(authorization)
            .map_err(|e| match e {
                AuthError::Missing => ServiceError::new(
                    ErrorCode::Unauthorized,
                    "send Authorization: Bearer <token>",
                ),
                AuthError::Invalid => ServiceError::new(
                    ErrorCode::Unauthorized,
                    "the bearer token is not valid; check it or ask for a new one",
                ),
            })?;
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
        Ok(who)
    }
}

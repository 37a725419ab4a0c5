//! The HTTP API: `/health` and the REST API v1, as pure functions from request to
//! response over the store.

pub mod commit;
pub mod error;
pub mod http;
pub mod input;
pub mod reads;
mod rest;

pub use error::ApiError;
pub use http::{ApiRequest, ApiResponse};
pub use rest::handle;

use crate::clock::{Clock, Entropy};
use crate::config::{Config, ConfigError};
use crate::store::Store;
use crate::writer::WriteQueue;

/// What a request is served with.
pub struct App<'a, G, C, K, Q> {
    pub config: &'a Config,
    /// Reads: through the cache.
    pub store: Store<'a, G, C, K>,
    /// Writes: through the branch's writer.
    pub queue: &'a Q,
    pub clock: &'a K,
}

impl<G, C, K: Clock + Entropy, Q: WriteQueue> App<'_, G, C, K, Q> {
    /// A fresh Entry-ID.
    pub fn new_entry_id(&self) -> String {
        crate::validate::new_entry_id(
            self.clock.now_ms(),
            self.clock.random_u64(),
            self.clock.random_u64(),
        )
    }
}

/// The service's version, from Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The answer to every request while the configuration is broken: `/health` says so
/// with 503, everything else gets 500. Both name the setting to fix.
pub fn config_error_response(req: &ApiRequest, e: &ConfigError) -> ApiResponse {
    let message = format!("the Worker is misconfigured: {e}");
    if req.path == "/health" {
        return ApiResponse::json(
            503,
            &serde_json::json!({"ok": false, "version": VERSION, "error": {"code": "config_invalid", "setting": e.setting, "message": message}}),
        );
    }
    ApiError::new(500, "config_invalid", message).into_response()
}

#[cfg(test)]
mod tests;

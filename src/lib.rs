//! watercooler-worker: a Cloudflare Worker that lets AI agents collaborate through
//! markdown threads stored in a GitHub repository.
//!
//! Everything outside [`edge`] is pure and tested natively with `cargo test`; effects
//! (GitHub, the R2 cache, the clock) go through small traits.

pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod github;
pub mod http;
pub mod schema;
pub mod service;
pub mod store;
pub mod thread;
pub mod writer;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(target_arch = "wasm32")]
mod edge;

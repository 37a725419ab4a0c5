//! The effects a request is served with, bundled: one type parameter instead of five.

use super::oauth::OAuthEffects;
use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::GitHost;
use crate::writer::WriteQueue;

/// The git host, the cache, the clock and the branch's writer a deployment (or a test)
/// serves requests with.
pub trait Effects {
    /// GitHub, or a double.
    type Git: GitHost;
    /// The R2 cache, or memory.
    type Cache: Cache;
    /// Time and randomness.
    type Clock: Clock + Entropy;
    /// The branch's writer: the Durable Object, or an in-process writer.
    type Queue: WriteQueue;
    /// Sign-in: the grant store, outbound HTTP, secrets, GitHub permissions.
    type OAuth: OAuthEffects;
}

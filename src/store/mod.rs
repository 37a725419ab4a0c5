//! The thread store: reads through the cache.
//!
//! Costs, in git-host requests: a fresh cache hit 0; a miss 1 GET; a stale entry 1
//! conditional GET (a 304 is free on GitHub's side); a listing at most 1 conditional
//! GET plus 1 GET per changed thread. Writes go through the branch writer
//! (`crate::writer`), which keeps this cache current from what it commits.

mod cached;
pub mod list;
pub mod read;
pub mod stale;
pub mod summary;

pub(crate) use cached::{file_key as cached_file_key, get_file as cached_file};
pub use read::{ReadSource, ThreadFile};
pub use summary::ThreadSummary;

use crate::cache::Cache;
use crate::clock::{Clock, Entropy};
use crate::github::{GitHost, GitHubError};

/// Store settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Directory of thread files in the repository; `""` is the root.
    pub threads_dir: String,
    /// How long a cached file or listing is served without asking the git host.
    pub cache_ttl_ms: u64,
    /// How long "no such thread" is believed (a file GitHub answered 404 for, or one a
    /// listing this recent does not hold) without asking again.
    pub not_found_ttl_ms: u64,
    /// Prefix for cache keys, naming the repository and branch.
    pub cache_namespace: String,
}

/// The store over its effects.
pub struct Store<'a, G, C, K> {
    /// The git host.
    pub git: &'a G,
    /// The read cache.
    pub cache: &'a C,
    /// The clock, for cache ages.
    pub clock: &'a K,
    /// Where threads live and how long cached copies last.
    pub config: &'a StoreConfig,
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The thread does not exist.
    ThreadNotFound {
        /// The topic asked for.
        topic: String,
    },
    /// The git host failed.
    GitHub(GitHubError),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::ThreadNotFound { topic } => write!(f, "thread {topic:?} does not exist"),
            StoreError::GitHub(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl<G: GitHost, C: Cache, K: Clock + Entropy> Store<'_, G, C, K> {
    /// The repository path of a topic's file. The topic must be valid.
    pub fn path_of(&self, topic: &str) -> String {
        let name = crate::thread::topic::file_name(topic).unwrap_or_default();
        join_path(&self.config.threads_dir, &name)
    }
}

/// `dir/name`, or `name` when `dir` is the root.
pub fn join_path(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests;

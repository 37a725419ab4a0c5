//! Shared server state: configuration, counters, faults, latency.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::FaultQueue;
use crate::pacing::Pacing;
use crate::ratelimit::RateLimits;
use crate::stats::Stats;

/// Artificial latency added to every GitHub-route request.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Latency {
    /// Fixed delay in milliseconds.
    #[serde(default)]
    pub ms: u64,
    /// Extra random delay in `0..=jitter_ms` milliseconds.
    #[serde(default)]
    pub jitter_ms: u64,
}

impl Latency {
    /// Pick the delay for one request.
    pub fn sample(&self) -> Duration {
        let jitter = if self.jitter_ms == 0 {
            0
        } else {
            random_u64() % (self.jitter_ms + 1)
        };
        Duration::from_millis(self.ms.saturating_add(jitter))
    }
}

/// A random number without extra dependencies (std's randomly keyed hasher).
fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}

/// Test hook run by `PUT contents` right before the branch compare-and-swap,
/// with the repository path and branch; lets tests move the branch meanwhile.
pub type RefUpdateHook = Arc<dyn Fn(&Path, &str) + Send + Sync>;

/// Everything handlers share.
pub struct AppState {
    /// Directory holding `<owner>/<repo>.git`.
    pub dir: PathBuf,
    /// `http://127.0.0.1:<port>`, used to build URLs in responses.
    pub base_url: String,
    /// Accepted tokens; empty = any non-empty token.
    pub tokens: Vec<String>,
    /// Request counters.
    pub stats: Mutex<Stats>,
    /// Scripted failures.
    pub faults: Mutex<FaultQueue>,
    /// Artificial latency.
    pub latency: Mutex<Latency>,
    /// Rate-limit counters.
    pub rate: Mutex<RateLimits>,
    /// Pacing rule for mutating requests (secondary rate limit).
    pub pacing: Mutex<Pacing>,
    /// Optional test hook, see [`RefUpdateHook`].
    pre_ref_update: Mutex<Option<RefUpdateHook>>,
    /// Whether one line per request is logged to stderr.
    log_requests: AtomicBool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("dir", &self.dir)
            .field("base_url", &self.base_url)
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

/// Shared handle on the state.
pub type SharedState = Arc<AppState>;

/// Lock a mutex, recovering from poisoning (the data are plain counters).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `name` is acceptable as an owner or repository name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl AppState {
    /// New state for repositories under `dir`, answering with URLs under `base_url`.
    pub fn new(
        dir: impl Into<PathBuf>,
        base_url: impl Into<String>,
        tokens: Vec<String>,
    ) -> SharedState {
        Arc::new(AppState {
            dir: dir.into(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            tokens,
            stats: Mutex::new(Stats::default()),
            faults: Mutex::new(FaultQueue::default()),
            latency: Mutex::new(Latency::default()),
            rate: Mutex::new(RateLimits::default()),
            pacing: Mutex::new(Pacing::default()),
            pre_ref_update: Mutex::new(None),
            log_requests: AtomicBool::new(true),
        })
    }

    /// Where the bare repository `owner/name` lives (if the names are valid).
    pub fn repo_path(&self, owner: &str, name: &str) -> Option<PathBuf> {
        if !valid_name(owner) || !valid_name(name) {
            return None;
        }
        Some(self.dir.join(owner).join(format!("{name}.git")))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Install or remove the test hook run before `PUT contents` moves a branch.
    pub fn set_pre_ref_update_hook(&self, hook: Option<RefUpdateHook>) {
        *lock(&self.pre_ref_update) = hook;
    }

    /// The installed test hook, if any.
    pub fn pre_ref_update_hook(&self) -> Option<RefUpdateHook> {
        lock(&self.pre_ref_update).clone()
    }

    /// Turn the per-request log lines on or off (tests turn them off).
    pub fn set_request_logging(&self, on: bool) {
        self.log_requests.store(on, Ordering::Relaxed);
    }

    /// Whether per-request log lines are written.
    pub fn request_logging(&self) -> bool {
        self.log_requests.load(Ordering::Relaxed)
    }

    /// Count a commit created through the GitHub API.
    pub fn count_commit(&self) {
        lock(&self.stats).commits += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("my-repo.io"));
        assert!(!valid_name(".."));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(""));
    }

    #[test]
    fn latency_bounds() {
        let l = Latency {
            ms: 5,
            jitter_ms: 3,
        };
        for _ in 0..50 {
            let d = l.sample().as_millis();
            assert!((5..=8).contains(&d));
        }
    }
}

//! Shared server state: configuration, counters, faults, latency, the GitHub
//! App and OAuth settings, users, issued credentials and webhooks.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Config, DEFAULT_DEV_USER};
use crate::faults::FaultQueue;
use crate::ghapp::GitHubApp;
use crate::grants::Grants;
use crate::pacing::Pacing;
use crate::ratelimit::RateLimits;
use crate::stats::Stats;
use crate::users::Users;
use crate::webhooks::Webhooks;

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

/// Fixed settings of the GitHub App and OAuth parts.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The GitHub App, if configured.
    pub app: Option<GitHubApp>,
    /// OAuth client id `/login/oauth/*` require; `None` = any.
    pub oauth_client_id: Option<String>,
    /// OAuth client secret `/login/oauth/access_token` requires; `None` = any.
    pub oauth_client_secret: Option<String>,
    /// Who `/login/oauth/authorize` signs in by default.
    pub dev_user: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            app: None,
            oauth_client_id: None,
            oauth_client_secret: None,
            dev_user: DEFAULT_DEV_USER.to_string(),
        }
    }
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
    /// GitHub App and OAuth settings.
    pub identity: Identity,
    /// Known users and their permissions (replaceable at runtime).
    pub users: Mutex<Users>,
    /// Issued installation tokens, OAuth codes and user tokens.
    pub grants: Mutex<Grants>,
    /// Where `push` webhooks go, and the recent deliveries.
    pub webhooks: Webhooks,
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

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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
        Self::build(
            dir.into(),
            base_url.into(),
            tokens,
            Identity::default(),
            Users::default(),
            Webhooks::default(),
        )
    }

    /// New state from a configuration (repositories under `config.dir` as
    /// given), answering with URLs under `base_url`.
    pub fn configure(config: &Config, base_url: impl Into<String>) -> Result<SharedState, String> {
        let identity = Identity {
            app: config.app()?,
            oauth_client_id: config.oauth_client_id.clone(),
            oauth_client_secret: config.oauth_client_secret.clone(),
            dev_user: config.dev_user.clone(),
        };
        Ok(Self::build(
            config.dir.clone(),
            base_url.into(),
            config.tokens.clone(),
            identity,
            config.users.clone(),
            Webhooks::new(config.webhook_target()?),
        ))
    }

    fn build(
        dir: PathBuf,
        base_url: String,
        tokens: Vec<String>,
        identity: Identity,
        users: Users,
        webhooks: Webhooks,
    ) -> SharedState {
        Arc::new(AppState {
            dir,
            base_url: base_url.trim_end_matches('/').to_string(),
            tokens,
            stats: Mutex::new(Stats::default()),
            faults: Mutex::new(FaultQueue::default()),
            latency: Mutex::new(Latency::default()),
            rate: Mutex::new(RateLimits::default()),
            pacing: Mutex::new(Pacing::default()),
            identity,
            users: Mutex::new(users),
            grants: Mutex::new(Grants::default()),
            webhooks,
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

    /// Names of the repositories under `owner` (sorted; empty if none).
    pub fn repos_of(&self, owner: &str) -> Vec<String> {
        if !valid_name(owner) {
            return Vec::new();
        }
        let Ok(entries) = std::fs::read_dir(self.dir.join(owner)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_str()?.strip_suffix(".git")?.to_string();
                let path = e.path();
                let is_repo = path.join("HEAD").is_file() && path.join("objects").is_dir();
                (is_repo && valid_name(&name)).then_some(name)
            })
            .collect();
        names.sort();
        names
    }

    /// Owners (directories under the data directory) with a valid name.
    pub fn owners(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|name| valid_name(name))
            .collect();
        names.sort();
        names
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

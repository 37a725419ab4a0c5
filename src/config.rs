//! Settings, read from the Worker's vars and secrets through a lookup function, so
//! the parsing and its error messages are tested natively.

use crate::auth::AuthTokens;
use crate::github::Repo;

pub const DEFAULT_BRANCH: &str = "main";
pub const DEFAULT_API_BASE: &str = "https://api.github.com";
pub const DEFAULT_CACHE_TTL_SECONDS: u64 = 30;
pub const MAX_CACHE_TTL_SECONDS: u64 = 86_400;

/// How long a GitHub request may take before it counts as failed.
pub const DEFAULT_GITHUB_TIMEOUT_SECONDS: u64 = 10;
/// How long "this thread does not exist" is believed without asking GitHub again.
pub const DEFAULT_NOT_FOUND_CACHE_SECONDS: u64 = 10;

/// Every setting the Worker reads.
pub const SETTINGS: [&str; 15] = [
    "GITHUB_REPO",
    "GITHUB_BRANCH",
    "THREADS_DIR",
    "GITHUB_API_BASE",
    "CACHE_TTL_SECONDS",
    "GITHUB_TOKEN",
    "AUTH_TOKENS",
    "ALLOWED_ORIGINS",
    "WRITE_PACING_MS",
    "WRITE_WAIT_SECONDS",
    "WRITE_MAX_ATTEMPTS",
    "GITHUB_TIMEOUT_SECONDS",
    "WRITE_SUBREQUEST_BUDGET",
    "MAX_THREAD_BYTES",
    "NOT_FOUND_CACHE_SECONDS",
];

/// The Worker's configuration.
#[derive(Clone)]
pub struct Config {
    pub repo: Repo,
    /// Directory of thread files, without leading or trailing `/`; `""` is the root.
    pub threads_dir: String,
    pub api_base: String,
    pub cache_ttl_seconds: u64,
    pub github_token: String,
    pub tokens: AuthTokens,
    /// Browser origins allowed to call `/mcp` (`*` for any). Requests without an
    /// `Origin` header are not affected.
    pub allowed_origins: Vec<String>,
    /// How the branch writer paces, waits and gives up.
    pub writer: crate::writer::WriterConfig,
    /// Every GitHub request gives up after this long.
    pub github_timeout_ms: u64,
    /// How long a "not found" is cached.
    pub not_found_cache_seconds: u64,
}

impl Config {
    /// Whether a request with this `Origin` header may call `/mcp`.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin.trim_end_matches('/')))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("repo", &self.repo)
            .field("threads_dir", &self.threads_dir)
            .field("api_base", &self.api_base)
            .field("cache_ttl_seconds", &self.cache_ttl_seconds)
            .field("github_token", &"<secret>")
            .field("tokens", &format!("<{} client tokens>", self.tokens.len()))
            .field("allowed_origins", &self.allowed_origins)
            .field("writer", &self.writer)
            .finish()
    }
}

/// A missing or invalid setting, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

fn err(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl Config {
    /// Reads the configuration; `get` returns a var or secret by name (unset or empty
    /// strings count as missing).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let repo_s = get("GITHUB_REPO").ok_or_else(|| {
            err("GITHUB_REPO", "is not set; set it to the threads repository as owner/name in wrangler.toml [vars] or .dev.vars")
        })?;
        let (owner, name) = repo_s
            .split_once('/')
            .filter(|(o, n)| is_name(o) && is_name(n))
            .ok_or_else(|| {
                err(
                    "GITHUB_REPO",
                    format!("must look like owner/name, got {repo_s:?}"),
                )
            })?;

        let branch = get("GITHUB_BRANCH").unwrap_or_else(|| DEFAULT_BRANCH.to_string());
        if branch.contains("..")
            || branch
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
        {
            return Err(err(
                "GITHUB_BRANCH",
                format!("{branch:?} is not a valid branch name"),
            ));
        }

        let dir = get("THREADS_DIR").unwrap_or_default();
        let threads_dir = dir.trim_matches('/').to_string();
        if !threads_dir.is_empty() && !threads_dir.split('/').all(is_name) {
            return Err(err(
                "THREADS_DIR",
                format!("{dir:?} must be a path of letters, digits, '.', '_' and '-' segments (or empty for the repository root)"),
            ));
        }

        let api_base = get("GITHUB_API_BASE").unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(err(
                "GITHUB_API_BASE",
                format!("must be an http(s) URL, got {api_base:?}"),
            ));
        }

        let cache_ttl_seconds = match get("CACHE_TTL_SECONDS") {
            None => DEFAULT_CACHE_TTL_SECONDS,
            Some(s) => s
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_CACHE_TTL_SECONDS)
                .ok_or_else(|| err("CACHE_TTL_SECONDS", format!("must be a whole number of seconds from 0 to {MAX_CACHE_TTL_SECONDS}, got {s:?}")))?,
        };

        let github_token = get("GITHUB_TOKEN").ok_or_else(|| {
            err("GITHUB_TOKEN", "is not set; run `wrangler secret put GITHUB_TOKEN` (or set it in .dev.vars for local development)")
        })?;

        let tokens_json = get("AUTH_TOKENS").ok_or_else(|| {
            err("AUTH_TOKENS", "is not set; it maps sha256(client token) to {\"user\", \"scopes\"}: see .dev.vars.example")
        })?;
        let tokens = AuthTokens::parse(&tokens_json).map_err(|m| err("AUTH_TOKENS", m))?;

        let allowed_origins: Vec<String> = get("ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if let Some(bad) = allowed_origins
            .iter()
            .find(|o| *o != "*" && !(o.starts_with("https://") || o.starts_with("http://")))
        {
            return Err(err(
                "ALLOWED_ORIGINS",
                format!("{bad:?} is not an origin; use a comma-separated list like https://app.example.com, or *"),
            ));
        }

        let number =
            |name: &'static str, default: u64, max: u64, unit: &str| -> Result<u64, ConfigError> {
                match get(name) {
                    None => Ok(default),
                    Some(s) => s.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| {
                        err(
                            name,
                            format!("must be a whole number of {unit} from 0 to {max}, got {s:?}"),
                        )
                    }),
                }
            };
        let defaults = crate::writer::WriterConfig::default();
        let writer = crate::writer::WriterConfig {
            pacing_ms: number(
                "WRITE_PACING_MS",
                defaults.pacing_ms,
                60_000,
                "milliseconds",
            )?,
            wait_ms: number("WRITE_WAIT_SECONDS", defaults.wait_ms / 1000, 60, "seconds")? * 1000,
            max_attempts: number(
                "WRITE_MAX_ATTEMPTS",
                u64::from(defaults.max_attempts),
                1000,
                "attempts",
            )?
            .max(1) as u32,
            poll_ms: defaults.poll_ms,
            budget: number(
                "WRITE_SUBREQUEST_BUDGET",
                u64::from(defaults.budget),
                10_000,
                "requests",
            )?
            .max(u64::from(crate::writer::flush::MIN_FLUSH_COST)) as u32,
            max_thread_bytes: number(
                "MAX_THREAD_BYTES",
                defaults.max_thread_bytes as u64,
                100 << 20,
                "bytes",
            )? as usize,
        };
        let github_timeout_ms = number(
            "GITHUB_TIMEOUT_SECONDS",
            DEFAULT_GITHUB_TIMEOUT_SECONDS,
            300,
            "seconds",
        )?
        .max(1)
            * 1000;
        let not_found_cache_seconds = number(
            "NOT_FOUND_CACHE_SECONDS",
            DEFAULT_NOT_FOUND_CACHE_SECONDS,
            MAX_CACHE_TTL_SECONDS,
            "seconds",
        )?;

        Ok(Config {
            repo: Repo {
                owner: owner.to_string(),
                name: name.to_string(),
                branch,
            },
            threads_dir,
            api_base: api_base.trim_end_matches('/').to_string(),
            cache_ttl_seconds,
            github_token,
            tokens,
            allowed_origins,
            writer,
            github_timeout_ms,
            not_found_cache_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TOKENS: &str = r#"{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08": {"user": "mira", "scopes": ["read", "write"]}}"#;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("GITHUB_REPO", "acme/threads"),
            ("GITHUB_TOKEN", "ghp_secret"),
            ("AUTH_TOKENS", TOKENS),
        ]
    }

    #[test]
    fn defaults_apply() {
        let c = Config::from_lookup(lookup(&base())).unwrap();
        assert_eq!(c.repo.branch, "main");
        assert_eq!(c.threads_dir, "");
        assert_eq!(c.api_base, "https://api.github.com");
        assert_eq!(c.cache_ttl_seconds, 30);
        assert!(!format!("{c:?}").contains("ghp_secret"));
    }

    #[test]
    fn every_bad_setting_is_named() {
        let cases: [(&str, &str); 10] = [
            ("GITHUB_REPO", "nope"),
            ("GITHUB_REPO", "a/b/c"),
            ("GITHUB_BRANCH", "a..b"),
            ("THREADS_DIR", "../etc"),
            ("GITHUB_API_BASE", "ftp://x"),
            ("CACHE_TTL_SECONDS", "soon"),
            ("AUTH_TOKENS", "[]"),
            ("ALLOWED_ORIGINS", "example.com"),
            ("WRITE_PACING_MS", "fast"),
            ("WRITE_WAIT_SECONDS", "600"),
        ];
        for (name, value) in cases {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let e = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(e.setting, name, "{value}: {e}");
        }
        for name in ["GITHUB_REPO", "GITHUB_TOKEN", "AUTH_TOKENS"] {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != name);
            let e = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(e.setting, name);
            assert!(e.message.contains("not set"));
        }
    }

    #[test]
    fn origins() {
        let mut pairs = base();
        pairs.push((
            "ALLOWED_ORIGINS",
            "https://a.example, http://localhost:6274/",
        ));
        let c = Config::from_lookup(lookup(&pairs)).unwrap();
        assert!(c.origin_allowed("https://a.example"));
        assert!(c.origin_allowed("http://localhost:6274"));
        assert!(!c.origin_allowed("https://evil.example"));
        assert!(!Config::from_lookup(lookup(&base()))
            .unwrap()
            .origin_allowed("https://a.example"));
    }

    #[test]
    fn threads_dir_is_normalised() {
        let mut pairs = base();
        pairs.push(("THREADS_DIR", "/threads/team/"));
        assert_eq!(
            Config::from_lookup(lookup(&pairs)).unwrap().threads_dir,
            "threads/team"
        );
    }
}
